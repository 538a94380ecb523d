"""The assistant's dialogue policies in one graph node: 112 first, then the rules.

Rasa schedules every graph node of every prediction with Dask, which costs more than the
emergency check itself; so `SafetyFirstRulePolicy` runs both policies and combines them the way
Rasa combines listed policies.
"""

from __future__ import annotations

import copy
from typing import Any

from rasa.core.featurizers.tracker_featurizers import TrackerFeaturizer
from rasa.core.policies.ensemble import DefaultPolicyPredictionEnsemble
from rasa.core.policies.policy import PolicyPrediction
from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.trackers import DialogueStateTracker

from bot.policies.rules import BoundedRulePolicy
from bot.safety import IF_SERIOUS_ACTION
from bot.safety.policy import EmergencyPolicy, closing_line_due


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.POLICY_WITHOUT_END_TO_END_SUPPORT, is_trainable=True
)
class SafetyFirstRulePolicy(BoundedRulePolicy):
    """The assistant's two policies in one graph node: `EmergencyPolicy` (112 first, see
    bot/safety/policy.py) and the rules (`BoundedRulePolicy`).

    Both predict at every step, and their predictions are combined by Rasa's own ensemble rules
    (`DefaultPolicyPredictionEnsemble`: confidence, then priority; the events of both), exactly
    as when they are listed as two policies. One node rather than two: Rasa schedules every
    graph node of every prediction with Dask, which costs more than the emergency check."""

    def __init__(
        self,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        featurizer: TrackerFeaturizer | None = None,
        lookup: dict | None = None,
    ) -> None:
        super().__init__(config, model_storage, resource, execution_context, featurizer, lookup)
        # learns nothing, stores nothing: built here rather than trained and loaded
        self.emergency = EmergencyPolicy(
            EmergencyPolicy.get_default_config(), model_storage, resource, execution_context
        )

    def predict_action_probabilities(
        self,
        tracker: DialogueStateTracker,
        domain: Domain,
        rule_only_data: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> PolicyPrediction:
        predictions = [
            self.emergency.predict_action_probabilities(tracker, domain, rule_only_data, **kwargs),
            super().predict_action_probabilities(tracker, domain, rule_only_data, **kwargs),
        ]
        best = DefaultPolicyPredictionEnsemble._best_policy_prediction(predictions, tracker, domain)
        return self._with_closing_line(best, tracker, domain)

    def _with_closing_line(
        self, best: PolicyPrediction, tracker: DialogueStateTracker, domain: Domain
    ) -> PolicyPrediction:
        """A near-miss's answer ends with "si la situation est grave maintenant : 112": when
        the turn would end (action_listen), the closing line comes first (the rules then end
        the turn after it, data/rules/safety.yml)."""
        if (
            best.max_confidence_index != domain.index_for_action(ACTION_LISTEN_NAME)
            or IF_SERIOUS_ACTION not in domain.action_names_or_texts
            or not closing_line_due(tracker)
        ):
            return best
        closing = copy.copy(best)  # the same policy, priority and events; another action
        closing.probabilities = [0.0] * domain.num_actions
        closing.probabilities[domain.index_for_action(IF_SERIOUS_ACTION)] = 1.0
        return closing
