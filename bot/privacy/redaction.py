"""Mask patients' identifiers (appointment references, dates of birth, phone numbers, and in a
person's own text e-mail addresses and other long numbers) in the conversation events Rasa
persists, in log lines and in every view of them (the supervisor's figures): the one masking of
the project. Pure: no Rasa import, no I/O.

`redact_event(event)` takes one event as Rasa stores it (`Event.as_dict()`) and returns a copy in
which the user's text, its parse data and entities, the slot values and the bot's texts carry
``[référence]``, ``[date de naissance]`` or ``[téléphone]`` instead of the identifier:

    "mon rdv C-22-9100013, née le 14/02/1961" -> "mon rdv [référence], née le [date de naissance]"

The consultation form keeps what the patient gave between two turns *sealed* (encrypted,
`bot.privacy.sealing`); a sealed value is not an identifier in clear and is kept as it is, so that the
form still works when the tracker is read back from the store.

A user's message is masked generously: any full date (with its year) is taken for a date of
birth, and 8-9 digits that could be a reference typed without its "C" are masked too. The bot's
own texts only name an appointment ("mardi 17 mai 2022 à 14 h 30"), which is not an identifier:
there a date that follows a weekday is kept, and the service numbers it gives (0800/35.168,
070/245.245, 112, 1733) are never taken for a patient's phone number.
"""

from __future__ import annotations

import functools
import logging
import re
import traceback
from collections.abc import Callable
from typing import Any

from bot.consultations.normalize import MONTH_ALT, REFERENCE_RE, fold
from bot.privacy.sealing import is_sealed

REFERENCE_MASK = "[référence]"
BIRTH_DATE_MASK = "[date de naissance]"
PHONE_MASK = "[téléphone]"
EMAIL_MASK = "[courriel]"
NUMBER_MASK = "[numéro]"

REFERENCE = "reference"
BIRTH_DATE = "birth_date"
PHONE = "phone"
EMAIL = "email"
NUMBER = "number"
MASKS = {
    REFERENCE: REFERENCE_MASK,
    BIRTH_DATE: BIRTH_DATE_MASK,
    PHONE: PHONE_MASK,
    EMAIL: EMAIL_MASK,
    NUMBER: NUMBER_MASK,
}

# Slots and entities that hold an identifier whatever their value looks like.
IDENTIFIER_KEYS = {REFERENCE: REFERENCE_MASK, BIRTH_DATE: BIRTH_DATE_MASK, PHONE: PHONE_MASK}

# --- patterns (on text folded by `normalize.fold`: lower case, no accents, same length) ------

_NUMERIC_DATE = re.compile(
    r"(?<!\d)\d{1,2}\s*([/.\-])\s*\d{1,2}\s*\1\s*(?:\d{4}|\d{2})(?!\d)"  # 14/02/1961, 3-4-75
    r"|(?<!\d)\d{1,2}\s+\d{1,2}\s+\d{4}(?!\d)"  # 14 02 1961
    r"|(?<!\d)\d{4}\s*([/.\-])\s*\d{1,2}\s*\2\s*\d{1,2}(?!\d)"  # 1961-02-14
)
_TEXT_DATE = re.compile(
    rf"(?<![a-z\d])(?:\d{{1,2}}|premier)(?:er|e|eme)?[\s,./\-]*(?:de\s+)?"
    rf"(?:{MONTH_ALT})(?![a-z])\.?[\s,./\-]*(?:\d{{4}}|\d{{2}})(?!\d)"
)
_COMPACT_DATE = re.compile(r"(?<!\d)(\d{2})(\d{2})(\d{4})(?!\d)|(?<!\d)(\d{4})(\d{2})(\d{2})(?!\d)")
_WEEKDAY_BEFORE = re.compile(r"(?:lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche)\s+$")
# A reference typed without its "C": 2-digit year and 6-7 digits ("22 9100013", "22-004512").
_BARE_REFERENCE = re.compile(r"(?<![\d/.])\d{2}[\s._\-]?\d{3}[\s._\-]?\d{3,4}(?![\d/])")
_PHONE = re.compile(
    r"\+\s?\d(?:[\s.\-/()]{0,2}\d){7,14}(?!\d)"  # +32 470 12 34 56
    r"|(?<![\d+])00\s?[1-9](?:[\s.\-/]{0,2}\d){7,13}(?!\d)"  # 0032470123456
    # Belgian national numbers: mobiles (04xx, 10 digits), other numbers (9 digits) except the
    # service numbers (0800, 070, 078, 090x).
    r"|(?<![\d+/.])04(?:[\s.\-/]?\d){8}(?!\d)"
    r"|(?<![\d+/.])0(?!800|70|78|90)[1-9](?:[\s.\-/]?\d){7}(?!\d)"
)
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# Eight digits or more, with separators between them, that are no phone number: national
# register numbers, bank accounts (masked in a person's text only); the service numbers
# (0800, 070, 078, 090x) are kept, as for phone numbers.
_LONG_NUMBER = re.compile(r"(?<![\w])(?!0800|070|078|090)\+?\d(?:[\s./\-]?\d){7,}(?!\d)")
_HEX_ID = re.compile(r"[0-9a-f]{32,}|[0-9a-f]{8}(?:-[0-9a-f]{4}){3}-[0-9a-f]{12}")

