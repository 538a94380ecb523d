"""Rasa's RulePolicy, reading only as much of the conversation as its longest rule.

At every prediction (two per message: the answer, then `action_listen`) RulePolicy turns the
whole conversation into states, formats and deep-copies all of them for a debug log line, and
tests every rule against every state, back to the first message. A rule can only look at as
many turns as it has states: past its length, `RulePolicy._is_rule_applicable` accepts any
state. So keeping only the last `longest rule` states gives the same rules, the same
prediction, in a time that no longer grows with the conversation.

Configured in config.yml in place of RulePolicy, with the same options.
"""

from __future__ import annotations

from typing import Any

from rasa.core.policies.rule_policy import RULES, RULES_FOR_LOOP_UNHAPPY_PATH, RulePolicy
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.core.domain import Domain, State
from rasa.shared.core.trackers import DialogueStateTracker


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.POLICY_WITHOUT_END_TO_END_SUPPORT, is_trainable=True
)
class BoundedRulePolicy(RulePolicy):
    """RulePolicy whose rule matching reads the last `longest rule` states only."""

    _longest_rule_key: tuple[int, ...] = ()
    _longest_rule: int = 0

    def longest_rule(self) -> int:
        """The number of states of the longest rule (0 when no rule is known yet)."""
        rules = self.lookup.get(RULES) or {}
        unhappy = self.lookup.get(RULES_FOR_LOOP_UNHAPPY_PATH) or {}
        key = (id(rules), len(rules), id(unhappy), len(unhappy))
        if key != self._longest_rule_key:
            lengths = [len(self._rule_key_to_state(k)) for k in (*rules, *unhappy)]
            self._longest_rule = max(lengths, default=0)
            self._longest_rule_key = key
        return self._longest_rule

    def _prediction_states(
        self,
        tracker: DialogueStateTracker,
        domain: Domain,
        use_text_for_last_user_input: bool = False,
        rule_only_data: dict[str, Any] | None = None,
    ) -> list[State]:
        states = super()._prediction_states(
            tracker, domain, use_text_for_last_user_input, rule_only_data
        )
        longest = self.longest_rule()
        if longest <= 0 or len(states) <= longest:
            return states
        return states[-longest:]
