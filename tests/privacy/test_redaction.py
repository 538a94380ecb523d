"""bot.privacy.redaction: identifiers masked in stored events and in log lines."""

from __future__ import annotations

import copy
import json
import logging
from typing import Any

import pytest

from bot.privacy.redaction import (
    BIRTH_DATE,
    BIRTH_DATE_MASK,
    EMAIL,
    NUMBER,
    PHONE,
    PHONE_MASK,
    REFERENCE,
    REFERENCE_MASK,
    RedactingLogFilter,
    add_span,
    identifier_spans,
    redact_event,
    redact_text,
)
from bot.privacy.sealing import PREFIX

SEALED = PREFIX + "gAAAAABoXyZ_C-22-9100013_14-02-1961"  # kept as it is, whatever it holds


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("C-22-9100013", REFERENCE_MASK),
        ("ma référence c'est c 22 9100013", f"ma référence c'est {REFERENCE_MASK}"),
        ("C22004512 et C 22 004 512", f"{REFERENCE_MASK} et {REFERENCE_MASK}"),
        ("22-9100013", REFERENCE_MASK),  # without its C
        ("14/02/1961", BIRTH_DATE_MASK),
        ("14-02-1961", BIRTH_DATE_MASK),
        ("14.02.1961", BIRTH_DATE_MASK),
        ("1961-02-14", BIRTH_DATE_MASK),
        ("14 02 1961", BIRTH_DATE_MASK),
        ("née le 3/4/75", f"née le {BIRTH_DATE_MASK}"),
        ("14 février 1961", BIRTH_DATE_MASK),
        ("14 FEVRIER 1961", BIRTH_DATE_MASK),
        ("1er mars 1950", BIRTH_DATE_MASK),
        ("14 fév. 1961", BIRTH_DATE_MASK),
        ("14021961", BIRTH_DATE_MASK),
        ("31/02/1990", BIRTH_DATE_MASK),  # impossible, still masked
        ("+32470123456", PHONE_MASK),
        ("+32 470 12 34 56", PHONE_MASK),
        ("0032470123456", PHONE_MASK),
        ("0470/12.34.56", PHONE_MASK),
        ("061 23 45 67", PHONE_MASK),
        (
            "mon rdv C-22-004512 est maintenu ? née le 14/02/1961, tél 0470123456",
            f"mon rdv {REFERENCE_MASK} est maintenu ? née le {BIRTH_DATE_MASK}, tél {PHONE_MASK}",
        ),
        ("ma consultation est-elle maintenue ?", "ma consultation est-elle maintenue ?"),
        ("1 500 ordinateurs, 6 349 consultations", "1 500 ordinateurs, 6 349 consultations"),
        ("", ""),
    ],
)
def test_user_text(text: str, expected: str) -> None:
    assert redact_text(text) == expected


def test_service_numbers_are_not_phone_numbers() -> None:
    text = "Appelez le 0800/35.168, le 070/245.245, le 0800/32.123, le 112 ou le 1733."
    assert redact_text(text) == text
    assert redact_text(text, bot=True) == text


def test_bot_text_keeps_the_appointment_and_masks_identifiers() -> None:
    text = (
        "Votre consultation du mardi 17 mai 2022 à 14 h 30 est maintenue. "
        "Référence C-22-004512, née le 14/02/1961. Information du 17 mai."
    )
    assert redact_text(text, bot=True) == (
        "Votre consultation du mardi 17 mai 2022 à 14 h 30 est maintenue. "
        f"Référence {REFERENCE_MASK}, née le {BIRTH_DATE_MASK}. Information du 17 mai."
    )


def test_hashes_and_sealed_values_are_left_alone() -> None:
    phone_hash = "c22004512" + "0" * 55
    assert redact_text(phone_hash) == phone_hash
    assert redact_text(SEALED) == SEALED


