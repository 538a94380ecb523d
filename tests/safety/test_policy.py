"""112 first, before any rule or form, with no other service involved."""

from __future__ import annotations

from bot.safety.policy import next_safety_action


def test_an_emergency_message_gets_112_first() -> None:
    assert next_safety_action("emergency", "action_listen", None) == "utter_emergency"
    assert (
        next_safety_action("emergency", "action_listen", "consultation_form") == "utter_emergency"
    )


def test_an_open_form_is_closed_after_the_112_answer() -> None:
    assert (
        next_safety_action("emergency", "utter_emergency", "consultation_form")
        == "action_deactivate_loop"
    )
    assert next_safety_action("emergency", "utter_emergency", None) is None


def test_anything_else_is_left_to_the_rules() -> None:
    assert next_safety_action("er_when", "action_listen", None) is None
    assert next_safety_action(None, "action_listen", "consultation_form") is None
    assert next_safety_action("emergency", "action_deactivate_loop", None) is None
