"""The custom NLU graph components, on Rasa Message objects."""

from __future__ import annotations

from pathlib import Path

import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlu.classifier import CrisisIntentClassifier
from bot.nlu.topic_booster import TopicBooster, corrected_intent
from bot.safety.guard import EmergencyGuard


def message(text: str, intent: str | None = None, confidence: float = 0.0, ranking=None) -> Message:
    m = Message(data={"text": text})
    if intent is not None:
        m.set("intent", {"name": intent, "confidence": confidence})
        m.set("intent_ranking", ranking or [{"name": intent, "confidence": confidence}])
    return m


def context() -> ExecutionContext:
    return ExecutionContext(GraphSchema({}), "test")


def test_the_guard_overrides_any_verdict_for_a_danger_to_life(tmp_path: Path) -> None:
    guard = EmergencyGuard.create({}, LocalModelStorage(tmp_path), Resource("g"), context())
    m = message("j'ai mal à la poitrine, les urgences sont ouvertes ?", "er_when", 0.97)
    guard.process([m])
    assert m.get("intent") == {"name": "emergency", "confidence": 1.0}
    assert m.get("intent_ranking")[0]["name"] == "emergency"
    assert {"entity": "danger", "value": "general"}.items() <= m.get("entities")[0].items()


@pytest.mark.parametrize(
    ("text", "kind"), [("je veux en finir", "suicide"), ("il a bu de la javel", "poison")]
)
def test_the_guard_names_the_kind_of_danger(tmp_path: Path, text: str, kind: str) -> None:
    guard = EmergencyGuard.create({}, LocalModelStorage(tmp_path), Resource("g"), context())
    m = message(text, "nlu_fallback", 0.2)
    guard.process([m])
    assert m.get("intent")["name"] == "emergency"
    assert {e["entity"]: e["value"] for e in m.get("entities")}["danger"] == kind


def test_the_guard_leaves_ordinary_questions_alone(tmp_path: Path) -> None:
    guard = EmergencyGuard.create({}, LocalModelStorage(tmp_path), Resource("g"), context())
    m = message("les urgences sont ouvertes ?", "er_when", 0.9)
    guard.process([m])
    assert m.get("intent")["name"] == "er_when"
    assert not m.get("entities")


def test_a_classifier_emergency_gets_the_general_words(tmp_path: Path) -> None:
    guard = EmergencyGuard.create({}, LocalModelStorage(tmp_path), Resource("g"), context())
    m = message("aidez moi vite", "emergency", 0.8)
    guard.process([m])
    assert {e["entity"]: e["value"] for e in m.get("entities")}["danger"] == "general"


def test_topic_correction_rules() -> None:
    known = {
        "radiology",
        "essential_followup",
        "consultation_status",
        "essential_followup+radiology",
    }
    # two topics -> the multi-intent, from a generic or a matching single verdict
    assert (
        corrected_intent("consultation_status", {"essential_followup", "radiology"}, known)
        == "essential_followup+radiology"
    )
    assert (
        corrected_intent("radiology", {"essential_followup", "radiology"}, known)
        == "essential_followup+radiology"
    )
    # a generic verdict with one topic word -> that topic
    assert corrected_intent("consultation_status", {"radiology"}, known) == "radiology"
    # an unsure multi-intent verdict that the topic words confirm is made firm
    assert (
        corrected_intent("essential_followup+radiology", {"essential_followup", "radiology"}, known)
        == "essential_followup+radiology"
    )
    assert corrected_intent("nlu_fallback", {"radiology"}, known) == "radiology"
    # a confident specific verdict is kept ("les résultats de mon scanner")
    assert corrected_intent("no_validated_info", {"radiology"}, known) is None
    # ...unless the classifier is unsure
    assert corrected_intent("no_validated_info", {"radiology"}, known, unsure=True) == "radiology"
    assert corrected_intent("greet", set(), known) is None


