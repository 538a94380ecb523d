"""A learned danger detector beside the patterns, in the five languages of the province's public.

The patterns (`bot.safety.patterns`) are French and precise; they cannot see a danger told in
Dutch, German, English or Luxembourgish, nor one described without the words they look for,
and they cannot see a negation, the past or an animal. This model reads the whole message:
word uni- and bigrams over a language-neutral normalisation (accents and case folded), two
markers (the patterns matched; the message tells of the past), then one multinomial logistic
regression whose classes are finer than "danger or not":
- a danger to life now, by kind: suicide (self-harm included), poisoning, any other danger;
- a near-miss, by scope: negation, past, animal, trivial, question, figurative;
- an ordinary message (the intent examples of the NLU).
Finer classes give a linear model several regions instead of one boundary: on the held-out
files, at the same recall, a third of the false alarms of a danger/no-danger model.
P(danger) is the sum of the danger classes. A second, smaller model says who is in danger
(the writer, someone with them, someone far away), for the words of the 112 answer.

It learns from two sources of the project, nothing downloaded:
- the safety corpus, `corpus/safety/<lang>.yml` (dangers with kind and who; near-misses with
  their scope);
- the intent examples of `data/nlu/` (French), so that "au revoir et merci" is not taken for a
  farewell letter.

Pure: no Rasa import; scikit-learn only at training time (predictions use `FastIntentModel`).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import yaml

from bot.nlu.fast_predict import FastIntentModel
from bot.safety import EMERGENCY_INTENT, GENERAL, POISON, SUICIDE
from bot.safety.patterns import detect_danger
from bot.text import strip_accents

DANGER_PREFIX = "danger:"
SCOPE_PREFIX = "scope:"
ORDINARY = "ordinary"
# the corpus's kinds -> the kinds the 112 answer has words for (self-harm: the suicide words,
# with the prevention line)
KINDS = {"suicide": SUICIDE, "self_harm": SUICIDE, "poison": POISON, "general": GENERAL}
DEFAULT_THRESHOLD = 0.42


class Example(NamedTuple):
    text: str
    label: str  # DANGER_PREFIX + kind, SCOPE_PREFIX + scope, or ORDINARY
    who: str | None  # for a danger of the corpus


_APOSTROPHES = re.compile(r"['’`´]")
_SPACES = re.compile(r"\s+")
_ANNOTATION = re.compile(r"\[([^\]]*)\]\([^)]*\)|\[([^\]]*)\]\{[^}]*\}")


def prepare(text: str) -> str:
    """Lower case, no accents, apostrophes dropped, spaces folded: the same for every language
    (the French SMS expansions of `bot.text.normalize` would spoil Dutch or English)."""
    folded = _APOSTROPHES.sub("", strip_accents(text.lower()))
    return " " + _SPACES.sub(" ", folded).strip() + " "


# An event told in the past: "il y a trois ans", "en 2017", "l'hiver dernier", "5 years ago",
# "vor 5 Jahren", "vorig jaar", "viru 5 Joer" (on `prepare`d text). A pattern's danger words in
# such a message ("mon père a fait un AVC il y a trois ans, son suivi est maintenu ?") are the
# past, unless the model reads a danger now.
_PAST = re.compile(
    r"\b(?:il y a|y a|ya) (?:\d+|deux|trois|quatre|cinq|six|sept|huit|neuf|dix|quelques|plusieurs)"
    r" (?:ans?|annees?|mois)\b"
    r"|\ben (?:19|20)\d\d\b"
    r"|\ben (?:janvier|fevrier|mars|avril|mai|juin|juillet|aout|septembre|octobre|novembre|decembre)\b"
    r"|\b(?:l|cet|cette|ce) ?(?:hiver|ete|automne|printemps|an|annee) (?:dernier|derniere|passe|passee)\b"
    r"|\bquand j etais\b"
    r"|\b\d+ (?:years?|jaar|jahren?|joer) (?:ago|geleden)\b"
    r"|\bvor \d+ (?:jahren|monaten)\b"
    r"|\blast (?:year|winter|summer|spring|month)\b"
    r"|\bvorige? (?:jaar|winter|zomer|maand)\b"
    r"|\bletzte[ns]? (?:jahr|winter|sommer|monat)\b"
    r"|\bim (?:fruhling|fruhjahr|sommer|winter|herbst)\b"
    r"|\bvirum? \w+ (?:joer|joeren)\b"
)


def tells_of_the_past(text: str) -> bool:
    """Whether the message places an event in the past (a date, "years ago", "last winter")."""
    return _PAST.search(prepare(text)) is not None


# the markers `features_text` adds (words no language has)
MARK_PREFIX = "zz"
PATTERN_MARK = MARK_PREFIX + "pattern"
PAST_MARK = MARK_PREFIX + "past"


@dataclass(frozen=True)
class Assessment:
    probability: float  # of a danger to life now
    kind: str  # the most likely kind of danger (SUICIDE, POISON or GENERAL)
    reason: str  # the most likely class that is not a danger: a near-miss SCOPE or ORDINARY
    pattern: str | None  # the kind the French patterns found, or None
    features: str  # what the models read (for `DangerModel.who`)


def features_text(text: str, pattern: str | None) -> str:
    """What the model reads: the prepared text, and two markers: the patterns matched, the
    message tells of the past. The model learns how much each weighs beside the words (the
    patterns also match "il n'a pas de douleur thoracique")."""
    prepared = prepare(text)
    marks = (f"{PATTERN_MARK} " if pattern else "") + (
        f"{PAST_MARK} " if _PAST.search(prepared) else ""
    )
    return prepared + marks


class DangerModel:
    """The fitted models: `assess(text)`; `pipelines` is what is saved (scikit-learn)."""

    def __init__(self, pipelines: dict[str, Any]) -> None:
        if not isinstance(pipelines, dict) or set(pipelines) != {"danger", "who"}:
            raise ValueError("not a danger model of this version")
        self.pipelines = pipelines
        fast = FastIntentModel.from_pipeline(pipelines["danger"])
        fast_who = FastIntentModel.from_pipeline(pipelines["who"])
        if fast is None or fast_who is None:  # pragma: no cover - build_pipeline's are exact
            raise ValueError("the danger model's pipeline cannot be predicted exactly")
        self._fast, self._who = fast, fast_who
        classes = [str(c) for c in fast.classes_]
        self._dangers = [
            (i, c[len(DANGER_PREFIX) :])
            for i, c in enumerate(classes)
            if c.startswith(DANGER_PREFIX)
        ]
        self._danger_columns = [i for i, _ in self._dangers]
        self._others = [(i, c) for i, c in enumerate(classes) if not c.startswith(DANGER_PREFIX)]
        self._who_classes = [str(c) for c in fast_who.classes_]
        # the columns that are evidence: a known word (not a number, not a marker)
        self._evidence = np.zeros(fast.coef.shape[1], dtype=bool)
        for part in fast.parts:
            for term, column in part.vocabulary.items():
                if any(c.isalpha() for c in term) and not term.startswith(MARK_PREFIX):
                    self._evidence[column + part.offset] = True

    def assess(self, text: str) -> Assessment:
        pattern = detect_danger(text)
        pattern_kind = pattern.kind if pattern else None
        prepared = features_text(text, pattern_kind)
        columns, values = self._fast.features(prepared)
        if not self._evidence[columns].any():
            # no word the model has seen ("xqzt blorp wvvk", "6/10/08": numbers are not words):
            # no evidence of anything, and the classes' priors alone must not make a danger
            return Assessment(0.0, GENERAL, ORDINARY, None, prepared)
        probabilities = self._fast.softmax(self._fast.scores_of(columns, values))
        _, kind = max(self._dangers, key=lambda ik: probabilities[ik[0]])
        _, reason = max(self._others, key=lambda ic: probabilities[ic[0]])
        probability = float(probabilities[self._danger_columns].sum())
        return Assessment(probability, pattern_kind or kind, reason, pattern_kind, prepared)

    def who(self, assessment: Assessment) -> str:
        """Who is in danger (SELF, PRESENT or FAR): asked only of a danger, for its words."""
        scores = self._who.predict_proba([assessment.features])[0]
        return self._who_classes[int(np.argmax(scores))]


def corpus_examples(corpus_dir: Path) -> Iterator[Example]:
    """Every message of corpus/safety/*.yml, labelled."""
    for path in sorted(corpus_dir.glob("*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for item in data.get("danger") or []:
            yield Example(str(item["text"]), DANGER_PREFIX + KINDS[item["kind"]], item["who"])
        for item in data.get("not_danger") or []:
            yield Example(str(item["text"]), SCOPE_PREFIX + item["scope"], None)


def intent_examples(examples: Iterable[tuple[str, str]]) -> Iterator[Example]:
    """The NLU's (text, intent) examples: `emergency` is a danger (kind unknown: the general
    words; who unknown: left out of the who model), everything else an ordinary message."""
    for text, intent in examples:
        plain = _ANNOTATION.sub(lambda m: m.group(1) or m.group(2), text)
        if intent == EMERGENCY_INTENT:
            yield Example(plain, DANGER_PREFIX + GENERAL, None)
        else:
            yield Example(plain, ORDINARY, None)


def build_pipeline(random_seed: int = 0) -> Any:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import FeatureUnion, Pipeline

    # Word uni- and bigrams only: with character n-grams as well, no more dangers caught on the
    # held-out files and no fewer false alarms, for five times the time per message (303
    # against 63 microseconds), which the message path's throughput needs.
    features = FeatureUnion(
        [
            (
                "words",
                TfidfVectorizer(
                    analyzer="word",
                    ngram_range=(1, 2),
                    sublinear_tf=True,
                    token_pattern=r"(?u)\b\w+\b",  # noqa: S106 (a regex, not a password)
                ),
            ),
        ]
    )
    model = LogisticRegression(
        C=30, max_iter=3000, class_weight="balanced", random_state=random_seed
    )
    return Pipeline([("features", features), ("model", model)])


def train(examples: Iterable[Example]) -> DangerModel:
    items = list(examples)
    texts = [features_text(e.text, _pattern_kind(e.text)) for e in items]
    danger = build_pipeline()
    danger.fit(texts, [e.label for e in items])
    who = build_pipeline()
    with_who = [(t, e.who) for t, e in zip(texts, items) if e.who]
    who.fit([t for t, _ in with_who], [w for _, w in with_who])
    return DangerModel({"danger": danger, "who": who})


def _pattern_kind(text: str) -> str | None:
    found = detect_danger(text)
    return found.kind if found else None


def corpus_fingerprint(corpus_dir: Path) -> str:
    """A hash of the corpus files, so that Rasa retrains when the corpus changes (Rasa's cache
    only sees the NLU data and the configuration)."""
    digest = hashlib.sha256()
    for path in sorted(corpus_dir.glob("*.yml")):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()
