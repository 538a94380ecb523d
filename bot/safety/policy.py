"""112 first, whatever else is going on: a dialogue policy that needs no other service.

The safety layer of the NLU (bot/safety/guard.py) gives a message that describes a danger
to life the `emergency` intent. The rules answer it with `utter_emergency`, except while a form
is open: then Rasa first runs the form, which calls the action server, and only answers the
emergency once the form has let go of the message. If the action server is slow or down, that
person would wait, or get nothing.

This policy removes the dependency: on an `emergency` message it predicts `utter_emergency`
with full confidence and a priority above the rules, then closes any open form, and leaves the
rest to the other policies. The 112 answer itself comes from the content file, or from the
domain's own response if the content cannot be read (bot/content/nlg.py).
"""

from __future__ import annotations

from typing import Any

from rasa.core.policies.policy import Policy, PolicyPrediction
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.shared.core.constants import ACTION_DEACTIVATE_LOOP_NAME, ACTION_LISTEN_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, UserUttered
from rasa.shared.core.generator import TrackerWithCachedStates
from rasa.shared.core.trackers import DialogueStateTracker

from bot.safety import EMERGENCY_ACTION, EMERGENCY_INTENT, IF_SERIOUS_ACTION, NEAR_MISS_ENTITY


def next_safety_action(
    intent: str | None, latest_action: str | None, active_loop: str | None
) -> str | None:
    """What the safety policy insists on next, or None to leave it to the other policies."""
    if intent != EMERGENCY_INTENT:
        return None
    if latest_action == ACTION_LISTEN_NAME:
        return EMERGENCY_ACTION
    if latest_action == EMERGENCY_ACTION and active_loop:
        return ACTION_DEACTIVATE_LOOP_NAME
    return None


def closing_line_due(tracker: DialogueStateTracker) -> bool:
    """Whether the turn's answer still needs the near-miss closing line ("si la situation est
    grave maintenant : 112"): the user's message had danger words that are not a danger now
    (the `danger_scope` entity of bot/safety/guard.py), and the line was not said since."""
    message = tracker.latest_message
    if message is None or not any(
        e.get("entity") == NEAR_MISS_ENTITY for e in message.entities or []
    ):
        return False
    for event in reversed(tracker.events):
        if isinstance(event, UserUttered):
            return True
        if isinstance(event, ActionExecuted) and event.action_name == IF_SERIOUS_ACTION:
            return False
    return True


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.POLICY_WITHOUT_END_TO_END_SUPPORT, is_trainable=True
)
class EmergencyPolicy(Policy):
    """Predicts the 112 answer for an `emergency` message, before any rule or form."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        # Above RulePolicy (6): with equal confidence, the higher priority wins.
        return {"priority": 7}

    def train(
        self,
        training_trackers: list[TrackerWithCachedStates],
        domain: Domain,
        **kwargs: Any,
    ) -> Resource:
        # Nothing to learn: the behaviour is fixed. The resource is still written, so that
        # Rasa can load the policy like any other.
        with self._model_storage.write_to(self._resource):
            pass
        return self._resource

    def predict_action_probabilities(
        self,
        tracker: DialogueStateTracker,
        domain: Domain,
        rule_only_data: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> PolicyPrediction:
        probabilities = self._default_predictions(domain)
        action = next_safety_action(
            tracker.latest_message.intent.get("name") if tracker.latest_message else None,
            tracker.latest_action_name,
            tracker.active_loop_name,
        )
        if action is not None and action in domain.action_names_or_texts:
            probabilities[domain.index_for_action(action)] = 1.0
        return self._prediction(probabilities)
