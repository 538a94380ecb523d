from __future__ import annotations

import threading
from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine

from bot.consultations.importer import import_consultations
from bot.consultations.lookup import (
    LOCK_DURATION,
    LookupResult,
    Outcome,
    PatientConsultation,
    find_by_name_and_birth_date,
    find_by_phone_and_birth_date,
    find_by_phone_hash_and_birth_date,
    find_by_reference,
    verify_and_get,
)
from bot.consultations.models import Status, failures_table
from bot.db import dispose_engines, get_engine
from bot.privacy.hashing import hash_phone

from .conftest import SAMPLE, csv_bytes, row

T0 = datetime(2022, 5, 16, 9, 0)  # naive UTC
MINUTE = timedelta(minutes=1)

MAINTAINED = ("C-22-9100013", date(1999, 12, 11))
CANCELLED = ("C-22-9100001", date(1941, 4, 28))
MOVED = ("C-22-9100130", date(1975, 4, 13))
PREGNANT = ("C-22-9100109", date(2007, 6, 14))
OTHER = ("C-22-9100014", date(1934, 1, 2))
UNKNOWN_REF = "C-22-0000000"
WRONG_DATE = date(1961, 2, 14)


@pytest.fixture
def loaded(engine: Engine) -> Engine:
    import_consultations(SAMPLE, engine=engine)
    return engine


def lookup(engine: Engine, ref: str, birth: date, conv: str, now: datetime) -> LookupResult:
    return verify_and_get(ref, birth, conv, now, engine=engine)


# --- outcomes ---------------------------------------------------------------------------------


def test_found_maintained(loaded: Engine) -> None:
    result = lookup(loaded, "c 22 9100013", MAINTAINED[1], "conv", T0)
    assert result.outcome is Outcome.FOUND
    assert result.found
    assert result.consultation == PatientConsultation(
        starts_at=datetime(2022, 5, 19, 17, 0),
        site="Hôpital psychiatrique de Bertrix",
        service="Psychiatrie",
        status=Status.MAINTENUE,
        new_starts_at=None,
        note=None,
    )


def test_found_cancelled_moved_and_note(loaded: Engine) -> None:
    cancelled = lookup(loaded, *CANCELLED, "conv", T0).consultation
    assert cancelled is not None and cancelled.status is Status.ANNULEE
    moved = lookup(loaded, "c22-9100130", MOVED[1], "conv", T0).consultation
    assert moved is not None and moved.status is Status.REPORTEE
    assert moved.new_starts_at == datetime(2022, 6, 18, 8, 0)
    pregnant = lookup(loaded, *PREGNANT, "conv", T0).consultation
    assert pregnant is not None and pregnant.note == "Venir avec votre carnet de grossesse"


def test_patient_result_carries_no_identity(loaded: Engine) -> None:
    consultation = lookup(loaded, *MAINTAINED, "conv", T0).consultation
    text = repr(consultation)
    for secret in ("1999", "Peeters", "Céline", "9100013", "+32"):
        assert secret not in text


def test_unknown_reference_and_wrong_date_are_indistinguishable(loaded: Engine) -> None:
    unknown = lookup(loaded, UNKNOWN_REF, WRONG_DATE, "conv-a", T0)
    wrong = lookup(loaded, MAINTAINED[0], WRONG_DATE, "conv-b", T0)
    assert unknown == wrong == LookupResult(Outcome.NOT_MATCHED, remaining_attempts=2)
    # ... and so is what they leave in the database.
    with loaded.connect() as conn:
        scopes = sorted(r.scope for r in conn.execute(select(failures_table)))
    assert scopes == ["conversation", "conversation", "reference", "reference"]


def test_unknown_reference_locks_like_a_known_one(loaded: Engine) -> None:
    results = {}
    for ref in (UNKNOWN_REF, MAINTAINED[0]):
        for n in range(3):
            lookup(loaded, ref, WRONG_DATE, f"{ref}-{n}", T0 + n * MINUTE)
        results[ref] = lookup(loaded, ref, WRONG_DATE, f"{ref}-new", T0 + 5 * MINUTE)
    assert results[UNKNOWN_REF] == results[MAINTAINED[0]]
    assert results[UNKNOWN_REF].outcome is Outcome.LOCKED


