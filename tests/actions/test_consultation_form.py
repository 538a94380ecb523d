"""validate_consultation_form: what the form keeps, what it says, when a message leaves it.

The tracker is built the way Rasa's FormAction sends it: the user's message, then the requested
slot, the form's execution, and the slot candidates extracted from the message.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from actions.consultation_form import ValidateConsultationForm
from bot.consultations.form import FORM, opened_birth_date, opened_reference
from bot.nlu.consultation_entities import find_identifiers
from bot.privacy.hashing import hash_phone
from bot.privacy.redaction import BIRTH_DATE_MASK, REFERENCE_MASK
from bot.privacy.sealing import is_sealed, seal

pytestmark = pytest.mark.usefixtures("isolated_settings")

PHONE = "+32470123456"


def slot(name: str, value: Any) -> dict[str, Any]:
    return {"event": "slot", "name": name, "value": value, "timestamp": None}


def form_turn(requested: str | None, **candidates: Any) -> list[dict[str, Any]]:
    """What follows the user's message in the tracker the form sends to the validation."""
    return [
        slot("requested_slot", requested),
        {"event": "action", "name": FORM, "timestamp": None},
        *(slot(name, value) for name, value in candidates.items()),
    ]


def slot_events(events: list[dict[str, Any]]) -> dict[str, Any]:
    return {e["name"]: e["value"] for e in events if e["event"] == "slot"}


def responses(dispatcher: Any) -> list[str]:
    return [m["response"] for m in dispatcher.messages]


async def validate(dispatcher: Any, domain: dict, tracker: Any) -> list[dict[str, Any]]:
    return await ValidateConsultationForm().run(dispatcher, tracker, domain)


# --- values ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "typed",
    ["C-22-9100013", "c 22 9100013", "C22 9100013", "c-22-9100013", "C229100013", "c 22 910 0013"],
)
async def test_a_reference_in_any_case_and_spacing_is_kept_sealed(
    typed: str, dispatcher, domain, make_tracker
) -> None:
    value = find_identifiers(typed).reference
    tracker = make_tracker(typed, "inform", after=form_turn("reference", reference=value))
    kept = slot_events(await validate(dispatcher, domain, tracker))
    assert is_sealed(kept["reference"])
    assert opened_reference(kept["reference"]) == "C229100013"
    assert dispatcher.messages == []


@pytest.mark.parametrize(
    "typed",
    [
        "11/12/1999",
        "11-12-1999",
        "11.12.1999",
        "1999-12-11",
        "11 décembre 1999",
        "11 decembre 1999",
        "11 déc. 1999",
        "née le 11/12/1999",
        "je suis né le 11 décembre 1999",
        "date de naissance : 11/12/1999",
        "11/12/99",
        "11121999",
    ],
)
async def test_a_birth_date_in_every_usual_form_is_kept_sealed(
    typed: str, dispatcher, domain, make_tracker
) -> None:
    value = find_identifiers(typed).birth_date
    tracker = make_tracker(typed, "inform", after=form_turn("birth_date", birth_date=value))
    kept = slot_events(await validate(dispatcher, domain, tracker))
    assert opened_birth_date(kept["birth_date"]) == date(1999, 12, 11)
    assert dispatcher.messages == []


async def test_both_in_one_message(dispatcher, domain, make_tracker) -> None:
    text = "mon rendez-vous C-22-004512 est-il maintenu ? née le 14/02/1961"
    ids = find_identifiers(text)
    tracker = make_tracker(
        text,
        "consultation_lookup",
        after=form_turn(None, reference=ids.reference, birth_date=ids.birth_date),
    )
    kept = slot_events(await validate(dispatcher, domain, tracker))
    assert opened_reference(kept["reference"]) == "C22004512"
    assert opened_birth_date(kept["birth_date"]) == date(1961, 2, 14)
    assert dispatcher.messages == []


@pytest.mark.parametrize(
    "typed", ["31/02/1990", "30 février 1980", "14/02/2090", "12/03/1850", "14/2/05"]
)
async def test_an_impossible_birth_date_gets_a_polite_reask(
    typed: str, dispatcher, domain, make_tracker
) -> None:
    value = find_identifiers(typed).birth_date
    assert value == "invalid"
    tracker = make_tracker(typed, "inform", after=form_turn("birth_date", birth_date=value))
    kept = slot_events(await validate(dispatcher, domain, tracker))
    assert kept["birth_date"] is None  # the form asks again
    assert responses(dispatcher) == ["utter_invalid_birth_date"]


async def test_a_future_date_from_elsewhere_is_refused_too(dispatcher, domain, make_tracker):
    tomorrow = (date.today() + timedelta(days=1)).isoformat()
    tracker = make_tracker("x", "inform", after=form_turn("birth_date", birth_date=tomorrow))
    kept = slot_events(await validate(dispatcher, domain, tracker))
    assert kept["birth_date"] is None
    assert responses(dispatcher) == ["utter_invalid_birth_date"]


async def test_a_reference_of_the_wrong_shape_gets_a_polite_reask(
    dispatcher, domain, make_tracker
) -> None:
    tracker = make_tracker("C-22-45", "inform", after=form_turn("reference", reference="C2245"))
    kept = slot_events(await validate(dispatcher, domain, tracker))
    assert kept["reference"] is None
    assert responses(dispatcher) == ["utter_invalid_reference"]


async def test_digits_without_the_c_are_explained(dispatcher, domain, make_tracker) -> None:
    tracker = make_tracker("22 9100013", "inform", after=form_turn("reference"))
    events = await validate(dispatcher, domain, tracker)
    assert slot_events(events) == {"reference": None}  # validated: the form asks again
    assert responses(dispatcher) == ["utter_invalid_reference"]


