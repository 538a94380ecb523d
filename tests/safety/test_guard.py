"""bot.safety.guard with the learned danger detector: a danger in any language becomes
`emergency`; the intent classifier's `emergency` needs the detector's confirmation."""

from __future__ import annotations

import pytest
from rasa.shared.nlu.training_data.message import Message

from bot.safety.detector import DangerModel
from bot.safety.guard import EmergencyGuard


@pytest.fixture(scope="module")
def guard(danger_model: DangerModel) -> EmergencyGuard:
    return EmergencyGuard({}, danger_model)


def entities(m: Message) -> dict[str, str]:
    return {e["entity"]: e["value"] for e in m.get("entities") or []}


def parsed(guard: EmergencyGuard, text: str, ranking: list[tuple[str, float]]) -> Message:
    m = Message(data={"text": text})
    m.set("intent", {"name": ranking[0][0], "confidence": ranking[0][1]})
    m.set("intent_ranking", [{"name": n, "confidence": c} for n, c in ranking])
    guard.process([m])
    return m


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("Mijn man is bewusteloos en ademt bijna niet", "general"),
        ("Ich habe Brustschmerzen, die in den linken Arm ausstrahlen", "general"),
        ("I took too many sleeping pills", "poison"),
        ("Ik zie het niet meer zitten, ik wil niet meer leven", "suicide"),
    ],
)
def test_a_danger_in_another_language_is_an_emergency(
    guard: EmergencyGuard, text: str, kind: str
) -> None:
    m = parsed(guard, text, [("operations", 0.4), ("er_when", 0.3)])
    assert m.get("intent") == {"name": "emergency", "confidence": 1.0}
    assert entities(m)["danger"] == kind


@pytest.mark.parametrize(
    ("text", "who", "language"),
    [
        ("je suis seule et je n'arrive plus à respirer, j'ai les lèvres bleues", "self", "fr"),
        ("my wife collapsed in the kitchen and she is not breathing", "present", "en"),
        (
            "mein Freund hat mir geschrieben, dass er sich heute Nacht umbringt, und geht "
            "nicht mehr ans Telefon",
            "far",
            "de",
        ),
    ],
)
def test_a_danger_carries_who_and_the_language(
    guard: EmergencyGuard, text: str, who: str, language: str
) -> None:
    m = parsed(guard, text, [("operations", 0.4), ("er_when", 0.3)])
    assert m.get("intent")["name"] == "emergency"
    assert entities(m)["danger_who"] == who
    assert entities(m)["language"] == language


def test_a_near_miss_keeps_its_intent_and_is_marked_for_the_closing_line(
    guard: EmergencyGuard,
) -> None:
    text = "mon père n'a pas de douleur à la poitrine, il veut juste savoir si son rdv cardio tient"
    m = parsed(guard, text, [("consultation_status", 0.7), ("er_when", 0.1)])
    assert m.get("intent")["name"] == "consultation_status"
    assert "danger_scope" in entities(m)
    assert "danger" not in entities(m)


def test_an_ordinary_question_has_no_safety_entity(guard: EmergencyGuard) -> None:
    m = parsed(
        guard, "est-ce que ma consultation de mardi est maintenue ?", [("consultation_status", 0.9)]
    )
    assert not entities(m)


def test_an_unconfirmed_classifier_emergency_keeps_the_next_intent(guard: EmergencyGuard) -> None:
    m = parsed(
        guard,
        "mon fils a un peu de fièvre mais il mange bien",
        [("emergency", 0.5), ("gp_oncall", 0.3), ("er_when", 0.1)],
    )
    assert m.get("intent") == {"name": "gp_oncall", "confidence": 0.3}
    assert [r["name"] for r in m.get("intent_ranking")] == ["gp_oncall", "er_when"]
    assert "danger" not in entities(m)


def test_an_unconfirmed_emergency_with_nothing_likely_after_it_is_not_understood(
    guard: EmergencyGuard,
) -> None:
    text = "ça ne saigne plus du tout, c'était juste une petite coupure"
    m = parsed(guard, text, [("emergency", 0.9), ("thank", 0.05)])
    assert m.get("intent")["name"] == "nlu_fallback"


def test_a_confirmed_classifier_emergency_stands(guard: EmergencyGuard) -> None:
    m = parsed(guard, "aidez moi il ne respire plus bien", [("emergency", 0.8), ("er_when", 0.1)])
    assert m.get("intent")["name"] == "emergency"


def test_the_patterns_need_no_model() -> None:
    m = Message(data={"text": "il a bu de la javel"})
    EmergencyGuard({}, None).process([m])
    assert m.get("intent")["name"] == "emergency"


def test_a_danger_told_in_the_past_gets_the_answer_to_the_question(guard: EmergencyGuard) -> None:
    text = "mon père a fait un AVC il y a trois ans, son suivi en neurologie est maintenu ?"
    m = parsed(guard, text, [("consultation_status", 0.7), ("er_when", 0.1)])
    assert m.get("intent")["name"] == "consultation_status"


def test_a_danger_now_after_an_old_one_is_an_emergency(guard: EmergencyGuard) -> None:
    text = "il a fait un infarctus en 2019 et là il a de nouveau une douleur dans la poitrine qui serre"
    m = parsed(guard, text, [("consultation_status", 0.7), ("er_when", 0.1)])
    assert m.get("intent")["name"] == "emergency"
