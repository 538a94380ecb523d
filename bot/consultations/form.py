"""The rules of the consultation form, without Rasa: which slots it needs, what a slot value is
worth, when a message leaves the form. Used by `actions/consultation_form.py` and
`actions/consultation_lookup.py`.

- The form asks for the reference and the date of birth, in whichever order, or takes both from
  one message. By SMS, when no reference was given, the date of birth alone is asked: the
  sender's phone number (its hash, in the message metadata) does the rest.
- Values are kept *sealed* between two messages (`bot.privacy.sealing`): the tracker store only ever
  sees them encrypted.
- A message that gives nothing for the form and is not about the lookup (another question, an
  emergency) leaves the form: that question gets its own answer, and nothing stays behind.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from bot.consultations.normalize import (
    MIN_BIRTH_DATE,
    is_findable_reference,
    looks_like_date,
    normalise_reference,
)
from bot.privacy.redaction import IDENTIFIER_KEYS
from bot.privacy.sealing import is_sealed, seal, unseal
from bot.safety import EMERGENCY_INTENT

FORM = "consultation_form"
REFERENCE = "reference"
BIRTH_DATE = "birth_date"
REQUESTED_SLOT = "requested_slot"
FORM_SLOTS = (REFERENCE, BIRTH_DATE)

# Messages that are about the lookup even when they give nothing usable ("je n'ai que ma date").
FORM_INTENTS = frozenset({"consultation_lookup", "inform"})
INVALID_DATE = "invalid"  # the NLU's value for a date-shaped text that is no date of birth

INVALID_REFERENCE = "utter_invalid_reference"
INVALID_BIRTH_DATE = "utter_invalid_birth_date"

SMS_CHANNEL = "sms"
_PHONE_HASH = re.compile(r"[0-9a-f]{64}")
_DIGITS = re.compile(r"\d")


@dataclass(frozen=True)
class Checked:
    """A slot value after validation: sealed (or None), and whether to tell the patient that
    what they typed cannot be used."""

    value: str | None
    invalid: bool = False


def sms_phone_hash(metadata: Any, input_channel: str | None, sender_id: str | None) -> str | None:
    """The sender's phone hash when the message came through our SMS channel, else None.

    `bot.channels.sms.input` puts it in the metadata and uses it as the conversation id. Metadata
    alone proves nothing (a REST client may send any), so the message must also have come in
    on the SMS channel, in the conversation of that very number."""
    if input_channel != SMS_CHANNEL or not isinstance(metadata, dict):
        return None
    if metadata.get("channel") != SMS_CHANNEL:
        return None
    value = metadata.get("sender_phone_hash")
    if not isinstance(value, str) or not _PHONE_HASH.fullmatch(value) or value != sender_id:
        return None
    return value


def required_slots(
    domain_slots: list[str], has_reference: bool, phone_hash: str | None
) -> list[str]:
    """By SMS without a reference, the date of birth alone; otherwise both."""
    if phone_hash is not None and not has_reference:
        return [BIRTH_DATE]
    return list(domain_slots)


def _is_mask(value: Any) -> bool:
    return value in IDENTIFIER_KEYS.values()


def check_reference(value: Any) -> Checked:
    if value is None or _is_mask(value):  # a mask: a value from an earlier, stored turn
        return Checked(None)
    if is_sealed(value):
        return Checked(value if unseal(value) else None)
    canonical = normalise_reference(str(value))
    if not is_findable_reference(canonical):
        return Checked(None, invalid=True)
    return Checked(seal(canonical))


def check_birth_date(value: Any, today: date | None = None) -> Checked:
    if value is None or _is_mask(value):
        return Checked(None)
    if is_sealed(value):
        return Checked(value if unseal(value) else None)
    try:
        parsed = date.fromisoformat(str(value))
    except ValueError:  # INVALID_DATE, or anything else that is no ISO date
        return Checked(None, invalid=True)
    if not MIN_BIRTH_DATE <= parsed <= (today or date.today()):
        return Checked(None, invalid=True)
    return Checked(seal(parsed.isoformat()))


def opened_reference(value: Any) -> str | None:
    return unseal(value)


def opened_birth_date(value: Any) -> date | None:
    raw = unseal(value)
    try:
        return date.fromisoformat(raw) if raw else None
    except ValueError:
        return None


def leaves_form(requested_slot: str | None, has_candidates: bool, intent: str | None) -> bool:
    """True when the message is not for the form: an emergency, or, once the form has asked
    something, a message that gives nothing for it and is about something else."""
    if has_candidates:
        return False
    if intent == EMERGENCY_INTENT:
        return True
    return requested_slot is not None and intent not in FORM_INTENTS


def reask_hint(requested_slot: str | None, text: str) -> str | None:
    """When a message meant for the form gave nothing usable: the answer that says why, if the
    text looks like an attempt (a date that is not one, digits without the reference's shape)."""
    if requested_slot == BIRTH_DATE and (looks_like_date(text) or _DIGITS.search(text)):
        return INVALID_BIRTH_DATE
    if requested_slot == REFERENCE and len(_DIGITS.findall(text)) >= 5:
        return INVALID_REFERENCE
    return None
