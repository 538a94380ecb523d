"""bot.safety.detector: the learned danger detector, measured on the held-out files of the five
languages (tests/safety/heldout_<lang>.yml, never in its training data) and on ordinary
questions, together with the patterns, as the safety guard uses them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.safety import FAR, GENERAL, POISON, PRESENT, SELF, SUICIDE
from bot.safety.detector import (
    DEFAULT_THRESHOLD,
    DangerModel,
    corpus_fingerprint,
    prepare,
    tells_of_the_past,
)
from bot.safety.guard import EmergencyGuard
from bot.safety.patterns import detect_danger
from bot.settings import ROOT

LANGUAGES = ("fr", "nl", "de", "en", "lb")
# Measured when this test was written, the intent classifier aside: every held-out danger
# caught (fr 50, nl 49, de 50, en 50, lb 49); near-misses flagged: fr 1/48, nl 4/48, de 2/50,
# en 4/51, lb 3/49. The floor a change of the corpus or the model must keep (the end-to-end
# measure, with the intent classifier, is tests/live/test_safety_heldout.py).
RECALL_AT_LEAST = {"fr": 50, "nl": 49, "de": 50, "en": 50, "lb": 49}
FLAGGED_AT_MOST = {"fr": 2, "nl": 5, "de": 3, "en": 5, "lb": 4}


@pytest.fixture(scope="module")
def model(danger_model: DangerModel) -> DangerModel:
    return danger_model


def guarded(model: DangerModel, text: str) -> bool:
    """What the safety guard decides without the intent classifier: the model at its
    threshold, or a pattern the model does not veto."""
    return EmergencyGuard({}, model).danger_kind(text) is not None


def heldout(language: str) -> dict[str, Any]:
    path = ROOT / "tests" / "safety" / f"heldout_{language}.yml"
    return yaml.safe_load(path.read_text(encoding="utf-8"))


@pytest.mark.parametrize("language", LANGUAGES)
def test_dangers_are_caught_in_every_language_and_near_misses_mostly_not(
    model: DangerModel, language: str
) -> None:
    data = heldout(language)
    caught = [x["text"] for x in data["danger"] if guarded(model, x["text"])]
    flagged = [x["text"] for x in data["not_danger"] if guarded(model, x["text"])]
    assert len(caught) >= RECALL_AT_LEAST[language], (len(caught), len(data["danger"]))
    assert len(flagged) <= FLAGGED_AT_MOST[language], flagged


def test_ordinary_questions_are_never_taken_for_a_danger(model: DangerModel) -> None:
    """The patient question sets and the held-out NLU file, emergencies left out."""
    texts = []
    for path in sorted((ROOT / "tests" / "questions").glob("*.yml")):
        cases = yaml.safe_load(path.read_text(encoding="utf-8"))["cases"]
        texts += [
            t for name, case in cases.items() if "emergency" not in name for t in case["texts"]
        ]
    for item in yaml.safe_load((ROOT / "tests" / "nlu" / "heldout.yml").read_text("utf-8"))["nlu"]:
        if item.get("intent") not in (None, "emergency"):
            texts += [x.strip()[2:] for x in item["examples"].splitlines() if x.strip()]
    flagged = [
        t
        for t in texts
        if detect_danger(t) is None and model.assess(t).probability >= DEFAULT_THRESHOLD
    ]
    assert not flagged


def test_the_kind_picks_the_words_of_the_answer(model: DangerModel) -> None:
    assert (
        model.assess("Ik zie het echt niet meer zitten, ik wil er een einde aan maken").kind
        == SUICIDE
    )
    assert model.assess("my toddler drank some bleach from the bottle").kind == POISON
    assert model.assess("Mein Vater ist umgekippt und atmet kaum noch").kind == GENERAL


@pytest.mark.parametrize(
    ("text", "who"),
    [
        ("je n'en peux plus, j'ai préparé les cachets pour ce soir", SELF),
        ("my husband collapsed in the garden and he is not breathing", PRESENT),
        ("mijn broer stuurde een afscheidsbericht en neemt zijn telefoon niet meer op", FAR),
    ],
)
def test_the_model_tells_who_is_in_danger(model: DangerModel, text: str, who: str) -> None:
    assert model.who(model.assess(text)) == who


def test_a_near_miss_has_its_reason(model: DangerModel) -> None:
    assessment = model.assess("mon chien a mangé du chocolat, il vomit")
    assert assessment.probability < DEFAULT_THRESHOLD
    assert assessment.reason == "scope:animal"


def test_texts_are_read_the_same_in_every_language() -> None:
    assert prepare("  L’ÉTÉ   à Arlon ") == " lete a arlon "
    assert prepare("Hëllef, mäi Mann") == " hellef, mai mann "


def test_the_fingerprint_follows_the_corpus(tmp_path: Path) -> None:
    (tmp_path / "xx.yml").write_text("language: xx\ndanger: []\nnot_danger: []\n", "utf-8")
    before = corpus_fingerprint(tmp_path)
    assert corpus_fingerprint(tmp_path) == before
    (tmp_path / "xx.yml").write_text("language: xx\ndanger: []\nnot_danger: [] \n", "utf-8")
    assert corpus_fingerprint(tmp_path) != before


@pytest.mark.parametrize(
    "text",
    [
        "mon père a fait un AVC il y a trois ans",
        "en 2017 j'ai été poignardé",
        "l'hiver dernier toute la famille a été intoxiquée au CO",
        "I had a heart attack 5 years ago",
        "vor 5 Jahren hatte ich einen Herzinfarkt",
        "vorig jaar had ik een hartaanval",
    ],
)
def test_an_event_told_in_the_past(text: str) -> None:
    assert tells_of_the_past(text)


def test_a_danger_now_is_not_told_in_the_past() -> None:
    assert not tells_of_the_past("il y a du sang partout, il ne respire plus")
    assert not tells_of_the_past("my dad collapsed five minutes ago")