Span = tuple[int, int, str]  # start, end, kind


def _compact_date_ok(m: re.Match[str]) -> bool:
    if m.group(1):
        day, month, year = int(m.group(1)), int(m.group(2)), int(m.group(3))
    else:
        year, month, day = int(m.group(4)), int(m.group(5)), int(m.group(6))
    return 1 <= day <= 31 and 1 <= month <= 12 and 1900 <= year <= 2099


def identifier_spans(text: str, *, bot: bool = False) -> list[Span]:
    """The identifiers of a text as (start, end, kind), in order, never overlapping.

    `bot`: the text is the assistant's (appointment dates after a weekday are kept, no guess at
    references typed without their "C", no 8-digit dates)."""
    folded = fold(text)
    found: list[Span] = []

    def add(start: int, end: int, kind: str) -> None:
        if all(end <= s or start >= e for s, e, _ in found):
            found.append((start, end, kind))

    if not bot:
        for m in _EMAIL.finditer(folded):
            add(m.start(), m.end(), EMAIL)
    for m in REFERENCE_RE.finditer(folded):
        add(m.start(), m.end(), REFERENCE)
    # Phone numbers have 9 digits or more, dates 8 at most: phones first ("0470/12.34.56").
    for m in _PHONE.finditer(folded):
        add(m.start(), m.end(), PHONE)
    for pattern in (_NUMERIC_DATE, _TEXT_DATE):
        for m in pattern.finditer(folded):
            if bot and _WEEKDAY_BEFORE.search(folded[max(0, m.start() - 12) : m.start()]):
                continue
            add(m.start(), m.end(), BIRTH_DATE)
    if not bot:
        for m in _COMPACT_DATE.finditer(folded):
            if _compact_date_ok(m):
                add(m.start(), m.end(), BIRTH_DATE)
    if not bot:
        for m in _BARE_REFERENCE.finditer(folded):
            add(m.start(), m.end(), REFERENCE)
        for m in _LONG_NUMBER.finditer(folded):
            add(m.start(), m.end(), NUMBER)
    return sorted(found)


def redact_text(text: str, *, bot: bool = False) -> str:
    """The text with every identifier replaced by its mask."""
    if not text or _HEX_ID.fullmatch(text) or is_sealed(text):
        return text
    if bot:
        # the assistant says the same few texts again and again (the content file)
        return _redact_bot_text(text)
    return _redact(text, bot=False)


@functools.lru_cache(maxsize=2048)
def _redact_bot_text(text: str) -> str:
    return _redact(text, bot=True)


def _redact(text: str, *, bot: bool) -> str:
    out: list[str] = []
    last = 0
    for start, end, kind in identifier_spans(text, bot=bot):
        out.append(text[last:start])
        out.append(MASKS[kind])
        last = end
    out.append(text[last:])
    return "".join(out)


