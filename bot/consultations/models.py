"""The consultation tables (SQLAlchemy 1.4 declarative), on the application's `Base`
(bot/db.py). Created and changed by the migrations (bot/migrations/), never by `create_all`:
a change here needs a new revision (tests/test_db.py compares the two).

Nothing personal is stored in clear that does not have to be: the phone number only as a keyed
hash (`bot.privacy.hashing.hash_phone`), lockout keys (reference, conversation id, phone) only as keyed
hashes. Names and dates of birth are stored as given: the agents search by them and the
patient's date of birth is the thing compared.
"""

from __future__ import annotations

import enum

from sqlalchemy import Column, Date, DateTime, Enum, Index, Integer, String, Text

from bot.db import Base

NAME_MAX = 200
NOTE_MAX = 1000
REFERENCE_MAX = 32


class Status(str, enum.Enum):
    MAINTENUE = "maintenue"
    ANNULEE = "annulee"
    REPORTEE = "reportee"

    @property
    def label(self) -> str:
        """The French word, with its accent."""
        return {"maintenue": "maintenue", "annulee": "annulée", "reportee": "reportée"}[self.value]


class Scope(str, enum.Enum):
    """What a failed lookup is counted against."""

    REFERENCE = "reference"
    CONVERSATION = "conversation"
    PHONE = "phone"


class Consultation(Base):
    __tablename__ = "consultations"

    id = Column(Integer, primary_key=True)
    reference = Column(String(REFERENCE_MAX), nullable=False, unique=True)  # normalised
    birth_date = Column(Date, nullable=False)
    starts_at = Column(DateTime, nullable=False)  # naive, local time of Belgium
    site = Column(String(NAME_MAX), nullable=False)
    service = Column(String(NAME_MAX), nullable=False)
    status = Column(
        Enum(
            Status,
            name="consultation_status",
            native_enum=False,  # VARCHAR + CHECK: no PostgreSQL type to create or drop
            create_constraint=True,
            length=16,
            values_callable=lambda e: [m.value for m in e],
        ),
        nullable=False,
    )
    new_starts_at = Column(DateTime, nullable=True)  # naive, local time; set when reportée
    phone_hash = Column(
        String(64), nullable=True, index=True
    )  # bot.privacy.hashing.hash_phone(E.164)
    last_name = Column(String(NAME_MAX), nullable=True)  # as given, for the agents
    first_name = Column(String(NAME_MAX), nullable=True)
    last_name_key = Column(String(NAME_MAX), nullable=True)  # normalize.name_key(last_name)
    note = Column(Text, nullable=True)

    __table_args__ = (Index("ix_consultations_birth_date_name", "birth_date", "last_name_key"),)

    def __repr__(self) -> str:  # no personal data in reprs (they end up in logs)
        return f"<Consultation id={self.id} status={self.status}>"


class LookupFailure(Base):
    """One failed patient lookup, counted against one key (reference, conversation or phone)."""

    __tablename__ = "consultation_lookup_failures"

    id = Column(Integer, primary_key=True)
    scope = Column(String(16), nullable=False)  # Scope value
    key_hash = Column(
        String(64), nullable=False
    )  # bot.privacy.hashing.keyed_hash(key, "lookup-<scope>")
    created_at = Column(DateTime, nullable=False)  # naive UTC

    __table_args__ = (
        Index("ix_consultation_lookup_failures_key", "scope", "key_hash", "created_at"),
    )


class ImportRun(Base):
    """One successful import of the list."""

    __tablename__ = "consultation_imports"

    id = Column(Integer, primary_key=True)
    imported_at = Column(DateTime, nullable=False)  # naive UTC
    rows = Column(Integer, nullable=False)
    file_sha256 = Column(String(64), nullable=False)
    duration_ms = Column(Integer, nullable=False)


consultations_table = Consultation.__table__
failures_table = LookupFailure.__table__
imports_table = ImportRun.__table__