# --- lockout ----------------------------------------------------------------------------------


def test_lock_per_reference_across_conversations(loaded: Engine) -> None:
    ref, birth = MAINTAINED
    for n in range(3):  # three different conversations, one failure each
        result = lookup(loaded, ref, WRONG_DATE, f"conv-{n}", T0 + n * MINUTE)
        assert result.outcome is Outcome.NOT_MATCHED
        assert result.remaining_attempts == 2 - n
    # A fresh conversation, with the right date of birth: refused.
    locked = lookup(loaded, "c22 9100013", birth, "fresh", T0 + 3 * MINUTE)
    assert locked == LookupResult(Outcome.LOCKED, locked_until=T0 + 2 * MINUTE + LOCK_DURATION)
    # The other references are not affected, in fresh conversations.
    assert lookup(loaded, *OTHER, "fresh-2", T0 + 3 * MINUTE).outcome is Outcome.FOUND


def test_lock_per_conversation_across_references(loaded: Engine) -> None:
    for n, ref in enumerate(("C-22-0000001", "C-22-0000002", "C-22-0000003")):
        assert (
            lookup(loaded, ref, WRONG_DATE, "conv", T0 + n * MINUTE).outcome is Outcome.NOT_MATCHED
        )
    # The conversation is locked, even with a right pair it never failed on.
    assert lookup(loaded, *MAINTAINED, "conv", T0 + 3 * MINUTE).outcome is Outcome.LOCKED
    # Those references are not locked for another conversation (one failure each).
    assert lookup(loaded, *MAINTAINED, "other", T0 + 3 * MINUTE).outcome is Outcome.FOUND


def test_success_neither_counts_nor_resets(loaded: Engine) -> None:
    lookup(loaded, MAINTAINED[0], WRONG_DATE, "conv", T0)
    lookup(loaded, MAINTAINED[0], WRONG_DATE, "conv", T0 + MINUTE)
    assert lookup(loaded, *MAINTAINED, "conv", T0 + 2 * MINUTE).found
    assert lookup(loaded, *MAINTAINED, "conv", T0 + 3 * MINUTE).found
    # The third failure still locks: a success is no standing right.
    assert (
        lookup(loaded, MAINTAINED[0], WRONG_DATE, "conv", T0 + 4 * MINUTE).remaining_attempts == 0
    )
    assert lookup(loaded, *MAINTAINED, "conv", T0 + 5 * MINUTE).outcome is Outcome.LOCKED


def test_lock_lasts_an_hour_from_the_last_failure(loaded: Engine) -> None:
    ref, birth = MAINTAINED
    times = [T0, T0 + 20 * MINUTE, T0 + 40 * MINUTE]
    for n, t in enumerate(times):
        lookup(loaded, ref, WRONG_DATE, f"conv-{n}", t)
    last = times[-1]
    assert lookup(loaded, ref, birth, "a", last + 59 * MINUTE).outcome is Outcome.LOCKED
    assert lookup(loaded, ref, birth, "b", last + LOCK_DURATION).outcome is Outcome.FOUND


def test_refused_attempts_do_not_extend_the_lock(loaded: Engine) -> None:
    ref, birth = MAINTAINED
    for n in range(3):
        lookup(loaded, ref, WRONG_DATE, f"conv-{n}", T0)
    for n in range(1, 60, 5):  # hammering while locked
        assert lookup(loaded, ref, WRONG_DATE, "x", T0 + n * MINUTE).outcome is Outcome.LOCKED
    assert lookup(loaded, ref, birth, "y", T0 + LOCK_DURATION + MINUTE).outcome is Outcome.FOUND