def redact_value(value: Any, *, bot: bool = False) -> Any:
    """Strings inside any JSON value (dicts, lists), redacted."""
    if isinstance(value, str):
        return redact_text(value, bot=bot)
    if isinstance(value, dict):
        return {k: redact_value(v, bot=bot) for k, v in value.items()}
    if isinstance(value, list):
        return [redact_value(v, bot=bot) for v in value]
    return value


def _redact_identifier(key: str, value: Any) -> Any:
    """The value of a slot or entity that holds an identifier: masked unless empty or sealed."""
    if value is None or is_sealed(value):
        return value
    return IDENTIFIER_KEYS[key]


def _redact_entities(entities: Any) -> Any:
    if not isinstance(entities, list):
        return redact_value(entities)
    redacted = []
    for entity in entities:
        if not isinstance(entity, dict):
            redacted.append(redact_value(entity))
            continue
        entity = redact_value(entity)
        if entity.get("entity") in IDENTIFIER_KEYS:
            entity["value"] = _redact_identifier(entity["entity"], entity.get("value"))
        redacted.append(entity)
    return redacted


def _redact_parse_data(parse_data: Any) -> Any:
    if not isinstance(parse_data, dict):
        return redact_value(parse_data)
    redacted = dict(parse_data)
    if "text" in redacted:
        redacted["text"] = redact_value(redacted["text"])
    if "entities" in redacted:
        redacted["entities"] = _redact_entities(redacted["entities"])
    return redacted


def _redact_user(event: dict[str, Any]) -> None:
    if "text" in event:
        event["text"] = redact_value(event["text"])
    if "parse_data" in event:
        event["parse_data"] = _redact_parse_data(event["parse_data"])
    if "metadata" in event:
        event["metadata"] = redact_value(event["metadata"])


def _redact_bot(event: dict[str, Any]) -> None:
    for key in ("text", "data", "metadata"):
        if key in event:
            event[key] = redact_value(event[key], bot=True)


def _redact_slot(event: dict[str, Any]) -> None:
    name = event.get("name")
    if name in IDENTIFIER_KEYS:
        event["value"] = _redact_identifier(name, event.get("value"))
    else:
        event["value"] = redact_value(event.get("value"))


def _redact_entities_event(event: dict[str, Any]) -> None:
    event["entities"] = _redact_entities(event.get("entities"))


def _redact_action(event: dict[str, Any]) -> None:
    if event.get("action_text"):
        event["action_text"] = redact_value(event["action_text"], bot=True)


_BY_TYPE: dict[str, Callable[[dict[str, Any]], None]] = {
    "user": _redact_user,
    "bot": _redact_bot,
    "slot": _redact_slot,
    "entities": _redact_entities_event,
    "action": _redact_action,
}


def redact_event(event: dict[str, Any]) -> dict[str, Any]:
    """A copy of one stored Rasa event with the patients' identifiers masked (see the module
    docstring). Events of other types are returned as they are (copied)."""
    redacted = dict(event)
    handler = _BY_TYPE.get(str(event.get("event")))
    if handler is not None:
        handler(redacted)
    return redacted


# --- logs -------------------------------------------------------------------------------------


class RedactingLogFilter(logging.Filter):
    """Masks identifiers in every record a handler emits (message and traceback). Rasa logs the
    user's text when handling a message fails (`rest.message.received.failure`, at ERROR)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: leave it to the handler to report
            return True
        record.msg = redact_text(message)
        record.args = ()
        if record.exc_info and not record.exc_text:
            formatted = "".join(traceback.format_exception(*record.exc_info)).rstrip("\n")
            record.exc_text = redact_text(formatted)
        return True


_FILTER = RedactingLogFilter()


def install_log_redaction() -> None:
    """Add the filter to every handler configured so far (the root logger's and any named
    logger's). Idempotent."""
    handlers = list(logging.getLogger().handlers)
    for logger in list(logging.Logger.manager.loggerDict.values()):
        if isinstance(logger, logging.Logger):
            handlers.extend(logger.handlers)
    for handler in handlers:
        if _FILTER not in handler.filters:
            handler.addFilter(_FILTER)
