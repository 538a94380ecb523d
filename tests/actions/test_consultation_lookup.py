"""action_consultation_lookup: the answer for every status, the same words for an unknown
reference and a wrong date of birth, the lockout (across conversations and restarts), the SMS
path, a database that cannot be reached; and nothing left in the tracker afterwards."""

from __future__ import annotations

import csv
import io
import logging
from typing import Any

import pytest

from actions.consultation_lookup import ActionConsultationLookup
from bot.consultations.importer import import_consultations
from bot.content.store import load_content
from bot.db import dispose_engines
from bot.privacy.hashing import hash_phone
from bot.privacy.sealing import seal
from bot.settings import get_settings

pytestmark = pytest.mark.usefixtures("isolated_settings")

PHONE = "+32470123456"
HEADER = ["reference", "birth_date", "starts_at", "site", "service", "status", "new_starts_at",
          "phone", "last_name", "first_name", "note"]  # fmt: skip
ROWS = [
    ["C-22-9100013", "1999-12-11", "2022-05-19T17:00", "Hôpital psychiatrique de Bertrix",
     "Psychiatrie", "maintenue", "", "+32473837993", "Peeters", "Céline", ""],
    ["C-22-9100109", "2007-06-14", "2022-05-16T11:00", "Centre Sainte-Thérèse Bastogne",
     "Gynécologie-obstétrique", "maintenue", "", "", "Lejeune", "Noémie",
     "Venir avec votre carnet de grossesse"],
    ["C-22-9100001", "1941-04-28", "2022-05-18T09:45", "Centre Sainte-Thérèse Bastogne",
     "Neurologie", "annulée", "", "", "Maréchal", "Marie", ""],
    ["C-22-9100130", "1975-04-13", "2022-05-17T08:00", "Hôpital de Virton", "Oncologie",
     "reportée", "2022-06-18T08:00", "", "Dubois", "Élise", ""],
    ["C-22-9100014", "1934-01-02", "2022-05-16T16:00", "CHA Libramont", "Psychiatrie",
     "maintenue", "", "", "Schmitz", "Michel", ""],
    ["C-22-9100027", "2008-07-27", "2022-05-19T16:15", "Hôpital Princesse Paola Marche",
     "Oncologie", "annulée", "", "", "Lambert", "Noémie", ""],
    # One phone, two patients of one family: the date of birth picks the patient.
    ["C-22-9200001", "1961-02-14", "2022-05-18T10:00", "CHA Libramont", "Cardiologie",
     "maintenue", "", PHONE, "Dupont", "Anne", ""],
    ["C-22-9200002", "1961-02-14", "2022-05-20T14:30", "Clinique Saint-Joseph Arlon", "ORL",
     "annulée", "", PHONE, "Dupont", "Anne", ""],
    ["C-22-9200003", "1990-05-05", "2022-05-19T09:00", "CHA Libramont", "Dermatologie",
     "maintenue", "", PHONE, "Dupont", "Luc", ""],
]  # fmt: skip


@pytest.fixture(autouse=True)
def consultations(isolated_settings) -> None:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(HEADER)
    writer.writerows(ROWS)
    import_consultations(out.getvalue().encode("utf-8"))


def lookup_tracker(
    make_tracker: Any,
    reference: str | None,
    birth_date: str,
    sender_id: str = "conv-1",
    **kwargs: Any,
) -> Any:
    slots = {
        "reference": seal(reference) if reference else None,
        "birth_date": seal(birth_date),
        "requested_slot": None,
    }
    return make_tracker("11/12/1999", "inform", slots=slots, sender_id=sender_id, **kwargs)


async def ask(
    dispatcher: Any, domain: dict, make_tracker: Any, reference: str | None, birth_date: str,
    **kwargs: Any,
) -> list[dict[str, Any]]:  # fmt: skip
    tracker = lookup_tracker(make_tracker, reference, birth_date, **kwargs)
    return await ActionConsultationLookup().run(dispatcher, tracker, domain)


def texts(dispatcher: Any) -> list[str]:
    """The messages as the patient reads them: the answers file, values filled in."""
    settings = get_settings()
    content = load_content(settings.content_file, settings.content_dir / "facts.yml")
    out = []
    for message in dispatcher.messages:
        answer = content.get(message["response"])
        assert answer is not None, message["response"]
        values = {name: message[name] for name in answer.variables}
        out.append(answer.render_data({}, **values).text)
    return out


def responses(dispatcher: Any) -> list[str]:
    return [m["response"] for m in dispatcher.messages]


IDENTIFIERS = ("9100", "9200", "C-22", "C22", "1999", "1961", "1975", "1941", "2007", "+32")


def assert_no_identifier(text: str) -> None:
    for identifier in IDENTIFIERS:
        assert identifier not in text, f"{identifier!r} in {text!r}"


# --- every status ---------------------------------------------------------------------------------