USER_EVENT: dict[str, Any] = {
    "event": "user",
    "timestamp": 1.0,
    "text": "mon rdv C-22-004512 est maintenu ? née le 14/02/1961",
    "input_channel": "rest",
    "message_id": "2f1c3e4a5b6c7d8e9f0a1b2c3d4e5f60",
    "metadata": {"note": "rappel au +32470123456"},
    "parse_data": {
        "intent": {"name": "consultation_lookup", "confidence": 1.0},
        "entities": [
            {"entity": "reference", "value": "C22004512", "start": 8, "end": 19},
            {"entity": "birth_date", "value": "1961-02-14", "start": 42, "end": 52},
            {"entity": "danger", "value": "general", "start": 0, "end": 10},
        ],
        "text": "mon rdv C-22-004512 est maintenu ? née le 14/02/1961",
        "intent_ranking": [{"name": "consultation_lookup", "confidence": 1.0}],
    },
}


def test_user_event() -> None:
    original = copy.deepcopy(USER_EVENT)
    redacted = redact_event(USER_EVENT)
    assert original == USER_EVENT  # the input is not changed
    masked = f"mon rdv {REFERENCE_MASK} est maintenu ? née le {BIRTH_DATE_MASK}"
    assert redacted["text"] == masked
    assert redacted["parse_data"]["text"] == masked
    entities = {e["entity"]: e["value"] for e in redacted["parse_data"]["entities"]}
    assert entities == {"reference": REFERENCE_MASK, "birth_date": BIRTH_DATE_MASK,
                        "danger": "general"}  # fmt: skip
    assert redacted["metadata"] == {"note": f"rappel au {PHONE_MASK}"}
    assert redacted["message_id"] == USER_EVENT["message_id"]
    assert redacted["parse_data"]["intent"] == USER_EVENT["parse_data"]["intent"]
    dumped = json.dumps(redacted, ensure_ascii=False)
    for identifier in ("C-22-004512", "C22004512", "14/02/1961", "1961-02-14", "+32470123456"):
        assert identifier not in dumped


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("reference", "C22004512", REFERENCE_MASK),
        ("reference", "anything at all", REFERENCE_MASK),
        ("birth_date", "1961-02-14", BIRTH_DATE_MASK),
        ("birth_date", "invalid", BIRTH_DATE_MASK),
        ("reference", SEALED, SEALED),
        ("birth_date", None, None),
        ("requested_slot", "birth_date", "birth_date"),
        ("topic", "ma référence C-22-004512", f"ma référence {REFERENCE_MASK}"),
    ],
)
def test_slot_events(name: str, value: object, expected: object) -> None:
    event = {"event": "slot", "timestamp": 1.0, "name": name, "value": value}
    assert redact_event(event) == {**event, "value": expected}


def test_bot_event() -> None:
    event = {
        "event": "bot",
        "timestamp": 1.0,
        "text": "Votre consultation du jeudi 19 mai 2022 à 17 h est maintenue (C-22-9100013).",
        "data": {"buttons": [{"title": "14/02/1961", "payload": "né le 14/02/1961"}]},
        "metadata": {"utter_action": "utter_consultation_maintained", "when": "jeudi 19 mai 2022"},
    }
    redacted = redact_event(event)
    assert redacted["text"] == (
        f"Votre consultation du jeudi 19 mai 2022 à 17 h est maintenue ({REFERENCE_MASK})."
    )
    assert redacted["data"]["buttons"] == [
        {"title": BIRTH_DATE_MASK, "payload": f"né le {BIRTH_DATE_MASK}"}
    ]
    assert redacted["metadata"] == event["metadata"]


def test_entities_event_and_other_events() -> None:
    entities = {"event": "entities", "entities": [{"entity": "reference", "value": "C22004512"}]}
    assert redact_event(entities)["entities"] == [{"entity": "reference", "value": REFERENCE_MASK}]
    action = {"event": "action", "name": "action_consultation_lookup", "policy": "RulePolicy"}
    assert redact_event(action) == action
    loop = {"event": "active_loop", "name": "consultation_form"}
    assert redact_event(loop) == loop


