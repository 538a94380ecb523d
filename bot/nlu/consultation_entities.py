"""Appointment references and dates of birth in a patient's message, as Rasa entities.

Rule-based (`bot.consultations.normalize`), nothing to train:

- `reference`: "C-22-004512", "c 22 004512", "C22004512" ... -> the canonical reference
  ("C22004512");
- `birth_date`: "14/02/1961", "14-02-1961", "14.02.1961", "1961-02-14", "14 février 1961",
  "née le 3/4/75" ... -> the ISO date ("1961-02-14"); a date-shaped text that is not a possible
  date of birth (31/02/1990, a future date, a two-digit year that could be 19xx or 20xx) ->
  "invalid", so that the form can say so instead of asking the same question again.

The identifiers also settle the intent, which a word classifier cannot: a message that is only a
reference and/or a date ("C-22-9100013", "née le 3/4/75") is `inform`; a message with a
reference is `consultation_lookup` ("mon rdv C-22-004512 est maintenu ?"), and so is the generic
consultation question when it gives a date *of birth* ("maintenu ? née le 14/02/1961"). A date
alone in another question ("mon IRM du 14/02/2022") changes nothing.

Runs after the intent classifier (and the topic booster), before the FallbackClassifier; the
EmergencyGuard comes after it and still has the last word.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.nlu.constants import (
    ENTITIES,
    ENTITY_ATTRIBUTE_END,
    ENTITY_ATTRIBUTE_START,
    ENTITY_ATTRIBUTE_TYPE,
    ENTITY_ATTRIBUTE_VALUE,
    EXTRACTOR,
    INTENT,
    INTENT_NAME_KEY,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message

from bot.consultations.normalize import (
    REFERENCE_RE,
    find_birth_date,
    find_reference,
    fold,
    looks_like_date,
    parse_birth_date,
)
from bot.nlu.base import RuleComponent
from bot.nlu.ranking import promote
from bot.privacy.redaction import BIRTH_DATE, identifier_spans

REFERENCE_ENTITY = "reference"
BIRTH_DATE_ENTITY = "birth_date"
INVALID_DATE = "invalid"

LOOKUP_INTENT = "consultation_lookup"
INFORM_INTENT = "inform"
STATUS_INTENT = "consultation_status"

# Words that may come with the identifiers in a message that gives nothing else.
FILLER_WORDS = frozenset(
    {
        "a", "ai", "alors", "bjr", "bonjour", "bonsoir", "c", "ce", "cest", "consultation",
        "convocation", "d", "date", "ddn", "de", "donc", "du", "est", "et", "j", "je", "jai", "l",
        "la", "le", "ma", "madame", "merci", "moi", "mon", "monsieur", "n", "naissance", "ne",
        "nee", "nees", "nes", "no", "num", "numero", "ok", "oui", "plait", "pour", "rdv", "ref",
        "reference", "rendez", "rendezvous", "s", "sa", "son", "stp", "suis", "svp", "vous",
        "voici", "voila",
    }
)  # fmt: skip
_WORDS = re.compile(r"[a-z0-9]+")
# "né(e)(s)", "naissance", "DDN": what introduces a date of birth (on lower-case text; without
# its accent only the feminine "nee", since "ne" is also the negation).
_BIRTH_CUE = re.compile(r"(?<!\w)(?:née?s?|nees?|naissance|ddn)(?!\w)")


@dataclass(frozen=True)
class Identifiers:
    reference: str | None  # canonical
    reference_span: tuple[int, int] | None
    birth_date: str | None  # ISO, or INVALID_DATE
    birth_date_span: tuple[int, int] | None
    birth_cue: bool  # the message says the date is a date of birth
    only_identifiers: bool  # nothing else of substance in the message

    @property
    def any(self) -> bool:
        return self.reference is not None or self.birth_date is not None


def find_identifiers(text: str) -> Identifiers:
    """The reference and the date of birth of a message (see the module docstring)."""
    spans = identifier_spans(text)
    reference = find_reference(text)
    reference_span = next((m.span() for m in REFERENCE_RE.finditer(fold(text))), None)
    if reference is not None and reference_span is None:  # NFKC made the difference
        reference_span = (0, len(text))
    date_spans = [(s, e) for s, e, kind in spans if kind == BIRTH_DATE]
    value = parse_birth_date(text) or find_birth_date(text)
    birth_date: str | None
    if value is not None:
        birth_date = value.isoformat()
    elif date_spans and looks_like_date(text):
        birth_date = INVALID_DATE
    else:
        birth_date = None
    birth_date_span = (date_spans[0] if date_spans else (0, len(text))) if birth_date else None

    rest = text
    for start, end, _ in sorted(spans, reverse=True):
        rest = rest[:start] + " " + rest[end:]
    only = bool(spans) and all(w in FILLER_WORDS for w in _WORDS.findall(fold(rest)))
    return Identifiers(
        reference=reference,
        reference_span=reference_span,
        birth_date=birth_date,
        birth_date_span=birth_date_span,
        birth_cue=_BIRTH_CUE.search(text.lower()) is not None,
        only_identifiers=only and (reference is not None or birth_date is not None),
    )


def lookup_intent(intent: str | None, ids: Identifiers) -> str | None:
    """The intent the identifiers give the message, or None to keep the classifier's."""
    if not ids.any:
        return None
    new = None
    if ids.only_identifiers:
        new = INFORM_INTENT
    elif ids.reference is not None or (intent == STATUS_INTENT and ids.birth_cue):
        new = LOOKUP_INTENT
    return new if new != intent else None


def _entity(kind: str, value: str, span: tuple[int, int], extractor: str) -> dict[str, Any]:
    return {
        ENTITY_ATTRIBUTE_TYPE: kind,
        ENTITY_ATTRIBUTE_VALUE: value,
        ENTITY_ATTRIBUTE_START: span[0],
        ENTITY_ATTRIBUTE_END: span[1],
        EXTRACTOR: extractor,
    }


@DefaultV1Recipe.register(
    [
        DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR,
        DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER,
    ],
    is_trainable=False,
)
class ConsultationEntityExtractor(RuleComponent):
    """`reference` and `birth_date` entities, and the intent they imply (module docstring)."""

    def process(self, messages: list[Message]) -> list[Message]:
        name = self.__class__.__name__
        for message in messages:
            ids = find_identifiers(message.get(TEXT) or "")
            if not ids.any:
                continue
            entities = [
                e
                for e in (message.get(ENTITIES) or [])
                if e.get(ENTITY_ATTRIBUTE_TYPE) not in (REFERENCE_ENTITY, BIRTH_DATE_ENTITY)
            ]
            if ids.reference is not None and ids.reference_span is not None:
                entities.append(_entity(REFERENCE_ENTITY, ids.reference, ids.reference_span, name))
            if ids.birth_date is not None and ids.birth_date_span is not None:
                entities.append(
                    _entity(BIRTH_DATE_ENTITY, ids.birth_date, ids.birth_date_span, name)
                )
            message.set(ENTITIES, entities, add_to_output=True)

            intent = lookup_intent((message.get(INTENT) or {}).get(INTENT_NAME_KEY), ids)
            if intent is not None:
                promote(message, intent, 1.0)
        return messages
