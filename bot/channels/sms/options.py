"""The numbered options last offered to each SMS conversation, kept in the database.

A digit reply ("2") selects an option of the last SMS that offered some. With several Rasa
processes (Sanic workers) the webhook request carrying the digit may reach another process than
the one that sent the options, so they are kept where every process sees them: one table in the
application's database (`get_settings().database_url`, SQLite under var/ by default,
PostgreSQL when `DATABASE_URL` says so), on the engine `bot.db` caches, on its `Base`; the
table is the migrations' (bot/migrations/), the engine is made on first use, never at import
(each worker builds its own after the fork).

One row per conversation, keyed by the hashed phone number (`bot.privacy.hashing.hash_phone`, never the
number), holding the options as JSON and when they expire (naive UTC). A write replaces the
conversation's row; an expired row is never returned, is deleted when it is read, and expired
rows are swept at most once a minute by the writes. Times come from the wall clock (shared by
every process), not from a per-process monotonic clock.

The methods are synchronous: the channel calls them through `asyncio.to_thread`.
No Rasa import here.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import Column, DateTime, String, Text, delete, func, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine

from bot import db
from bot.db import Base, as_utc

DEFAULT_OPTIONS_TTL_SECONDS = 3600.0
# Expired rows are swept by a write at most this often (per store).
DEFAULT_SWEEP_EVERY_SECONDS = 60.0

Option = dict[str, str]

logger = logging.getLogger(__name__)


class PendingOptions(Base):
    __tablename__ = "sms_pending_options"

    key_hash = Column(String(64), primary_key=True)  # bot.privacy.hashing.hash_phone(E.164)
    options = Column(Text, nullable=False)  # JSON: [{"title": ..., "payload": ...}, ...]
    expires_at = Column(DateTime, nullable=False, index=True)  # naive UTC


options_table = PendingOptions.__table__


# --- engine -----------------------------------------------------------------------------------


def get_engine(database_url: str | None = None) -> Engine:
    """The shared engine of the application's database (`bot.db.get_engine`: migrated)."""
    return db.get_engine(database_url)


def _parse(raw: Any) -> list[Option] | None:
    """The stored JSON as [{title, payload}], or None if it is not that."""
    try:
        data = json.loads(raw)
    except (TypeError, ValueError):
        return None
    if not isinstance(data, list):
        return None
    options: list[Option] = []
    for item in data:
        if not isinstance(item, dict):
            return None
        title, payload = item.get("title"), item.get("payload")
        if not isinstance(title, str) or not isinstance(payload, str):
            return None
        options.append({"title": title, "payload": payload})
    return options or None


class DatabaseOptionStore:
    """The options last offered to each conversation, in the database, shared by every process.

    The channel's `OptionStore` (get / put / discard). Rows live `ttl_seconds` at most, then
    are swept."""

    def __init__(
        self,
        ttl_seconds: float = DEFAULT_OPTIONS_TTL_SECONDS,
        *,
        database_url: str | None = None,
        clock: Callable[[], float] = time.time,
        sweep_every_seconds: float = DEFAULT_SWEEP_EVERY_SECONDS,
    ) -> None:
        if ttl_seconds <= 0:
            raise ValueError("ttl_seconds must be positive")
        self.ttl_seconds = ttl_seconds
        self.database_url = database_url
        self.sweep_every_seconds = sweep_every_seconds
        self._clock = clock
        self._next_sweep = float("-inf")

    def _engine(self) -> Engine:
        return get_engine(self.database_url)

    def __len__(self) -> int:
        """The number of conversations with options that have not expired."""
        now = as_utc(self._clock())
        with self._engine().connect() as conn:
            count = conn.execute(
                select(func.count())
                .select_from(options_table)
                .where(options_table.c.expires_at > now)
            ).scalar_one()
        return int(count)

    def get(self, key: str) -> list[Option] | None:
        now = as_utc(self._clock())
        engine = self._engine()
        with engine.connect() as conn:
            row = conn.execute(
                select(options_table.c.options, options_table.c.expires_at).where(
                    options_table.c.key_hash == key
                )
            ).first()
        if row is None:
            return None
        if row.expires_at <= now:
            with engine.begin() as conn:
                # Only if still expired: another process may have just written fresh options.
                conn.execute(
                    delete(options_table).where(
                        options_table.c.key_hash == key, options_table.c.expires_at <= now
                    )
                )
            return None
        options = _parse(row.options)
        if options is None:
            logger.warning("sms: unreadable pending options ignored")
        return options

    def put(self, key: str, options: list[Option]) -> None:
        now_ts = self._clock()
        values = {
            "key_hash": key,
            "options": json.dumps([dict(o) for o in options], ensure_ascii=False),
            "expires_at": as_utc(now_ts + self.ttl_seconds),
        }
        engine = self._engine()
        with engine.begin() as conn:
            self._upsert(conn, values)
        if now_ts >= self._next_sweep:
            self._next_sweep = now_ts + self.sweep_every_seconds
            self._sweep(engine, as_utc(now_ts))

    def discard(self, key: str) -> None:
        with self._engine().begin() as conn:
            conn.execute(delete(options_table).where(options_table.c.key_hash == key))

    # -- internals ------------------------------------------------------------------------

    @staticmethod
    def _upsert(conn: Connection, values: dict[str, Any]) -> None:
        """Insert the row, or replace the conversation's row: one atomic statement on SQLite and
        PostgreSQL (the databases the project supports); delete and insert elsewhere."""
        changes = {"options": values["options"], "expires_at": values["expires_at"]}
        backend = conn.dialect.name
        if backend == "postgresql":
            pg_statement = postgresql.insert(options_table).values(**values)
            conn.execute(
                pg_statement.on_conflict_do_update(index_elements=["key_hash"], set_=changes)
            )
        elif backend == "sqlite":
            lite_statement = sqlite.insert(options_table).values(**values)
            conn.execute(
                lite_statement.on_conflict_do_update(index_elements=["key_hash"], set_=changes)
            )
        else:
            conn.execute(
                delete(options_table).where(options_table.c.key_hash == values["key_hash"])
            )
            conn.execute(insert(options_table).values(**values))

    @staticmethod
    def _sweep(engine: Engine, now: datetime) -> None:
        """Delete every expired row. Best effort, in its own transaction: a failure here must
        not cost the patient the answer."""
        try:
            with engine.begin() as conn:
                conn.execute(delete(options_table).where(options_table.c.expires_at <= now))
        except Exception as exc:
            logger.warning("sms: sweeping expired options failed (%s)", type(exc).__name__)
