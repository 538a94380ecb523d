"""`action_consultation_lookup`: the answer to "is my consultation maintained?", once the form
has the reference and the date of birth (or, by SMS, the date of birth and the sender's phone).

`bot.consultations.lookup` checks them, counts failures and applies the lockout (in the
database, shared by every server); `bot.consultations.answers` says which answers to give. Then
the form's slots are emptied: a verification is worth this one answer, and the next question
needs the date of birth again. If the list cannot be read, the patient gets the call centre.

Nothing here logs a reference, a date of birth or a phone number.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import date
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot.consultations import lookup
from bot.consultations.answers import Reply, replies_for, start_again, unavailable
from bot.consultations.form import (
    BIRTH_DATE,
    FORM_SLOTS,
    REFERENCE,
    REQUESTED_SLOT,
    opened_birth_date,
    opened_reference,
    sms_phone_hash,
)

logger = logging.getLogger(__name__)


def _lookup(
    reference: str | None, birth_date: date, phone_hash: str | None, conversation_id: str
) -> lookup.LookupResult:
    if reference is not None:
        return lookup.verify_and_get(reference, birth_date, conversation_id)
    assert phone_hash is not None
    return lookup.find_by_phone_hash_and_birth_date(phone_hash, birth_date, conversation_id)


async def answer(tracker: Tracker) -> list[Reply]:
    """The replies for the values in the tracker (never raises)."""
    reference = opened_reference(tracker.get_slot(REFERENCE))
    birth_date = opened_birth_date(tracker.get_slot(BIRTH_DATE))
    phone_hash = sms_phone_hash(
        tracker.latest_message.get("metadata"),
        tracker.get_latest_input_channel(),
        tracker.sender_id,
    )
    if birth_date is None or (reference is None and phone_hash is None):
        return start_again()  # sealed values older than an hour, or never given
    try:
        result = await asyncio.to_thread(
            _lookup, reference, birth_date, phone_hash, tracker.sender_id
        )
    except Exception as exc:
        # The type only: a database error message may quote values.
        logger.error(
            "consultation lookup failed (%s); answered with the call centre", type(exc).__name__
        )
        return unavailable()
    return replies_for(result)


class ActionConsultationLookup(Action):
    def name(self) -> str:
        return "action_consultation_lookup"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        for reply in await answer(tracker):
            dispatcher.utter_message(response=reply.response, **reply.values)
        events: list[EventType] = [SlotSet(slot, None) for slot in FORM_SLOTS]
        events.append(SlotSet(REQUESTED_SLOT, None))
        return events