async def test_a_masked_value_from_a_stored_turn_is_asked_again_silently(
    dispatcher, domain, make_tracker
) -> None:
    """At activation the form validates slots filled earlier; read back from the tracker store
    they are masks, worth nothing."""
    tracker = make_tracker(
        "je veux vérifier mon rendez-vous",
        "consultation_lookup",
        after=form_turn(None, reference=REFERENCE_MASK, birth_date=BIRTH_DATE_MASK),
    )
    kept = slot_events(await validate(dispatcher, domain, tracker))
    assert kept == {"reference": None, "birth_date": None}
    assert dispatcher.messages == []


async def test_a_tampered_sealed_value_is_worth_nothing(dispatcher, domain, make_tracker) -> None:
    sealed = seal("C229100013")
    forged = sealed[:-6] + ("AAAAAA" if not sealed.endswith("AAAAAA") else "BBBBBB")
    tracker = make_tracker("x", "inform", after=form_turn("reference", reference=forged))
    assert slot_events(await validate(dispatcher, domain, tracker))["reference"] is None


# --- leaving the form -----------------------------------------------------------------------------


def left_the_form(events: list[dict[str, Any]]) -> bool:
    kinds = [e["event"] for e in events]
    return (
        kinds[0] == "action_execution_rejected"
        and {"event": "active_loop", "name": None}
        in [{"event": e["event"], "name": e.get("name")} for e in events]
        and slot_events(events) == {"reference": None, "birth_date": None, "requested_slot": None}
    )


@pytest.mark.parametrize(
    "intent", ["situation", "er_when", "consultation_status", "greet", "nlu_fallback", "goodbye"]
)
async def test_another_question_leaves_the_form_silently(
    intent: str, dispatcher, domain, make_tracker
) -> None:
    tracker = make_tracker(
        "qu'est-ce qui se passe ?",
        intent,
        events=[slot("reference", seal("C229100013"))],
        after=form_turn("birth_date"),
        active_loop=FORM,
    )
    events = await validate(dispatcher, domain, tracker)
    assert left_the_form(events)
    assert dispatcher.messages == []  # the question's own answer comes first, from the rules


async def test_an_emergency_leaves_the_form_and_says_nothing_before_112(
    dispatcher, domain, make_tracker
) -> None:
    """Slot mappings ignore the emergency intent: even with a date in it, nothing is extracted,
    and the form closes without a word so that 112 is the first thing said."""
    tracker = make_tracker(
        "née le 14/02/1961, j'ai une douleur dans la poitrine",
        "emergency",
        after=form_turn("birth_date"),
        active_loop=FORM,
    )
    events = await validate(dispatcher, domain, tracker)
    assert left_the_form(events)
    assert dispatcher.messages == []


async def test_a_message_about_the_lookup_keeps_the_form(dispatcher, domain, make_tracker):
    tracker = make_tracker(
        "je ne l'ai pas sous la main", "consultation_lookup", after=form_turn("reference")
    )
    events = await validate(dispatcher, domain, tracker)
    assert slot_events(events) == {"reference": None}  # no rejection: the form asks again
    assert dispatcher.messages == []


async def test_a_value_for_the_other_slot_keeps_the_form(dispatcher, domain, make_tracker):
    """Asked for the reference, the patient gives the date of birth first."""
    tracker = make_tracker(
        "14/02/1961", "inform", after=form_turn("reference", birth_date="1961-02-14")
    )
    kept = slot_events(await validate(dispatcher, domain, tracker))
    assert set(kept) == {"birth_date"}
    assert opened_birth_date(kept["birth_date"]) == date(1961, 2, 14)


# --- SMS ------------------------------------------------------------------------------------------


def sms(phone: str = PHONE) -> dict[str, Any]:
    phone_hash = hash_phone(phone)
    return {
        "sender_id": phone_hash,
        "input_channel": "sms",
        "metadata": {"channel": "sms", "sender_phone_hash": phone_hash},
    }


async def test_by_sms_without_a_reference_only_the_birth_date_is_asked(
    dispatcher, domain, make_tracker
) -> None:
    tracker = make_tracker(
        "je veux vérifier mon rendez-vous", "consultation_lookup", after=form_turn(None), **sms()
    )
    events = await validate(dispatcher, domain, tracker)
    assert slot_events(events) == {"requested_slot": "birth_date"}


async def test_by_sms_the_birth_date_alone_completes_the_form(dispatcher, domain, make_tracker):
    tracker = make_tracker(
        "14/02/1961", "inform", after=form_turn("birth_date", birth_date="1961-02-14"), **sms()
    )
    kept = slot_events(await validate(dispatcher, domain, tracker))
    assert opened_birth_date(kept["birth_date"]) == date(1961, 2, 14)
    assert kept["requested_slot"] is None  # done: the lookup comes next


async def test_by_sms_a_given_reference_is_still_used(dispatcher, domain, make_tracker) -> None:
    tracker = make_tracker(
        "C-22-9100013", "inform", after=form_turn(None, reference="C229100013"), **sms()
    )
    kept = slot_events(await validate(dispatcher, domain, tracker))
    assert opened_reference(kept["reference"]) == "C229100013"
    assert "requested_slot" not in kept  # both required, as on the web: Rasa asks the date next


async def test_sms_metadata_sent_over_rest_changes_nothing(dispatcher, domain, make_tracker):
    """A REST client chooses its metadata: it does not make it an SMS."""
    spoofed = {**sms(), "input_channel": "rest"}
    tracker = make_tracker(
        "je veux vérifier", "consultation_lookup", after=form_turn(None), **spoofed
    )
    events = await validate(dispatcher, domain, tracker)
    assert "requested_slot" not in slot_events(events)  # the form asks both, as on the web