def record(message: str, *args: object) -> logging.LogRecord:
    return logging.LogRecord("rasa", logging.ERROR, __file__, 1, message, args, None)


def test_log_filter_masks_messages_and_arguments() -> None:
    rec = record('rest.message.received.failure text="C-22-9100013 née le %s"', "14/02/1961")
    assert RedactingLogFilter().filter(rec)
    assert rec.getMessage() == (
        f'rest.message.received.failure text="{REFERENCE_MASK} née le {BIRTH_DATE_MASK}"'
    )


def test_log_filter_masks_tracebacks() -> None:
    try:
        raise ValueError("bad value C-22-9100013")
    except ValueError:
        import sys

        rec = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed", (), sys.exc_info())
    RedactingLogFilter().filter(rec)
    formatted = logging.Formatter().format(rec)
    assert "C-22-9100013" not in formatted
    assert REFERENCE_MASK in formatted and "ValueError" in formatted


def test_a_persons_email_and_long_numbers_are_masked_but_service_numbers_kept():
    text = "écrivez à jean.dupont@mail.be, mon n° national 85073012345, appelez le 0800/35.168"
    assert redact_text(text) == (
        "écrivez à [courriel], mon n° national [numéro], appelez le 0800/35.168"
    )
    # the assistant's own texts: only identifiers are masked
    assert redact_text("Écrivez à info@vivalia.be", bot=True) == "Écrivez à info@vivalia.be"


def test_a_misspelt_month_is_masked_as_the_lookup_reads_it():
    assert redact_text("née le 24 févier 1971") == "née le [date de naissance]"


def test_a_span_that_overlaps_one_already_found_is_left_out() -> None:
    found: list[tuple[int, int, str]] = [(4, 10, "phone")]
    assert not add_span(found, (8, 14, "birth_date"))  # overlaps: the first one wins
    assert not add_span(found, (0, 20, "number"))  # contains it
    assert add_span(found, (10, 14, "birth_date"))  # touching is not overlapping
    assert add_span(found, (0, 4, "reference"))
    assert found == [(4, 10, "phone"), (10, 14, "birth_date"), (0, 4, "reference")]


@pytest.mark.parametrize(
    ("text", "user", "bot"),
    [
        # an e-mail address before the numbers it holds (a person's text only)
        ("jean.0470123456@mail.be", [(0, 23, EMAIL)], []),
        # references before phone numbers, dates and long numbers
        ("C-22-9100013", [(0, 12, REFERENCE)], [(0, 12, REFERENCE)]),
        # phone numbers (9 digits or more) before dates (8 at most)
        ("0470/12.34.56", [(0, 13, PHONE)], [(0, 13, PHONE)]),
        (
            "tél 0470123456 le 14/02/1961",
            [(4, 14, PHONE), (18, 28, BIRTH_DATE)],
            [(4, 14, PHONE), (18, 28, BIRTH_DATE)],
        ),
        # the date the assistant gives after a weekday is the appointment
        ("mardi 17 mai 2022 à 14 h 30", [(6, 17, BIRTH_DATE)], []),
        # guesses in a person's text only: 8-digit dates, references without their C
        ("le 14021961", [(3, 11, BIRTH_DATE)], []),
        ("le 22 9100013", [(3, 13, REFERENCE)], []),
        ("n° 85073012345", [(3, 14, NUMBER)], []),
    ],
)
def test_the_passes_run_in_order_and_the_first_one_wins(
    text: str, user: list[tuple[int, int, str]], bot: list[tuple[int, int, str]]
) -> None:
    assert identifier_spans(text) == user
    assert identifier_spans(text, bot=True) == bot


@pytest.mark.parametrize("number", ["85.07.30-033.61", "85 07 30 033 61", "850730-03361"])
def test_a_national_register_number_is_masked_whole(number):
    assert redact_text(f"mon numéro national : {number}, merci") == (
        "mon numéro national : [numéro], merci"
    )
