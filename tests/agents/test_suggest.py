"""From Rasa's classification to the agent's answer: the rules mapping (the real data/rules),
the real content file, alternatives, emergencies and two-question messages."""

from __future__ import annotations

import pytest

from bot.agents.suggest import build_suggestion, fact_summaries, intent_label, rules_answers
from bot.content.store import ContentStore
from bot.settings import ROOT
from tests.agents.fake_rasa import classify, ranked


@pytest.fixture
def inputs():
    store = ContentStore(ROOT / "locales" / "fr" / "answers.yml", ROOT / "locales" / "facts.yml")
    content = store.current()
    assert content is not None
    return content, rules_answers(ROOT / "data" / "rules"), fact_summaries(store.facts_path)


def suggest(inputs, text: str, result=None):
    content, rules, facts = inputs
    return build_suggestion(text, result or classify(text), content, rules, facts)


def test_rules_mapping_from_the_project_rules() -> None:
    rules = rules_answers(ROOT / "data" / "rules")
    assert rules["er_when"] == ("utter_er_when",)
    assert rules["emergency"] == ("utter_emergency",)
    assert rules["nlu_fallback"] == ("utter_fallback",)
    assert rules["pregnancy+radiology"] == ("utter_pregnancy", "utter_radiology")
    # Every answer the rules give exists in the content file.
    store = ContentStore(ROOT / "locales" / "fr" / "answers.yml", ROOT / "locales" / "facts.yml")
    content = store.current()
    assert content is not None
    assert {k for keys in rules.values() for k in keys} <= set(content.answers)


def test_the_answer_the_patient_would_get(inputs) -> None:
    s = suggest(inputs, "les urgences sont ouvertes ?")
    content = inputs[0]
    assert s["answer"] == content.get("utter_er_when").text.strip()
    assert s["sources"] == ["F7", "S1"] and s["facts"][0]["summary"].startswith("Pas d'urgences")
    assert s["answer_keys"] == ["utter_er_when"] and s["intent_label"] == "Quand aller aux urgences"


def test_two_questions_in_one_message(inputs) -> None:
    s = suggest(inputs, "grossesse et radio")
    content = inputs[0]
    assert s["answer"] == (
        content.get("utter_pregnancy").text.strip()
        + "\n\n"
        + content.get("utter_radiology").text.strip()
    )
    expected = list(content.get("utter_pregnancy").facts)
    expected += [f for f in content.get("utter_radiology").facts if f not in expected]
    assert s["sources"] == expected and "F8" in expected and "F11" in expected
    # The next best are the two single intents; the same answer is never offered twice.
    assert [a["intent"] for a in s["alternatives"]] == ["pregnancy", "radiology"]


def test_emergency_variant_follows_the_danger(inputs) -> None:
    s = suggest(inputs, "il a des idées suicidaires")
    assert s["emergency"] and s["danger"] == "suicide"
    assert "0800/32.123" in s["answer"]  # the suicide-prevention line of the variant


def test_alternatives_skip_intents_without_an_answer_and_duplicates(inputs) -> None:
    result = {
        "text": "x",
        "intent": {"name": "er_when", "confidence": 0.5},
        "entities": [],
        "intent_ranking": ranked(
            ("er_when", 0.5), ("nlu_fallback", 0.2), ("unknown_intent", 0.1),
            ("er_when", 0.1), ("gp_oncall", 0.05), ("bertrix", 0.04), ("radiology", 0.01),
        ),
    }  # fmt: skip
    s = suggest(inputs, "x", result)
    assert [a["intent"] for a in s["alternatives"]] == ["gp_oncall", "bertrix"]


def test_an_intent_without_a_rule_falls_to_the_next(inputs) -> None:
    result = {
        "text": "x",
        "intent": {"name": "consultation_lookup", "confidence": 0.9},
        "entities": [],
        "intent_ranking": ranked(("consultation_lookup", 0.9), ("consultation_status", 0.05)),
    }
    s = suggest(inputs, "x", result)
    assert s["intent"] == "consultation_status" and s["confidence"] == 0.05
    # The patient's own appointment: the agent is pointed to the lookup.
    assert "Retrouver une consultation" in s["hint"]


def test_labels() -> None:
    assert intent_label("pregnancy+radiology") == "Grossesse + Radiologie et examens"
    assert intent_label("something_new") == "something_new"