async def test_maintained_when_where_which_service(dispatcher, domain, make_tracker) -> None:
    await ask(dispatcher, domain, make_tracker, "C-22-9100013", "1999-12-11")
    assert responses(dispatcher) == [
        "utter_consultation_maintained",
        "utter_consultation_more_questions",
    ]
    maintained, more = texts(dispatcher)
    assert "jeudi 19 mai 2022 à 17 h" in maintained
    assert "maintenue" in maintained
    assert "Hôpital psychiatrique de Bertrix" in maintained
    assert "Psychiatrie" in maintained
    assert "0800/35.168" in more


async def test_maintained_with_the_services_note(dispatcher, domain, make_tracker) -> None:
    await ask(dispatcher, domain, make_tracker, "c 22 9100109", "2007-06-14")
    assert responses(dispatcher) == [
        "utter_consultation_maintained",
        "utter_consultation_note",
        "utter_consultation_more_questions",
    ]
    maintained, note, _ = texts(dispatcher)
    assert "lundi 16 mai 2022 à 11 h" in maintained
    assert note == "Consigne du service : Venir avec votre carnet de grossesse."


async def test_cancelled_and_the_rule_for_the_future(dispatcher, domain, make_tracker) -> None:
    await ask(dispatcher, domain, make_tracker, "C-22-9100001", "1941-04-28")
    assert responses(dispatcher) == [
        "utter_consultation_cancelled",
        "utter_consultation_more_questions",
    ]
    cancelled = texts(dispatcher)[0]
    assert "mercredi 18 mai 2022 à 9 h 45" in cancelled
    assert "annulée" in cancelled and "Neurologie" in cancelled
    assert "si Vivalia ne vous a pas contacté, la consultation est annulée" in cancelled


async def test_moved_gives_the_new_date_and_time(dispatcher, domain, make_tracker) -> None:
    await ask(dispatcher, domain, make_tracker, "C22-9100130", "1975-04-13")
    assert responses(dispatcher) == [
        "utter_consultation_moved",
        "utter_consultation_more_questions",
    ]
    moved = texts(dispatcher)[0]
    assert "mardi 17 mai 2022 à 8 h" in moved
    assert "reportée" in moved
    assert "samedi 18 juin 2022 à 8 h" in moved
    assert "Hôpital de Virton" in moved


async def test_no_answer_repeats_a_reference_or_a_birth_date(dispatcher, domain, make_tracker):
    for reference, born in [("C-22-9100013", "1999-12-11"), ("C-22-9100109", "2007-06-14"),
                            ("C-22-9100001", "1941-04-28"), ("C-22-9100130", "1975-04-13"),
                            ("C-22-0000000", "1961-02-14")]:  # fmt: skip
        await ask(dispatcher, domain, make_tracker, reference, born, sender_id=f"c-{reference}")
    for text in texts(dispatcher):
        assert_no_identifier(text)


async def test_the_slots_are_emptied_after_the_answer(dispatcher, domain, make_tracker) -> None:
    events = await ask(dispatcher, domain, make_tracker, "C-22-9100013", "1999-12-11")
    assert {(e["name"], e["value"]) for e in events if e["event"] == "slot"} == {
        ("reference", None),
        ("birth_date", None),
        ("requested_slot", None),
    }


# --- not matched ----------------------------------------------------------------------------------


async def test_unknown_reference_and_wrong_birth_date_get_the_same_words(
    make_tracker, domain
) -> None:
    from rasa_sdk.executor import CollectingDispatcher

    unknown, wrong = CollectingDispatcher(), CollectingDispatcher()
    await ask(unknown, domain, make_tracker, "C-22-0000000", "1999-12-11", sender_id="a")
    await ask(wrong, domain, make_tracker, "C-22-9100013", "1961-02-14", sender_id="b")
    assert unknown.messages == wrong.messages
    assert texts(unknown) == texts(wrong)
    (text,) = texts(unknown)
    assert "si Vivalia ne vous a pas contacté, votre consultation est annulée" in text
    assert "0800/35.168" in text


# --- lockout --------------------------------------------------------------------------------------


async def fail(domain: dict, make_tracker: Any, reference: str, sender_id: str) -> list[str]:
    from rasa_sdk.executor import CollectingDispatcher

    d = CollectingDispatcher()
    await ask(d, domain, make_tracker, reference, "1900-01-01", sender_id=sender_id)
    return responses(d)


async def test_three_failures_on_a_reference_lock_it_for_every_conversation(
    dispatcher, domain, make_tracker
) -> None:
    for i in range(3):
        assert await fail(domain, make_tracker, "C-22-9100013", f"fresh-{i}") == [
            "utter_consultation_not_found"
        ]
    # The right date of birth, from yet another conversation: refused.
    await ask(dispatcher, domain, make_tracker, "c 22 9100013", "1999-12-11", sender_id="new")
    assert responses(dispatcher) == ["utter_consultation_locked"]
    assert "0800/35.168" in texts(dispatcher)[0]


