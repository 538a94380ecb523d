"""Rendering per channel: SMS segments and GSM-7, numbered options, agent sources, Babel dates."""

from __future__ import annotations

from datetime import date, datetime

from bot.content.gsm7 import is_gsm7
from bot.content.render import (
    Button,
    Rendered,
    format_appointment,
    format_day,
    format_long_date,
    render_agent,
    render_for_channel,
    render_sms,
    render_web,
    sms_text,
)

ANSWER = Rendered(
    text="Les examens sont suspendus.\nUne question : 0800/35.168.",
    buttons=(
        Button("Urgences", "Quand aller aux urgences ?"),
        Button("Mon rendez-vous", "Ma consultation ?"),
    ),
    facts=("F11", "F12"),
    validated_on=date(2022, 5, 17),
)


def test_sms_rendering_is_plain_gsm7_with_numbered_options_and_short_date() -> None:
    text = sms_text(ANSWER)
    assert is_gsm7(text)
    assert "1. Urgences" in text and "2. Mon rendez-vous" in text
    assert "Repondez par un chiffre" in text
    assert text.endswith("(Info du 17 mai)")
    message = render_sms(ANSWER)
    assert message["custom"]["sms_options"][1]["payload"] == "Ma consultation ?"
    assert "buttons" not in message


def test_web_rendering_keeps_lines_buttons_and_the_date() -> None:
    message = render_web(ANSWER)
    assert message["text"].splitlines() == [
        "Les examens sont suspendus.",
        "Une question : 0800/35.168.",
        "Information du 17 mai.",
    ]
    assert message["buttons"][0] == {"title": "Urgences", "payload": "Quand aller aux urgences ?"}


def test_agent_rendering_shows_sources_and_validation_date() -> None:
    message = render_agent(ANSWER)
    assert message["sources"] == ["F11", "F12"]
    assert message["validated_on"] == "2022-05-17"
    assert message["validated_on_label"] == "17 mai 2022"
    assert "Information du" not in message["text"]


def test_channel_dispatch() -> None:
    assert "custom" in render_for_channel(ANSWER, "sms")
    assert "sources" in render_for_channel(ANSWER, "agent")
    assert "buttons" in render_for_channel(ANSWER, "socketio")
    assert "buttons" in render_for_channel(ANSWER, "collector")


def test_babel_dates_in_french() -> None:
    assert format_day(date(2022, 5, 17)) == "17 mai"
    assert format_long_date(date(2022, 5, 17)) == "mardi 17 mai 2022"
    assert format_appointment(datetime(2022, 5, 17, 14, 30)) == "mardi 17 mai 2022 à 14 h 30"
    assert format_appointment(datetime(2022, 5, 20, 9, 0)) == "vendredi 20 mai 2022 à 9 h"
