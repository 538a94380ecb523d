"""bot.policies.rules.BoundedRulePolicy predicts exactly what RulePolicy predicts."""

from __future__ import annotations

import random

import pytest
from rasa.core.policies.rule_policy import RulePolicy
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.events import (
    ActionExecuted,
    ActionReverted,
    ActiveLoop,
    Restarted,
    SessionStarted,
    SlotSet,
    UserUtteranceReverted,
    UserUttered,
)
from rasa.shared.core.generator import TrainingDataGenerator
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.importers.importer import TrainingDataImporter

from bot.policies.rules import BoundedRulePolicy
from bot.policies.safety_first import SafetyFirstRulePolicy
from bot.safety.policy import EmergencyPolicy
from bot.settings import ROOT

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
    for cls in (RulePolicy, BoundedRulePolicy, SafetyFirstRulePolicy):
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
    _, (_, bounded, _) = trained
    assert 2 <= bounded.longest_rule() < 20


def test_same_predictions_along_long_conversations(trained):
    domain, (rule, bounded, _) = trained
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


def _form_events(domain, action: str, tracker: DialogueStateTracker, rng: random.Random) -> list:
    """What a form (or the loop deactivation) adds after running, roughly as Rasa's would."""
    if action == "action_deactivate_loop":
        return [ActiveLoop(None), SlotSet("requested_slot", None)]
    if action not in domain.form_names:
        return []
    if rng.random() < 0.3:
        return [SlotSet("reference", "X"), SlotSet("requested_slot", None), ActiveLoop(None)]
    events = [] if tracker.active_loop_name == action else [ActiveLoop(action)]
    return [*events, SlotSet("requested_slot", rng.choice(["reference", "birth_date"]))]


def _best_action(domain, probabilities) -> str:
    return domain.action_names_or_texts[
        max(range(len(probabilities)), key=probabilities.__getitem__)
    ]


def _drive_conversations(domain, seed: int, prefix: str, step, *, rereads: bool = False) -> None:
    """Six conversations of 40 messages, driven as Rasa's processor drives them: after each
    message, the action that `step(tracker)` returns is run (a form adds its events), until
    `action_listen`. Emergencies, consultation lookups and form answers come often.
    `rereads`: now and then the history is read back from storage (same events, new objects),
    or the conversation restarts."""
    intents = [i for i in domain.intents if not i.startswith("session")]
    weighted = [*intents, *["consultation_lookup", "inform", "emergency"] * 4]
    rng = random.Random(seed)
    for conversation in range(6):
        start = [ActionExecuted("action_session_start"), SessionStarted()]
        tracker = DialogueStateTracker.from_events(
            f"{prefix}{conversation}", [*start, ActionExecuted(ACTION_LISTEN_NAME)], domain.slots
        )
        for _turn in range(40):
            if rereads and rng.random() < 0.1:
                tracker = DialogueStateTracker.from_dict(
                    tracker.sender_id, [e.as_dict() for e in tracker.events], domain.slots
                )
            if rereads and rng.random() < 0.03:
                tracker.update(Restarted())
                tracker.update(ActionExecuted(ACTION_LISTEN_NAME))
            intent = rng.choice(weighted)
            tracker.update(UserUttered("...", {"name": intent, "confidence": 1.0}))
            for _step in range(6):
                action = step(tracker)
                tracker.update(ActionExecuted(action))
                for event in _form_events(domain, action, tracker, rng):
                    tracker.update(event)
                if action == ACTION_LISTEN_NAME:
                    break
            else:
                tracker.update(ActionExecuted(ACTION_LISTEN_NAME))


def test_same_predictions_with_forms_copies_and_rereads(trained):
    """As the processor uses it: a copy of the tracker at every prediction, forms that open
    and close, slots, restarts, and histories read back as new objects (a store read)."""
    domain, (rule, bounded, _) = trained
    counts = {"checked": 0, "in_form": 0}

    def step(tracker: DialogueStateTracker) -> str:
        expected = predict(rule, tracker.copy(), domain)
        assert predict(bounded, tracker.copy(), domain) == expected, tracker.latest_message
        counts["checked"] += 1
        counts["in_form"] += bool(tracker.active_loop_name)
        return _best_action(domain, expected[0])

    _drive_conversations(domain, 11, "f", step, rereads=True)
    assert counts["checked"] > 300 and counts["in_form"] > 50