def test_failures_more_than_an_hour_apart_do_not_lock(loaded: Engine) -> None:
    ref, birth = MAINTAINED
    for n, minutes in enumerate((0, 50, 115)):
        result = lookup(loaded, ref, WRONG_DATE, f"conv-{n}", T0 + minutes * MINUTE)
        assert result.outcome is Outcome.NOT_MATCHED
    assert lookup(loaded, ref, birth, "z", T0 + 116 * MINUTE).outcome is Outcome.FOUND


def test_lock_survives_a_restart(database_url: str) -> None:
    engine = get_engine(database_url)
    import_consultations(SAMPLE, engine=engine)
    for n in range(3):
        lookup(engine, MAINTAINED[0], WRONG_DATE, f"conv-{n}", T0)
    dispose_engines()  # every connection closed, the cache forgotten: a new process
    restarted = get_engine(database_url)
    assert restarted is not engine
    assert lookup(restarted, *MAINTAINED, "fresh", T0 + MINUTE).outcome is Outcome.LOCKED


def test_reimport_keeps_recent_failures(loaded: Engine) -> None:
    for n in range(3):
        lookup(loaded, MAINTAINED[0], WRONG_DATE, f"conv-{n}", datetime.now(timezone.utc))
    import_consultations(SAMPLE, engine=loaded)
    assert verify_and_get(*MAINTAINED, "fresh", engine=loaded).outcome is Outcome.LOCKED


def test_aware_now_is_converted_to_utc(loaded: Engine) -> None:
    brussels = timezone(timedelta(hours=2))
    for n in range(3):
        lookup(loaded, MAINTAINED[0], WRONG_DATE, f"c{n}", T0.replace(tzinfo=timezone.utc))
    result = lookup(loaded, *MAINTAINED, "c", datetime(2022, 5, 16, 11, 30, tzinfo=brussels))
    assert result.locked_until == T0 + LOCK_DURATION


def test_keys_are_stored_hashed(loaded: Engine) -> None:
    lookup(loaded, MAINTAINED[0], WRONG_DATE, "conversation-id-42", T0)
    find_by_phone_and_birth_date("+32473837993", WRONG_DATE, None, T0, engine=loaded)
    with loaded.connect() as conn:
        stored = [dict(r) for r in conn.execute(select(failures_table)).mappings()]
    assert len(stored) == 3
    text = repr(stored)
    for secret in ("9100013", "C22", "conversation-id-42", "32473837993"):
        assert secret not in text
    assert hash_phone("+32473837993") not in text  # the lockout key is not the stored hash


