"""Rasa's RulePolicy, reading only as much of the conversation as its longest rule.

At every prediction (two per message: the answer, then `action_listen`) RulePolicy turns the
whole conversation into states, twice (once with the user's text, once with the intent),
formats and deep-copies all of them for a debug log line, and tests every rule against every
state, back to the first message. This policy gives the same predictions with less work:

- A rule can only look at as many turns as it has states: past its length,
  `RulePolicy._is_rule_applicable` accepts any state. So only the last `longest rule` states
  are built and matched.
- The states of a conversation are built incrementally. A conversation's states depend only on
  its applied events, so they are kept per conversation together with the events they were
  built from (compared by identity) and a replay tracker; the next prediction only applies the
  new events. Any other history (another tracker, a reverted or restarted conversation, a
  shorter window read back from the store) rebuilds them from scratch.
- Only the rules whose last state has the conversation's last previous action and intent are
  tested (any other rule fails on that state); rules that name neither are always tested.
- The pass on the user's text is skipped when no rule is written with a text (this project's
  rules all use intents); RulePolicy would search for one and find nothing.

- A rule's states are parsed and reversed once, and the states are formatted for RulePolicy's
  debug line only when debug logging is on.

config.yml uses `bot.policies.safety_first.SafetyFirstRulePolicy`: this policy and the
`EmergencyPolicy` of bot/safety/policy.py in one graph node, with RulePolicy's options.
"""

from __future__ import annotations

import itertools
import json
import logging
import operator
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from rasa.core.policies.rule_policy import (
    RULES,
    RULES_FOR_LOOP_UNHAPPY_PATH,
    SHOULD_NOT_BE_SET,
    RulePolicy,
)
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.core.constants import PREVIOUS_ACTION, USER
from rasa.shared.core.domain import Domain, State
from rasa.shared.core.events import (
    ActionExecuted,
    ActionReverted,
    ActiveLoop,
    Event,
    Restarted,
    SessionStarted,
    UserUtteranceReverted,
)
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import ACTION_NAME, INTENT, TEXT

# Conversations whose states are kept between predictions (the least recently used go first);
# as many as the tracker store keeps trackers (bot/stores/sql_tracker_store.py), whose events they share.
STATE_CACHE_SIZE = 512
# Events after which `applied_events` is not "the events so far plus the new ones".
_REWRITING_EVENTS = (Restarted, SessionStarted, ActionReverted, UserUtteranceReverted)
# rules tested whatever the conversation's previous action (see `_rule_index`)
_ANY_ACTION = "\x00any"


@dataclass
class _ConversationStates:
    """The states of one conversation, as built from `events` by replaying them."""

    domain: Domain
    events: list[Event] = field(default_factory=list)  # the applied events
    raw: list[Event] = field(default_factory=list)  # the tracker's events they come from
    has_loop: bool = False  # a loop ran: applied events must be worked out by Rasa
    replay: DialogueStateTracker | None = None
    # the state before each ActionExecuted of `events`, only the last `keep` of them
    states: list[State] = field(default_factory=list)


