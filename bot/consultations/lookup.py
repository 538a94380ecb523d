"""Looking a consultation up: for patients (verified, rate-limited) and for agents (audited
by the console, not limited here).

Patients
    `verify_and_get(reference, birth_date, conversation_id)` -> FOUND with the consultation,
    NOT_MATCHED (unknown reference and wrong date of birth are the same outcome, same query,
    same bookkeeping), or LOCKED.
    `find_by_phone_hash_and_birth_date(phone_hash, birth_date)` (SMS; or
    `find_by_phone_and_birth_date` with the number) -> FOUND with every consultation of that
    patient on that phone, NOT_MATCHED or LOCKED.

Lockout
    Every failed lookup is recorded in the database (so it survives restarts and is shared by
    every server) against each key involved: the reference, the conversation id, the phone
    number; keys are stored as keyed hashes only. A key is locked when it has 3 failures, each
    within an hour of the latest one, until 1 hour after the latest one (`bot.db.Lockout`). A locked lookup is
    refused whatever the other keys, and is not counted itself (the lock does not extend).

    Concurrent attempts cannot get past the limit: each attempt first records a provisional
    failure (committed, so every server sees it), then counts every *other* failure row of its
    keys; the provisional row is deleted if the attempt is refused or succeeds. (Concurrent
    attempts may refuse each other a little early: the safe side.)

A verification is worth the one answer it unlocks: nothing here remembers a success.

All times in this module are naive UTC (`now` may be aware: it is converted).
The functions are synchronous; from an async action call them through `asyncio.to_thread`.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.engine import Connection, Engine

from bot.consultations.models import Scope, Status, consultations_table, failures_table
from bot.consultations.normalize import name_key, normalise_phone, normalise_reference
from bot.db import Lockout, as_utc, resolve_engine

LOCKOUT = Lockout(max_failures=3, duration=timedelta(hours=1))
MAX_FAILURES = LOCKOUT.max_failures
LOCK_DURATION = LOCKOUT.duration

__all__ = [
    "LOCK_DURATION",
    "MAX_FAILURES",
    "AgentConsultation",
    "LookupResult",
    "Outcome",
    "PatientConsultation",
    "find_by_name_and_birth_date",
    "find_by_phone_and_birth_date",
    "find_by_phone_hash_and_birth_date",
    "find_by_reference",
    "verify_and_get",
]


class Outcome(str, enum.Enum):
    FOUND = "found"
    NOT_MATCHED = "not_matched"
    LOCKED = "locked"


@dataclass(frozen=True)
class PatientConsultation:
    """What a patient may be told, once verified: no name, no date of birth, no phone."""

    starts_at: datetime  # naive, local time of Belgium
    site: str
    service: str
    status: Status
    new_starts_at: datetime | None  # naive, local time; set when status is REPORTEE
    note: str | None


@dataclass(frozen=True)
class AgentConsultation:
    """What a call-centre agent sees (the console audits every lookup)."""

    # Personal fields are left out of repr(): a logged object must not leak them.
    reference: str = field(repr=False)  # canonical, e.g. C22004512
    birth_date: date = field(repr=False)
    starts_at: datetime
    site: str
    service: str
    status: Status
    new_starts_at: datetime | None
    note: str | None
    last_name: str | None = field(repr=False)
    first_name: str | None = field(repr=False)
    has_phone: bool


@dataclass(frozen=True)
class LookupResult:
    outcome: Outcome
    consultations: tuple[PatientConsultation, ...] = ()
    locked_until: datetime | None = None  # naive UTC, when LOCKED
    remaining_attempts: int | None = None  # when NOT_MATCHED: before a lock (same either way)

    @property
    def consultation(self) -> PatientConsultation | None:
        """The consultation, for a reference lookup (the first one for a phone lookup)."""
        return self.consultations[0] if self.consultations else None

    @property
    def found(self) -> bool:
        return self.outcome is Outcome.FOUND


# --- helpers ----------------------------------------------------------------------------------


def _as_date(value: date) -> date:
    return value.date() if isinstance(value, datetime) else value


def _key(scope: Scope, value: str) -> tuple[str, str]:
    from bot.privacy.hashing import keyed_hash

    return scope.value, keyed_hash(value, f"lookup-{scope.value}")


def _patient(row: Any) -> PatientConsultation:
    return PatientConsultation(
        starts_at=row.starts_at,
        site=row.site,
        service=row.service,
        status=Status(row.status),
        new_starts_at=row.new_starts_at,
        note=row.note,
    )


def _agent(row: Any) -> AgentConsultation:
    return AgentConsultation(
        reference=row.reference,
        birth_date=row.birth_date,
        starts_at=row.starts_at,
        site=row.site,
        service=row.service,
        status=Status(row.status),
        new_starts_at=row.new_starts_at,
        note=row.note,
        last_name=row.last_name,
        first_name=row.first_name,
        has_phone=row.phone_hash is not None,
    )


class _Attempt:
    """One patient lookup: a provisional failure per key, the lock check, then the verdict."""

    def __init__(self, engine: Engine, keys: list[tuple[str, str]], now: datetime) -> None:
        self.engine = engine
        self.keys = keys
        self.now = now
        self.ids: dict[tuple[str, str], int] = {}

    def record(self) -> None:
        """Count this attempt as a failure until proven otherwise, committed at once so that
        concurrent attempts (other threads, other servers) see it."""
        with self.engine.begin() as conn:
            for key in self.keys:
                result = conn.execute(
                    failures_table.insert().values(
                        scope=key[0], key_hash=key[1], created_at=self.now
                    )
                )
                self.ids[key] = int(result.inserted_primary_key[0])

    def lock(self, conn: Connection) -> tuple[datetime | None, int]:
        """(locked until, fewest attempts left over all keys), from the other attempts' rows."""
        window = LOCKOUT.since(self.now)
        wanted = or_(
            *(
                and_(failures_table.c.scope == scope, failures_table.c.key_hash == key_hash)
                for scope, key_hash in self.keys
            )
        )
        rows = conn.execute(
            select(
                failures_table.c.id,
                failures_table.c.scope,
                failures_table.c.key_hash,
                failures_table.c.created_at,
            ).where(wanted, failures_table.c.created_at > window)
        ).all()
        until: datetime | None = None
        remaining = MAX_FAILURES
        mine = set(self.ids.values())
        for key in self.keys:
            # Every other attempt's row, earlier or concurrent: of any attempts that passed this
            # check and failed, the last to check saw all the others (each committed its row
            # before its own check), so at most MAX_FAILURES can get through. (Ordering by id
            # would not do: ids are handed out before commit, not in commit order.)
            times = [
                r.created_at for r in rows if (r.scope, r.key_hash) == key and r.id not in mine
            ]
            key_until, counting = LOCKOUT.state(times, self.now)
            if key_until is not None and (until is None or key_until > until):
                until = key_until
            remaining = min(remaining, MAX_FAILURES - counting)
        return until, remaining

    def forget(self, conn: Connection) -> None:
        """Not a failure after all (refused or succeeded): drop the provisional rows."""
        conn.execute(failures_table.delete().where(failures_table.c.id.in_(self.ids.values())))


