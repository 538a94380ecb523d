"""`validate_consultation_form`: checks what the patient gives the consultation form.

The rules are in `bot.consultations.form`; this action applies them for Rasa:
- the reference and the date of birth, each checked and kept sealed until the lookup;
- an impossible date or a reference that does not have the printed shape: a polite word, then
  the form asks again;
- by SMS without a reference, only the date of birth is asked;
- a message that is not for the form (another question, an emergency) leaves it: the form is
  rejected and closed, its slots emptied, and the question gets its own answer.

Nothing here logs a value.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import ActionExecutionRejected, ActiveLoop, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction
from rasa_sdk.types import DomainDict

from bot.consultations.form import (
    BIRTH_DATE,
    FORM,
    FORM_SLOTS,
    INVALID_BIRTH_DATE,
    INVALID_REFERENCE,
    REFERENCE,
    REQUESTED_SLOT,
    check_birth_date,
    check_reference,
    leaves_form,
    reask_hint,
    required_slots,
    sms_phone_hash,
)


def leave_form_events() -> list[EventType]:
    """Reject this run of the form (so that the policies answer the message) and close it."""
    return [
        ActionExecutionRejected(FORM),
        ActiveLoop(None),
        *(SlotSet(slot, None) for slot in FORM_SLOTS),
        SlotSet(REQUESTED_SLOT, None),
    ]


class ValidateConsultationForm(FormValidationAction):
    def name(self) -> str:
        return "validate_consultation_form"

    async def required_slots(
        self,
        domain_slots: list[str],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[str]:
        return required_slots(
            domain_slots,
            has_reference=tracker.get_slot(REFERENCE) is not None,
            phone_hash=sms_phone_hash(
                tracker.latest_message.get("metadata"),
                tracker.get_latest_input_channel(),
                tracker.sender_id,
            ),
        )

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        requested = tracker.get_slot(REQUESTED_SLOT)
        has_candidates = any(slot in FORM_SLOTS for slot in tracker.slots_to_validate())
        if leaves_form(
            requested,
            has_candidates,
            tracker.get_intent_of_latest_message(skip_fallback_intent=False),
        ):
            return leave_form_events()
        events = await super().run(dispatcher, tracker, domain)
        if requested and not has_candidates:
            # About the lookup, but nothing usable: say why if we can, and ask again.
            hint = reask_hint(requested, tracker.latest_message.get("text") or "")
            if hint:
                dispatcher.utter_message(response=hint)
            events.append(SlotSet(requested, None))
        return events

    def validate_reference(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        checked = check_reference(value)
        if checked.invalid:
            dispatcher.utter_message(response=INVALID_REFERENCE)
        return {REFERENCE: checked.value}

    def validate_birth_date(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        checked = check_birth_date(value)
        if checked.invalid:
            dispatcher.utter_message(response=INVALID_BIRTH_DATE)
        return {BIRTH_DATE: checked.value}