def test_concurrent_attempts_cannot_pass_the_limit(loaded: Engine) -> None:
    results: list[Outcome] = []
    barrier = threading.Barrier(8)

    def attempt(n: int) -> None:
        barrier.wait()
        results.append(lookup(loaded, MAINTAINED[0], WRONG_DATE, f"t{n}", T0).outcome)

    threads = [threading.Thread(target=attempt, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 8
    guesses = results.count(Outcome.NOT_MATCHED)
    assert guesses <= 3  # concurrent attempts may refuse each other early: the safe side
    # Whatever got through counts: at most 3 wrong guesses in all.
    for n in range(3):
        if lookup(loaded, MAINTAINED[0], WRONG_DATE, f"s{n}", T0).outcome is Outcome.NOT_MATCHED:
            guesses += 1
    assert guesses == 3
    assert lookup(loaded, *MAINTAINED, "after", T0 + MINUTE).outcome is Outcome.LOCKED


# --- SMS: phone number + date of birth --------------------------------------------------------

FAMILY_PHONE = "+32470111222"


@pytest.fixture
def family(engine: Engine) -> Engine:
    """A mother with two appointments and her son, on the same phone; a neighbour."""
    import_consultations(
        csv_bytes(
            [
                row("C-22-0000002", "1980-03-01", "2022-05-19T10:00", phone=FAMILY_PHONE,
                    status="reportée", new_starts_at="2022-06-20T10:00"),
                row("C-22-0000001", "1980-03-01", "2022-05-17T09:00", phone=FAMILY_PHONE),
                row("C-22-0000003", "2012-07-07", "2022-05-18T14:00", phone=FAMILY_PHONE,
                    service="Pédiatrie"),
                row("C-22-0000004", "1950-01-01", phone="+32470999999"),
            ]
        ),
        engine=engine,
    )  # fmt: skip
    return engine


def test_phone_finds_all_of_that_patients_consultations(family: Engine) -> None:
    result = find_by_phone_and_birth_date(FAMILY_PHONE, date(1980, 3, 1), "sms", T0, engine=family)
    assert result.outcome is Outcome.FOUND
    assert [c.starts_at for c in result.consultations] == [
        datetime(2022, 5, 17, 9, 0),
        datetime(2022, 5, 19, 10, 0),
    ]
    son = find_by_phone_and_birth_date("0032 470 11 12 22", date(2012, 7, 7), engine=family, now=T0)
    assert [c.service for c in son.consultations] == ["Pédiatrie"]


def test_phone_hash_as_the_sms_channel_gives_it(family: Engine) -> None:
    phone_hash = hash_phone(FAMILY_PHONE)
    result = find_by_phone_hash_and_birth_date(
        phone_hash, date(1980, 3, 1), phone_hash, T0, engine=family
    )
    assert len(result.consultations) == 2


def test_phone_unknown_and_wrong_date_are_indistinguishable(family: Engine) -> None:
    unknown = find_by_phone_and_birth_date("+32470000000", date(1980, 3, 1), "a", T0, engine=family)
    wrong = find_by_phone_and_birth_date(FAMILY_PHONE, WRONG_DATE, "b", T0, engine=family)
    assert unknown == wrong == LookupResult(Outcome.NOT_MATCHED, remaining_attempts=2)


def test_phone_lockout(family: Engine) -> None:
    for n in range(3):
        find_by_phone_and_birth_date(FAMILY_PHONE, WRONG_DATE, f"sms-{n}", T0, engine=family)
    result = find_by_phone_and_birth_date(
        FAMILY_PHONE, date(1980, 3, 1), "sms-new", T0 + MINUTE, engine=family
    )
    assert result.outcome is Outcome.LOCKED
    later = T0 + LOCK_DURATION + MINUTE
    assert find_by_phone_and_birth_date(
        FAMILY_PHONE, date(1980, 3, 1), "sms-new", later, engine=family
    ).found
    # Other phones are not affected.
    assert find_by_phone_and_birth_date(
        "+32470999999", date(1950, 1, 1), "sms-x", T0 + MINUTE, engine=family
    ).found


# --- agents -----------------------------------------------------------------------------------


def test_agent_find_by_reference(loaded: Engine) -> None:
    found = find_by_reference("c 22 9100013", engine=loaded)
    assert found is not None
    assert (found.reference, found.birth_date) == ("C229100013", date(1999, 12, 11))
    assert (found.last_name, found.first_name, found.has_phone) == ("Peeters", "Céline", True)
    assert "Peeters" not in repr(found) and "1999" not in repr(found)
    assert find_by_reference(UNKNOWN_REF, engine=loaded) is None


def test_agent_find_by_name_and_birth_date(loaded: Engine) -> None:
    found = find_by_name_and_birth_date("marechal", date(1941, 4, 28), engine=loaded)
    assert [c.reference for c in found] == ["C229100001"]
    assert found[0].last_name == "Maréchal"
    assert find_by_name_and_birth_date("Maréchal", date(1941, 4, 29), engine=loaded) == []
    assert find_by_name_and_birth_date("  ", date(1941, 4, 28), engine=loaded) == []


def test_agents_are_not_locked_out(loaded: Engine) -> None:
    for _ in range(10):
        assert find_by_reference(UNKNOWN_REF, engine=loaded) is None
    assert find_by_reference(MAINTAINED[0], engine=loaded) is not None
    with loaded.connect() as conn:
        assert conn.execute(select(failures_table)).first() is None


def test_default_engine_from_settings() -> None:
    import_consultations(SAMPLE)  # DATABASE_URL from the environment (conftest: tmp_path)
    assert verify_and_get(*MAINTAINED, "conv").found
    assert find_by_reference(MAINTAINED[0]) is not None