def _patient_lookup(
    engine: Engine,
    keys: list[tuple[str, str]],
    now: datetime,
    query: Any,
    birth_date: date,
) -> LookupResult:
    attempt = _Attempt(engine, keys, now)
    attempt.record()
    with engine.begin() as conn:
        until, remaining = attempt.lock(conn)
        if until is not None:
            attempt.forget(conn)
            return LookupResult(Outcome.LOCKED, locked_until=until)
        rows = conn.execute(query).all()
        matches = [row for row in rows if row.birth_date == birth_date]
        if matches:
            attempt.forget(conn)
            return LookupResult(Outcome.FOUND, consultations=tuple(_patient(r) for r in matches))
        # This failure counts: the provisional rows stay.
        return LookupResult(Outcome.NOT_MATCHED, remaining_attempts=max(remaining - 1, 0))


# --- patients ---------------------------------------------------------------------------------

# What a patient's lookup reads of a consultation (`_patient_lookup` checks the date of birth).
_PATIENT_COLUMNS = (
    consultations_table.c.birth_date,
    consultations_table.c.starts_at,
    consultations_table.c.site,
    consultations_table.c.service,
    consultations_table.c.status,
    consultations_table.c.new_starts_at,
    consultations_table.c.note,
)


def verify_and_get(
    reference: str,
    birth_date: date,
    conversation_id: str,
    now: datetime | None = None,
    *,
    engine: Engine | None = None,
    database_url: str | None = None,
) -> LookupResult:
    """The consultation for `reference` if `birth_date` is the patient's, else NOT_MATCHED.

    `reference` as typed (normalised here). Unknown reference and wrong date of birth give the
    same result and count the same failure, against the reference and the conversation.
    """
    ref = normalise_reference(reference)
    keys = [_key(Scope.REFERENCE, ref), _key(Scope.CONVERSATION, conversation_id)]
    query = select(*_PATIENT_COLUMNS).where(consultations_table.c.reference == ref)
    return _patient_lookup(
        resolve_engine(engine, database_url), keys, as_utc(now), query, _as_date(birth_date)
    )


