"""bot.policies.BoundedRulePolicy predicts exactly what RulePolicy predicts."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from rasa.core.policies.rule_policy import RulePolicy
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.events import ActionExecuted, SessionStarted, UserUttered
from rasa.shared.core.generator import TrainingDataGenerator
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.importers.importer import TrainingDataImporter

from bot.policies import BoundedRulePolicy

ROOT = Path(__file__).resolve().parents[1]
CONFIG = {
    "core_fallback_threshold": 0.3,
    "core_fallback_action_name": "utter_fallback",
    "enable_fallback_prediction": True,
    "restrict_rules": True,
}


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    importer = TrainingDataImporter.load_from_dict(
        domain_path=str(ROOT / "domain"), training_data_paths=[str(ROOT / "data")]
    )
    domain = importer.get_domain()
    trackers = TrainingDataGenerator(
        importer.get_stories(), domain, augmentation_factor=0
    ).generate()
    policies = []
    for cls in (RulePolicy, BoundedRulePolicy):
        storage = LocalModelStorage(tmp_path_factory.mktemp(cls.__name__))
        context = ExecutionContext(GraphSchema({}), "test")
        policy = cls.create(
            {**cls.get_default_config(), **CONFIG}, storage, Resource(cls.__name__), context
        )
        policy.train(trackers, domain)
        policies.append(policy)
    return domain, policies


def predict(policy, tracker, domain) -> tuple:
    p = policy.predict_action_probabilities(tracker, domain)
    return tuple(p.probabilities), p.events, p.is_end_to_end_prediction, p.policy_priority


def test_longest_rule_is_known(trained):
    _, (_, bounded) = trained
    assert 2 <= bounded.longest_rule() < 20


def test_same_predictions_along_long_conversations(trained):
    domain, (rule, bounded) = trained
    intents = [i for i in domain.intents if not i.startswith("session")]
    rng = random.Random(3)
    checked = 0
    for conversation in range(4):
        tracker = DialogueStateTracker.from_events(
            f"c{conversation}",
            [
                ActionExecuted("action_session_start"),
                SessionStarted(),
                ActionExecuted(ACTION_LISTEN_NAME),
            ],
            domain.slots,
        )
        for _ in range(40):
            intent = rng.choice(intents)
            tracker.update(
                UserUttered("...", {"name": intent, "confidence": rng.choice([1.0, 0.9])})
            )
            for _step in range(6):
                expected = predict(rule, tracker, domain)
                assert predict(bounded, tracker, domain) == expected
                checked += 1
                action = domain.action_names_or_texts[
                    max(range(len(expected[0])), key=expected[0].__getitem__)
                ]
                tracker.update(ActionExecuted(action))
                if action == ACTION_LISTEN_NAME:
                    break
            else:
                tracker.update(ActionExecuted(ACTION_LISTEN_NAME))
    assert checked > 300