def _copy_state(state: State) -> State:
    # the featurizer deletes keys of the last states (text or intent): hand out copies
    return {key: dict(sub) for key, sub in state.items()}  # type: ignore[misc]


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.POLICY_WITHOUT_END_TO_END_SUPPORT, is_trainable=True
)
class BoundedRulePolicy(RulePolicy):
    """RulePolicy that builds and matches only the last `longest rule` states, incrementally."""

    _longest_rule_key: tuple[int, ...] = ()
    _longest_rule: int = 0
    _text_rules: bool = True

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._conversations: OrderedDict[str, _ConversationStates] = OrderedDict()
        self._indexes: dict[int, tuple[int, dict[tuple[str, str], list[str]]]] = {}
        self._reversed_rules: dict[str, list[State]] = {}

    def _rule_index(self, lookup: dict[str, str]) -> dict[tuple[str, str], list[str]]:
        """The rule keys by the previous action and the intent of their last state (built once
        per lookup).

        At turn 0, `RulePolicy._is_rule_applicable` accepts a rule whose last state names a
        previous action (or an intent) only for a conversation whose last state has that same
        previous action (or intent). Rules that do not name one, or say it must not be set, go
        under `_ANY_ACTION`, and are always tested."""
        cached = self._indexes.get(id(lookup))
        if cached is not None and cached[0] == len(lookup):
            return cached[1]
        index: dict[tuple[str, str], list[str]] = {}

        def named(value: Any) -> str | None:
            return (
                value if isinstance(value, str) and value and value != SHOULD_NOT_BE_SET else None
            )

        for key in lookup:
            states = self._rule_key_to_state(key)
            last = states[-1] if states else {}
            action = named((last.get(PREVIOUS_ACTION) or {}).get(ACTION_NAME))
            intent = named((last.get(USER) or {}).get(INTENT))
            bucket = (
                (action or _ANY_ACTION, intent or _ANY_ACTION) if action else (_ANY_ACTION,) * 2
            )
            index.setdefault(bucket, []).append(key)
        self._indexes[id(lookup)] = (len(lookup), index)
        return index

    def _is_rule_applicable(
        self, rule_key: str, turn_index: int, conversation_state: State
    ) -> bool:
        """RulePolicy's test of one rule state against one conversation state, with the rule's
        states parsed and reversed once per rule rather than at every call."""
        reversed_rule_states = self._reversed_rules.get(rule_key)
        if reversed_rule_states is None:
            reversed_rule_states = list(reversed(self._rule_key_to_state(rule_key)))
            self._reversed_rules[rule_key] = reversed_rule_states
        if turn_index >= len(reversed_rule_states):
            return True  # past the rule's length: any state
        current_previous_action = conversation_state.get(PREVIOUS_ACTION)
        rule_previous_action = reversed_rule_states[turn_index].get(PREVIOUS_ACTION)
        if not rule_previous_action and not current_previous_action:
            return True  # both are conversation starts
        if not rule_previous_action or not current_previous_action:
            return False  # only one of them is a conversation start
        return self._does_rule_match_state(reversed_rule_states[turn_index], conversation_state)

    def _get_possible_keys(self, lookup: dict[str, str], states: list[State]) -> set[str]:
        if not states:
            return super()._get_possible_keys(lookup, states)
        index = self._rule_index(lookup)
        action = (states[-1].get(PREVIOUS_ACTION) or {}).get(ACTION_NAME)
        intent = (states[-1].get(USER) or {}).get(INTENT)
        possible = set(index.get((_ANY_ACTION, _ANY_ACTION), ()))
        if isinstance(action, str):
            possible.update(index.get((action, _ANY_ACTION), ()))
            if isinstance(intent, str):
                possible.update(index.get((action, intent), ()))
        for i, state in enumerate(reversed(states)):
            possible = {key for key in possible if self._is_rule_applicable(key, i, state)}
        return possible

    def longest_rule(self) -> int:
        """The number of states of the longest rule (0 when no rule is known yet)."""
        rules = self.lookup.get(RULES) or {}
        unhappy = self.lookup.get(RULES_FOR_LOOP_UNHAPPY_PATH) or {}
        key = (id(rules), len(rules), id(unhappy), len(unhappy))
        if key != self._longest_rule_key:
            keys = (*rules, *unhappy)
            lengths = [len(self._rule_key_to_state(k)) for k in keys]
            self._longest_rule = max(lengths, default=0)
            self._text_rules = any(
                (state.get(USER) or {}).get(TEXT) for k in keys for state in json.loads(k)
            )
            self._longest_rule_key = key
        return self._longest_rule

    def has_text_rules(self) -> bool:
        """Whether any rule matches on the user's text rather than on an intent."""
        self.longest_rule()
        return self._text_rules

    def _find_action_from_rules(
        self,
        tracker: DialogueStateTracker,
        domain: Domain,
        use_text_for_last_user_input: bool,
    ) -> tuple[str | None, str | None, bool]:
        if use_text_for_last_user_input and not self.has_text_rules():
            # No rule is keyed on a text: RulePolicy would find nothing, and its caller
            # ignores the source and the unhappy-path flag when nothing was found.
            return None, None, False
        return super()._find_action_from_rules(tracker, domain, use_text_for_last_user_input)

    @staticmethod
    def format_tracker_states(states: list[State]) -> list[str]:
        # RulePolicy formats every state for a debug line, whether or not it is logged.
        if not logging.getLogger("rasa.core.policies.rule_policy").isEnabledFor(logging.DEBUG):
            return []
        return RulePolicy.format_tracker_states(states)

    def _prediction_states(
        self,
        tracker: DialogueStateTracker,
        domain: Domain,
        use_text_for_last_user_input: bool = False,
        rule_only_data: dict[str, Any] | None = None,
    ) -> list[State]:
        longest = self.longest_rule()
        if longest <= 0:
            return super()._prediction_states(
                tracker, domain, use_text_for_last_user_input, rule_only_data
            )
        states = [_copy_state(s) for s in self._last_states(tracker, domain, longest)]
        # the last-input treatment of RulePolicy's featurizer (`prediction_states`): text or
        # intent; its `max_history` is None, so it slices nothing
        self.featurizer._choose_last_user_input([states], use_text_for_last_user_input)
        return states

    def _last_states(self, tracker: DialogueStateTracker, domain: Domain, keep: int) -> list[State]:
        """The last `keep` states of the conversation (the final one included)."""
        sender = tracker.sender_id
        entry = self._conversations.get(sender)
        new_events = self._new_applied_events(tracker, entry, domain)
        if new_events is None:  # another history: from scratch
            entry = _ConversationStates(domain, replay=tracker.init_copy())
            self._conversations[sender] = entry
            new_events = tracker.applied_events()
        assert entry is not None and entry.replay is not None
        self._conversations.move_to_end(sender)
        while len(self._conversations) > STATE_CACHE_SIZE:
            self._conversations.popitem(last=False)

        replay = entry.replay
        for event in new_events:
            if isinstance(event, ActionExecuted):
                entry.states.append(domain.get_active_state(replay))
            replay.update(event)
            entry.events.append(event)
        seen = len(entry.raw)  # events of the tracker already looked at (0 when rebuilt)
        entry.raw = list(tracker.events)
        entry.has_loop = entry.has_loop or any(
            e.type_name == ActiveLoop.type_name and e.name
            for e in itertools.islice(entry.raw, seen, None)
        )
        if len(entry.states) > keep:
            del entry.states[: len(entry.states) - keep]
        final = domain.get_active_state(replay)
        return [*entry.states, final][-keep:]

    @staticmethod
    def _new_applied_events(
        tracker: DialogueStateTracker, entry: _ConversationStates | None, domain: Domain
    ) -> list[Event] | None:
        """The applied events of `tracker` that `entry` has not replayed yet, or None when
        `entry` was built from another history."""
        if entry is None or entry.domain is not domain or entry.replay is None:
            return None
        raw = tracker.events
        if len(entry.raw) > len(raw) or not all(map(operator.is_, entry.raw, raw)):
            return None
        added = list(itertools.islice(raw, len(entry.raw), None))
        if not entry.has_loop and not any(
            isinstance(e, _REWRITING_EVENTS) or (isinstance(e, ActiveLoop) and e.name)
            for e in added
        ):
            # what `applied_events` would give: the same events, then the added ones
            return added
        events = tracker.applied_events()
        if len(entry.events) > len(events) or not all(map(operator.is_, entry.events, events)):
            return None
        return events[len(entry.events) :]