def test_no_text_rules_in_this_project(trained):
    _, (_, bounded, _) = trained
    assert not bounded.has_text_rules()


def test_incremental_states_equal_a_full_rebuild(trained):
    """The kept states are exactly the last states Rasa builds from the whole history, across
    copies, re-reads, restarts, slots and loops, whatever the order of calls."""
    domain, (_, bounded, _) = trained
    rng = random.Random(5)
    keep = 4
    intents = [i for i in domain.intents if not i.startswith("session")]
    actions = [a for a in domain.action_names_or_texts if a != ACTION_LISTEN_NAME]
    trackers = {
        f"s{n}": DialogueStateTracker.from_events(
            f"s{n}", [ActionExecuted(ACTION_LISTEN_NAME)], domain.slots
        )
        for n in range(3)
    }
    compared = 0
    for _ in range(1500):
        sender = rng.choice(list(trackers))
        tracker = trackers[sender]
        roll = rng.random()
        if roll < 0.05:
            tracker = DialogueStateTracker.from_dict(
                sender, [e.as_dict() for e in tracker.events], domain.slots
            )
        elif roll < 0.08:
            tracker.update(rng.choice([Restarted(), SessionStarted()]))
        elif roll < 0.1:
            tracker.update(rng.choice([ActionReverted(), UserUtteranceReverted()]))
        elif roll < 0.3:
            tracker.update(UserUttered("...", {"name": rng.choice(intents), "confidence": 1.0}))
        elif roll < 0.4:
            tracker.update(SlotSet("reference", rng.choice([None, "A", "B"])))
        elif roll < 0.5:
            tracker.update(ActiveLoop(rng.choice([None, "consultation_form"])))
        elif roll < 0.6:
            tracker.update(SlotSet("requested_slot", rng.choice([None, "reference"])))
        else:
            tracker.update(ActionExecuted(rng.choice([ACTION_LISTEN_NAME, *actions])))
        trackers[sender] = tracker
        probe = tracker.copy() if rng.random() < 0.5 else tracker
        expected = domain.states_for_tracker_history(probe)[-keep:]
        assert bounded._last_states(probe, domain, keep) == expected
        compared += 1
    assert compared == 1500


def test_one_node_predicts_what_the_two_policies_predict_together(trained, tmp_path):
    """SafetyFirstRulePolicy == the ensemble of EmergencyPolicy and BoundedRulePolicy, as Rasa
    combines them (probabilities, policy, events), emergencies and forms included."""
    from rasa.core.policies.ensemble import DefaultPolicyPredictionEnsemble

    domain, (_, bounded, merged) = trained
    storage = LocalModelStorage(tmp_path)
    context = ExecutionContext(GraphSchema({}), "test")
    emergency = EmergencyPolicy.create(
        EmergencyPolicy.get_default_config(), storage, Resource("e"), context
    )
    ensemble = DefaultPolicyPredictionEnsemble.create({}, storage, Resource("x"), context)

    def combined(predictions: list, tracker) -> tuple:
        p = ensemble.combine_predictions(predictions, tracker, domain)
        return (tuple(p.probabilities), p.policy_name, p.policy_priority, p.events,
                p.is_end_to_end_prediction, p.is_no_user_prediction)  # fmt: skip

    counts = {"checked": 0, "emergencies": 0}

    def step(tracker: DialogueStateTracker) -> str:
        two = combined(
            [emergency.predict_action_probabilities(tracker.copy(), domain),
             bounded.predict_action_probabilities(tracker.copy(), domain)],
            tracker,
        )  # fmt: skip
        one = combined([merged.predict_action_probabilities(tracker.copy(), domain)], tracker)
        assert one[0] == two[0] and one[3:] == two[3:]
        assert one[1] == two[1].replace("BoundedRulePolicy", "SafetyFirstRulePolicy")
        counts["checked"] += 1
        counts["emergencies"] += two[1] == "EmergencyPolicy"
        return _best_action(domain, two[0])

    _drive_conversations(domain, 17, "m", step)
    assert counts["checked"] > 300 and counts["emergencies"] > 10