def test_the_booster_keeps_a_distribution_without_a_tie() -> None:
    booster = TopicBooster({})
    ranking = [
        {"name": "essential_followup", "confidence": 0.6},
        {"name": "radiology", "confidence": 0.3},
        {"name": "greet", "confidence": 0.1},
    ]
    m = message("mon plâtre et mon IRM", "essential_followup", 0.6, ranking)
    booster.process([m])
    result = m.get("intent_ranking")
    assert result[0] == {"name": "essential_followup+radiology", "confidence": 0.9}
    assert sum(r["confidence"] for r in result) == pytest.approx(1.0)
    assert result[0]["confidence"] - result[1]["confidence"] > 0.5


def test_the_classifier_trains_persists_and_predicts(tmp_path: Path) -> None:
    examples = {
        "radiology": ["mon irm est maintenue", "scanner prevu lundi", "radio du genou demain"],
        "er_when": ["je peux venir aux urgences", "les urgences sont ouvertes", "urgences entorse"],
        "greet": ["bonjour", "salut", "bonsoir"],
    }
    data = TrainingData(
        [Message(data={"text": t, "intent": i}) for i, ts in examples.items() for t in ts]
    )
    storage = LocalModelStorage(tmp_path)
    resource = Resource("classifier")
    classifier = CrisisIntentClassifier.create({}, storage, resource, context())
    classifier.train(data)
    loaded = CrisisIntentClassifier.load({}, storage, resource, context())
    m = message("Mon IRM de jeudi ?")
    loaded.process([m])
    assert m.get("intent")["name"] == "radiology"
    assert len(m.get("intent_ranking")) == 3
    # words never seen in training: the confidence drops below any sensible threshold
    g = message("xqzt blorp wvvk")
    loaded.process([g])
    assert g.get("intent")["confidence"] < 0.05


def test_the_pipeline_component_runs_the_steps_in_order(tmp_path: Path) -> None:
    """bot.nlu.pipeline.CrisisNLU: classifier, topic booster, consultation entities, fallback,
    then the safety guard, with each step's options from its key; trained and loaded back."""
    from rasa.nlu.classifiers.fallback_classifier import FallbackClassifier

    from bot.nlu.consultation_entities import ConsultationEntityExtractor
    from bot.nlu.pipeline import CrisisNLU

    examples = {
        "radiology": ["mon irm est maintenue", "scanner prevu lundi", "radio du genou demain"],
        "er_when": ["je peux venir aux urgences", "les urgences sont ouvertes", "urgences entorse"],
        "greet": ["bonjour", "salut", "bonsoir"],
        "consultation_lookup": ["ma consultation est maintenue ?", "verifier mon rendez-vous"],
    }
    data = TrainingData(
        [Message(data={"text": t, "intent": i}) for i, ts in examples.items() for t in ts]
    )
    storage, resource = LocalModelStorage(tmp_path), Resource("nlu")
    config = {"fallback": {"threshold": 0.3}}
    CrisisNLU.create(config, storage, resource, context()).train(data)
    nlu = CrisisNLU.load(config, storage, resource, context())
    kinds = [type(s) for s in nlu.steps]
    assert kinds == [
        CrisisIntentClassifier, TopicBooster, ConsultationEntityExtractor, FallbackClassifier,
        EmergencyGuard,
    ]  # fmt: skip
    assert nlu.steps[3].component_config["threshold"] == 0.3

    irm, gibberish, danger, ref = (
        message(t)
        for t in (
            "Mon IRM de jeudi ?",
            "xqzt blorp wvvk",
            "j'ai mal à la poitrine, les urgences sont ouvertes ?",
            "ma référence C-22-9100013",
        )
    )
    nlu.process([irm, gibberish, danger, ref])
    assert irm.get("intent")["name"] == "radiology"
    assert gibberish.get("intent")["name"] == "nlu_fallback"  # the fallback step
    assert danger.get("intent") == {"name": "emergency", "confidence": 1.0}  # the guard, last
    assert "reference" in [e["entity"] for e in ref.get("entities")]
