"""Render one answer for one channel: web (chat widget, REST), SMS, or the agents' console.

Pure functions: no Rasa, no I/O. An answer is plain data (text, buttons, facts, validation
date); what changes per channel is the shape:

- web: the text with its line breaks, buttons kept as buttons, the date of the information;
- sms: plain GSM-7 text (characters outside GSM-7 replaced by their closest equivalent), buttons
  turned into a numbered list the patient answers with a digit, at most 3 segments;
- agent: the text to read out, with the fact ids it rests on and the validation date.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from datetime import date, datetime

from babel.dates import format_date, format_datetime

from bot.content.gsm7 import to_gsm7

SMS_MAX_SEGMENTS = 3


@dataclass(frozen=True)
class Button:
    title: str
    payload: str


@dataclass(frozen=True)
class Rendered:
    """What a channel shows: text, optional buttons, and for the agents the sources."""

    text: str
    buttons: tuple[Button, ...] = ()
    facts: tuple[str, ...] = ()
    validated_on: date | None = None
    extra: dict = field(default_factory=dict)


@functools.lru_cache(maxsize=256)
def format_day(day: date, locale: str = "fr") -> str:
    """'17 mai' (the year is left out: information of this crisis is of the current week).

    Remembered: every answer ends with the date of its information, a handful of dates."""
    return format_date(day, "d MMMM", locale=locale)


def format_long_date(day: date, locale: str = "fr") -> str:
    """'mardi 17 mai 2022'."""
    return format_date(day, "EEEE d MMMM y", locale=locale)


def format_appointment(moment: datetime, locale: str = "fr") -> str:
    """'mardi 17 mai 2022 à 14 h 30' (Belgian French usage for times)."""
    day = format_datetime(moment, "EEEE d MMMM y", locale=locale)
    hour = f"{moment.hour} h {moment.minute:02d}" if moment.minute else f"{moment.hour} h"
    return f"{day} à {hour}"


def info_line(validated_on: date | None, locale: str = "fr") -> str:
    if validated_on is None:
        return ""
    return f"Information du {format_day(validated_on, locale)}."


def render_web(answer: Rendered, locale: str = "fr") -> dict:
    """A Rasa bot message for the web widget and the REST channel."""
    text = answer.text.strip()
    line = info_line(answer.validated_on, locale)
    if line:
        text = f"{text}\n{line}"
    message: dict = {"text": text}
    if answer.buttons:
        message["buttons"] = [{"title": b.title, "payload": b.payload} for b in answer.buttons]
    return message


def sms_text(answer: Rendered, locale: str = "fr") -> str:
    """Plain GSM-7 text: buttons become a numbered list, the date goes last, in short."""
    parts = [" ".join(line.strip() for line in answer.text.strip().splitlines() if line.strip())]
    if answer.buttons:
        parts.append("Repondez par un chiffre :")
        parts.extend(f"{i}. {b.title}" for i, b in enumerate(answer.buttons, start=1))
    if answer.validated_on is not None:
        parts.append(f"(Info du {format_day(answer.validated_on, locale)})")
    return to_gsm7("\n".join(parts))


def render_sms(answer: Rendered, locale: str = "fr") -> dict:
    """A Rasa bot message for the SMS channel. The buttons travel along so that the channel
    can map a digit reply back to its payload; they are already written out in the text."""
    message: dict = {"text": sms_text(answer, locale)}
    if answer.buttons:
        message["custom"] = {
            "sms_options": [{"title": b.title, "payload": b.payload} for b in answer.buttons]
        }
    return message


def render_agent(answer: Rendered, locale: str = "fr") -> dict:
    """For the call-centre agents: the text to read out, its sources and validation date."""
    validated = (
        format_date(answer.validated_on, "d MMMM y", locale=locale) if answer.validated_on else None
    )
    return {
        "text": answer.text.strip(),
        "sources": list(answer.facts),
        "validated_on": answer.validated_on.isoformat() if answer.validated_on else None,
        "validated_on_label": validated,
        "buttons": [{"title": b.title, "payload": b.payload} for b in answer.buttons],
    }


CHANNEL_RENDERERS = {"sms": render_sms, "agent": render_agent}


def render_for_channel(answer: Rendered, channel: str | None, locale: str = "fr") -> dict:
    """Web rendering for every channel that is not SMS or the agents' console."""
    return CHANNEL_RENDERERS.get(channel or "", render_web)(answer, locale)
