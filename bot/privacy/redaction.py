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
from dataclasses import dataclass
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
# A Belgian national register number as printed on an identity card: YY.MM.DD-XXX.CC (the
# first six digits look like a date and the last nine like a phone number, so it is looked for
# before both).
_NATIONAL_NUMBER = re.compile(
    r"(?<![\w.+])\d{2}[.\s]?\d{2}[.\s]?\d{2}[\s-]?\d{3}[.\s]?\d{2}(?![\w])"
)
_HEX_ID = re.compile(r"[0-9a-f]{32,}|[0-9a-f]{8}(?:-[0-9a-f]{4}){3}-[0-9a-f]{12}")

Span = tuple[int, int, str]  # start, end, kind


def _compact_date_ok(m: re.Match[str]) -> bool:
    if m.group(1):
        day, month, year = int(m.group(1)), int(m.group(2)), int(m.group(3))
    else:
        year, month, day = int(m.group(4)), int(m.group(5)), int(m.group(6))
    return 1 <= day <= 31 and 1 <= month <= 12 and 1900 <= year <= 2099


# A filter of a pass: whether a match of its pattern is kept, given the folded text and
# whether it is the assistant's.
Keep = Callable[[re.Match[str], str, bool], bool]


def _any_match(m: re.Match[str], folded: str, bot: bool) -> bool:
    """Every match is an identifier."""
    return True


def _not_an_appointment(m: re.Match[str], folded: str, bot: bool) -> bool:
    """A date is a date of birth, except in the assistant's text right after a weekday: there
    it is the appointment it announces ("mardi 17 mai 2022")."""
    return not (bot and _WEEKDAY_BEFORE.search(folded[max(0, m.start() - 12) : m.start()]))


def _plausible_compact_date(m: re.Match[str], folded: str, bot: bool) -> bool:
    """Eight digits are a date only when they read as one (day, month, a year 1900-2099)."""
    return _compact_date_ok(m)


@dataclass(frozen=True)
class _Pass:
    """One kind of identifier looked for: its pattern, what it is, whether it is looked for in
    the assistant's texts too, and which of its matches are kept."""

    pattern: re.Pattern[str]
    kind: str
    in_bot_text: bool
    keep: Keep = _any_match


# Walked in this order, and the first pass that claims characters keeps them: an e-mail
# address before the numbers inside it, references before phone numbers, phone numbers (9
# digits or more) before dates (8 at most: "0470/12.34.56"), the guesses last.
_PASSES: tuple[_Pass, ...] = (
    _Pass(_EMAIL, EMAIL, in_bot_text=False),
    _Pass(REFERENCE_RE, REFERENCE, in_bot_text=True),
    _Pass(_NATIONAL_NUMBER, NUMBER, in_bot_text=False),
    _Pass(_PHONE, PHONE, in_bot_text=True),
    _Pass(_NUMERIC_DATE, BIRTH_DATE, in_bot_text=True, keep=_not_an_appointment),
    _Pass(_TEXT_DATE, BIRTH_DATE, in_bot_text=True, keep=_not_an_appointment),
    _Pass(_COMPACT_DATE, BIRTH_DATE, in_bot_text=False, keep=_plausible_compact_date),
    _Pass(_BARE_REFERENCE, REFERENCE, in_bot_text=False),
    _Pass(_LONG_NUMBER, NUMBER, in_bot_text=False),
)


def add_span(found: list[Span], span: Span) -> bool:
    """Add `span` to `found` unless it overlaps one already there (which then wins).

    Spans never overlap, so that each character is masked once, by the first pass that found
    it. Returns whether the span was added."""
    start, end, _ = span
    if all(end <= s or start >= e for s, e, _ in found):
        found.append(span)
        return True
    return False


def identifier_spans(text: str, *, bot: bool = False) -> list[Span]:
    """The identifiers of a text as (start, end, kind), in order, never overlapping.

    `bot`: the text is the assistant's (appointment dates after a weekday are kept, no guess at
    references typed without their "C", no 8-digit dates, no e-mail addresses or long numbers).
    """
    folded = fold(text)
    found: list[Span] = []
    for p in _PASSES:
        if bot and not p.in_bot_text:
            continue
        for m in p.pattern.finditer(folded):
            if p.keep(m, folded, bot):
                add_span(found, (m.start(), m.end(), p.kind))
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
