"""What the assistant says after a consultation lookup: which answers of locales/<lang>/answers.yml,
in which order, with which values. Pure: no Rasa, no database.

- found: per consultation, its status (maintained: when, where, which service; cancelled: and
  the rule for the future; moved: the new date and time), the service's note if any; then the
  call centre for anything else;
- not matched (unknown reference and wrong date of birth alike, word for word): the general
  rule and the call centre;
- locked (too many failed attempts): the call centre;
- unavailable (the list cannot be read): the call centre, never silence.

The values never include the reference, the date of birth or the phone number.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.consultations.lookup import LookupResult, Outcome, PatientConsultation
from bot.consultations.models import Status
from bot.content.render import format_appointment

MAINTAINED = "utter_consultation_maintained"
CANCELLED = "utter_consultation_cancelled"
MOVED = "utter_consultation_moved"
NOTE = "utter_consultation_note"
MORE_QUESTIONS = "utter_consultation_more_questions"
NOT_MATCHED = "utter_consultation_not_found"
LOCKED = "utter_consultation_locked"
UNAVAILABLE = "utter_consultation_unavailable"
# No usable reference or date of birth any more (a sealed value older than an hour): ask again.
START_AGAIN = "utter_offer_lookup"

ALL_RESPONSES = (
    MAINTAINED, CANCELLED, MOVED, NOTE, MORE_QUESTIONS, NOT_MATCHED, LOCKED, UNAVAILABLE,
    START_AGAIN,
)  # fmt: skip


@dataclass(frozen=True)
class Reply:
    """One bot message: an answer key and the values of its {placeholders}."""

    response: str
    values: dict[str, str] = field(default_factory=dict)


def _consultation(c: PatientConsultation, locale: str) -> list[Reply]:
    where = {"site": c.site, "service": c.service}
    when = format_appointment(c.starts_at, locale)
    if c.status is Status.ANNULEE:
        return [Reply(CANCELLED, {"when": when, **where})]
    if c.status is Status.REPORTEE and c.new_starts_at is not None:
        reply = Reply(
            MOVED, {"when": when, "new_when": format_appointment(c.new_starts_at, locale), **where}
        )
    elif c.status is Status.REPORTEE:
        # Refused on import; should it ever happen, the call centre knows.
        return [Reply(UNAVAILABLE)]
    else:
        reply = Reply(MAINTAINED, {"when": when, **where})
    note = (c.note or "").strip().rstrip(". ")
    return [reply, Reply(NOTE, {"note": note})] if note else [reply]


def replies_for(result: LookupResult, locale: str = "fr") -> list[Reply]:
    """The messages that answer one lookup."""
    if result.outcome is Outcome.LOCKED:
        return [Reply(LOCKED)]
    if result.outcome is not Outcome.FOUND or not result.consultations:
        return [Reply(NOT_MATCHED)]
    replies: list[Reply] = []
    for consultation in result.consultations:
        replies.extend(_consultation(consultation, locale))
    return [*replies, Reply(MORE_QUESTIONS)]


def unavailable() -> list[Reply]:
    """The list cannot be read (database down, unexpected error)."""
    return [Reply(UNAVAILABLE)]


def start_again() -> list[Reply]:
    return [Reply(START_AGAIN)]