def find_by_phone_and_birth_date(
    phone_e164: str,
    birth_date: date,
    conversation_id: str | None = None,
    now: datetime | None = None,
    *,
    engine: Engine | None = None,
    database_url: str | None = None,
) -> LookupResult:
    """SMS, given the sender's number (E.164; "0032..." and spaces tolerated): see
    `find_by_phone_hash_and_birth_date`."""
    from bot.privacy.hashing import hash_phone

    phone = normalise_phone(phone_e164) or phone_e164.strip()
    return find_by_phone_hash_and_birth_date(
        hash_phone(phone),
        birth_date,
        conversation_id,
        now,
        engine=engine,
        database_url=database_url,
    )


def find_by_phone_hash_and_birth_date(
    phone_hash: str,
    birth_date: date,
    conversation_id: str | None = None,
    now: datetime | None = None,
    *,
    engine: Engine | None = None,
    database_url: str | None = None,
) -> LookupResult:
    """SMS: every consultation whose phone on file is the sender's and whose patient has this
    date of birth (a phone may be shared by a family: the date of birth picks the patient).

    `phone_hash` is `bot.privacy.hashing.hash_phone(E.164)`, what the SMS channel puts in the message
    metadata (`sender_phone_hash`); the number itself never reaches Rasa. Failures count against
    the phone hash (and the conversation, when given), with the same rule as references.
    """
    keys = [_key(Scope.PHONE, phone_hash)]
    if conversation_id is not None and conversation_id != phone_hash:
        keys.append(_key(Scope.CONVERSATION, conversation_id))
    query = (
        select(*_PATIENT_COLUMNS)
        .where(consultations_table.c.phone_hash == phone_hash)
        .order_by(consultations_table.c.starts_at, consultations_table.c.id)
    )
    return _patient_lookup(
        resolve_engine(engine, database_url), keys, as_utc(now), query, _as_date(birth_date)
    )


# --- agents -----------------------------------------------------------------------------------


def find_by_reference(
    reference: str, *, engine: Engine | None = None, database_url: str | None = None
) -> AgentConsultation | None:
    """Agents' console: the consultation for a reference as typed. No lockout (audited there)."""
    engine = resolve_engine(engine, database_url)
    with engine.connect() as conn:
        row = conn.execute(
            select(consultations_table).where(
                consultations_table.c.reference == normalise_reference(reference)
            )
        ).first()
    return _agent(row) if row is not None else None


def find_by_name_and_birth_date(
    last_name: str,
    birth_date: date,
    *,
    engine: Engine | None = None,
    database_url: str | None = None,
) -> list[AgentConsultation]:
    """Agents' console: consultations by last name (no case, accents, spaces or hyphens) and
    date of birth, by appointment time. No lockout (audited there)."""
    key = name_key(last_name)
    if not key:
        return []
    engine = resolve_engine(engine, database_url)
    with engine.connect() as conn:
        rows = conn.execute(
            select(consultations_table)
            .where(
                consultations_table.c.birth_date == _as_date(birth_date),
                consultations_table.c.last_name_key == key,
            )
            .order_by(consultations_table.c.starts_at, consultations_table.c.id)
        ).all()
    return [_agent(row) for row in rows]
