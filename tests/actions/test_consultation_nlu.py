"""The consultation entity extractor: references and dates of birth as patients type them, the
intent they imply, and the EmergencyGuard still having the last word."""

from __future__ import annotations

import pytest
from rasa.shared.nlu.constants import ENTITIES, INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.nlu.consultation_entities import (
    ConsultationEntityExtractor,
    find_identifiers,
    lookup_intent,
)
from bot.safety.guard import EmergencyGuard


@pytest.mark.parametrize(
    ("text", "reference"),
    [
        ("C-22-9100013", "C229100013"),
        ("c 22 9100013", "C229100013"),
        ("ma référence c'est c 22 9100013", "C229100013"),
        ("mon rdv C-22-004512 est maintenu ? née le 14/02/1961", "C22004512"),
        ("C22004512", "C22004512"),
        ("réf. c22-004-512 svp", "C22004512"),
        ("pas de référence ici, juste 22 9100013", None),
    ],
)
def test_references(text: str, reference: str | None) -> None:
    assert find_identifiers(text).reference == reference


@pytest.mark.parametrize(
    ("text", "birth_date"),
    [
        ("14/02/1961", "1961-02-14"),
        ("14-02-1961", "1961-02-14"),
        ("14.02.1961", "1961-02-14"),
        ("1961-02-14", "1961-02-14"),
        ("14 février 1961", "1961-02-14"),
        ("14 fevrier 1961", "1961-02-14"),
        ("née le 3/4/75", "1975-04-03"),
        ("1er mars 1950", "1950-03-01"),
        ("14021961", "1961-02-14"),
        ("mon rdv C-22-004512 est maintenu ? née le 14/02/1961", "1961-02-14"),
        ("31/02/1990", "invalid"),
        ("14/2/05", "invalid"),
        ("je veux vérifier mon rendez-vous", None),
    ],
)
def test_birth_dates(text: str, birth_date: str | None) -> None:
    assert find_identifiers(text).birth_date == birth_date


@pytest.mark.parametrize(
    ("text", "classifier", "expected"),
    [
        ("C-22-9100013", "nlu_fallback", "inform"),
        ("14 février 1961", "out_of_scope", "inform"),
        ("née le 3/4/75", "greet", "inform"),
        ("ma référence c'est c 22 9100013", "consultation_lookup", "inform"),
        ("mon rdv C-22-004512 est maintenu ? née le 14/02/1961", "consultation_status",
         "consultation_lookup"),
        ("ma consultation est maintenue ? je suis née le 14/02/1961", "consultation_status",
         "consultation_lookup"),
        ("mon rdv en oncologie C-22-9100027, il a lieu ?", "essential_followup",
         "consultation_lookup"),
        # A date that is not said to be a date of birth changes no other question.
        ("mon IRM du 14/02/2022 est maintenue ?", "radiology", None),
        ("mon rendez-vous du 18/05/2022 est maintenu ?", "consultation_status", None),
        ("ma consultation est-elle maintenue ?", "consultation_status", None),
    ],
)  # fmt: skip
def test_the_intent_the_identifiers_imply(text: str, classifier: str, expected: str | None):
    assert lookup_intent(classifier, find_identifiers(text)) == expected


def parsed(text: str, intent: str, confidence: float = 0.4) -> Message:
    message = Message({TEXT: text})
    message.set(INTENT, {"name": intent, "confidence": confidence})
    message.set(INTENT_RANKING_KEY, [{"name": intent, "confidence": confidence}])
    return message


def test_the_component_adds_entities_and_sets_the_intent() -> None:
    text = "mon rdv C-22-004512 est maintenu ? née le 14/02/1961"
    (message,) = ConsultationEntityExtractor().process([parsed(text, "consultation_status")])
    entities = {e["entity"]: e for e in message.get(ENTITIES)}
    assert entities["reference"]["value"] == "C22004512"
    assert text[entities["reference"]["start"] : entities["reference"]["end"]] == "C-22-004512"
    assert entities["birth_date"]["value"] == "1961-02-14"
    assert text[entities["birth_date"]["start"] : entities["birth_date"]["end"]] == "14/02/1961"
    assert message.get(INTENT) == {"name": "consultation_lookup", "confidence": 1.0}
    assert message.get(INTENT_RANKING_KEY)[0]["name"] == "consultation_lookup"


def test_the_component_leaves_other_messages_alone() -> None:
    (message,) = ConsultationEntityExtractor().process([parsed("bonjour", "greet", 0.9)])
    assert not message.get(ENTITIES)
    assert message.get(INTENT) == {"name": "greet", "confidence": 0.9}


def test_the_emergency_guard_still_has_the_last_word() -> None:
    text = "C-22-9100013 née le 14/02/1961, je ne sens plus mon bras et je parle mal"
    messages = ConsultationEntityExtractor().process([parsed(text, "consultation_status")])
    (message,) = EmergencyGuard().process(messages)
    assert message.get(INTENT)["name"] == "emergency"