async def test_three_failures_in_a_conversation_lock_it(dispatcher, domain, make_tracker):
    for reference in ("C-22-9100014", "C-22-9100027", "C-22-0000001"):
        await fail(domain, make_tracker, reference, "one-conversation")
    await ask(dispatcher, domain, make_tracker, "C-22-9100001", "1941-04-28",
              sender_id="one-conversation")  # fmt: skip
    assert responses(dispatcher) == ["utter_consultation_locked"]


async def test_the_lock_is_for_the_conversation_and_the_reference_only(
    dispatcher, domain, make_tracker
) -> None:
    for reference in ("C-22-9100014", "C-22-9100027", "C-22-0000001"):
        await fail(domain, make_tracker, reference, "locked-conversation")
    await ask(dispatcher, domain, make_tracker, "C-22-9100001", "1941-04-28", sender_id="other")
    assert responses(dispatcher)[0] == "utter_consultation_cancelled"


async def test_the_lockout_survives_a_restart(dispatcher, domain, make_tracker) -> None:
    for i in range(3):
        await fail(domain, make_tracker, "C-22-9100013", f"before-restart-{i}")
    dispose_engines()  # a new process: new engine, new connections, nothing in memory
    get_settings.cache_clear()
    await ask(dispatcher, domain, make_tracker, "C-22-9100013", "1999-12-11", sender_id="after")
    assert responses(dispatcher) == ["utter_consultation_locked"]


# --- SMS ------------------------------------------------------------------------------------------


def sms(phone: str = PHONE) -> dict[str, Any]:
    phone_hash = hash_phone(phone)
    return {
        "sender_id": phone_hash,
        "input_channel": "sms",
        "metadata": {"channel": "sms", "sender_phone_hash": phone_hash},
    }


async def test_by_sms_the_birth_date_finds_that_patients_consultations(
    dispatcher, domain, make_tracker
) -> None:
    await ask(dispatcher, domain, make_tracker, None, "1961-02-14", **sms())
    assert responses(dispatcher) == [
        "utter_consultation_maintained",
        "utter_consultation_cancelled",
        "utter_consultation_more_questions",
    ]
    maintained, cancelled, _ = texts(dispatcher)
    assert "Cardiologie" in maintained and "ORL" in cancelled
    assert "Dermatologie" not in " ".join(texts(dispatcher))  # the other family member's


async def test_by_sms_a_wrong_birth_date_is_not_matched(dispatcher, domain, make_tracker):
    await ask(dispatcher, domain, make_tracker, None, "1970-01-01", **sms())
    assert responses(dispatcher) == ["utter_consultation_not_found"]


async def test_by_sms_from_a_number_not_on_file_is_not_matched(dispatcher, domain, make_tracker):
    await ask(dispatcher, domain, make_tracker, None, "1961-02-14", **sms("+32479999999"))
    assert responses(dispatcher) == ["utter_consultation_not_found"]


async def test_by_sms_with_a_reference_the_reference_is_checked(dispatcher, domain, make_tracker):
    await ask(dispatcher, domain, make_tracker, "C-22-9100013", "1999-12-11", **sms())
    assert responses(dispatcher)[0] == "utter_consultation_maintained"


async def test_sms_metadata_over_rest_does_not_identify_anyone(dispatcher, domain, make_tracker):
    spoofed = {**sms(), "input_channel": "rest"}
    await ask(dispatcher, domain, make_tracker, None, "1961-02-14", **spoofed)
    assert responses(dispatcher) == ["utter_offer_lookup"]  # asked for the reference again


# --- nothing to look up, database down ------------------------------------------------------------


async def test_without_usable_values_the_patient_is_asked_again(dispatcher, domain, make_tracker):
    tracker = make_tracker("x", "inform", slots={"reference": "[référence]", "birth_date": None})
    events = await ActionConsultationLookup().run(dispatcher, tracker, domain)
    assert responses(dispatcher) == ["utter_offer_lookup"]
    assert all(e["value"] is None for e in events)


@pytest.mark.parametrize(
    "url",
    ["postgresql://nobody@127.0.0.1:1/none", "sqlite:////proc/no-such-dir/crisis.db"],
    ids=["postgresql-refused", "sqlite-unwritable"],
)
async def test_database_down_gives_the_call_centre_never_silence(
    url: str, dispatcher, domain, make_tracker, monkeypatch, caplog
) -> None:
    monkeypatch.setenv("DATABASE_URL", url)
    get_settings.cache_clear()
    dispose_engines()
    caplog.set_level(logging.DEBUG)
    events = await ask(dispatcher, domain, make_tracker, "C-22-9100013", "1999-12-11")
    assert responses(dispatcher) == ["utter_consultation_unavailable"]
    assert "0800/35.168" in texts(dispatcher)[0]
    assert all(e["value"] is None for e in events)
    assert "consultation lookup failed" in caplog.text
    assert_no_identifier(caplog.text)


async def test_the_action_logs_no_identifier(dispatcher, domain, make_tracker, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    await ask(dispatcher, domain, make_tracker, "C-22-9100013", "1999-12-11")
    await ask(dispatcher, domain, make_tracker, "C-22-0000000", "1961-02-14", sender_id="x")
    assert_no_identifier(caplog.text)
