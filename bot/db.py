"""The application's database: the consultations, the agents' accounts, sessions, failed logins
and audit trail, and the SMS channel's pending options, all in one database.

- One declarative `Base` for every model of this database, so that `Base.metadata` is the whole
  schema (what the migrations must create; tests/test_db.py compares the two).
- One engine per URL, built on first use and never at import (a Rasa worker builds its own after
  the fork). The URL is `get_settings().database_url` (a SQLite file under var/ by default,
  PostgreSQL when `DATABASE_URL` says so) unless a caller passes one (the CLI's
  `--database-url`, the tests). Parameters are hidden from error messages: a failed INSERT must
  not print dates of birth.
- The schema is Alembic's (`bot/migrations/`): the first use of an engine brings its database to
  the newest revision, under a lock, so that the processes starting together (Rasa workers,
  action server, web app) migrate it once. A database made before the migrations existed (its
  tables created by `create_all`, no `alembic_version`) is adopted by the first revision, which
  creates only the tables it lacks: the data stays. `python -m bot db upgrade|current`.
- Times are stored as naive UTC (`DateTime` columns without a time zone): `utcnow()` and
  `as_utc()` give exactly that, whatever the caller holds.
- `Lockout`: the rule both lockouts (patients' lookups, agents' logins) apply to the failures
  they count in this database.
"""

from __future__ import annotations

import argparse
import logging
import sys
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from sqlalchemy import MetaData, create_engine, event, inspect, text
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.orm import Session, declarative_base, sessionmaker
from sqlalchemy.pool import StaticPool

if TYPE_CHECKING:
    from alembic.config import Config

logger = logging.getLogger(__name__)

Base: Any = declarative_base()

# Alembic's scripts, as a package resource: found wherever the project is checked out.
MIGRATIONS = "bot:migrations"
VERSION_TABLE = "alembic_version"
# The tables `create_all` made before the migrations: one of them without `alembic_version` is a
# database to adopt, not a new one.
LEGACY_TABLES = frozenset(
    {
        "consultations",
        "consultation_lookup_failures",
        "consultation_imports",
        "agent_accounts",
        "agent_sessions",
        "agent_login_failures",
        "agent_audit",
        "sms_pending_options",
    }
)
# pg_advisory_xact_lock key: one migration at a time per PostgreSQL database ("vivalia").
_PG_MIGRATION_LOCK = 0x766976616C6961

_engines: dict[str, Engine] = {}
_lock = threading.Lock()


# --- time -------------------------------------------------------------------------------------


def utcnow() -> datetime:
    """Now, as the tables store it: naive UTC (the columns have no time zone)."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


def as_utc(value: datetime | float | None = None) -> datetime:
    """`value` as the tables store it (naive UTC): an aware datetime is converted, a naive one is
    taken as UTC already, a number is a POSIX timestamp, None is now."""
    if value is None:
        return utcnow()
    if isinstance(value, datetime):
        if value.tzinfo is None:
            return value
        return value.astimezone(timezone.utc).replace(tzinfo=None)
    return datetime.fromtimestamp(value, timezone.utc).replace(tzinfo=None)


# --- lockout ----------------------------------------------------------------------------------


class LockState(NamedTuple):
    until: datetime | None  # locked until then (naive UTC), or None
    counting: int  # failures counting towards a lock


@dataclass(frozen=True)
class Lockout:
    """A key is locked when it has `max_failures` failures, each within `duration` of the latest
    one, until `duration` after the latest one; once the latest is `duration` old, the count
    starts again. The patients' lookups and the agents' logins both lock this way; how each
    records its attempts (and what a success does) is theirs."""

    max_failures: int
    duration: timedelta

    def since(self, now: datetime) -> datetime:
        """Failures older than this cannot matter: one that counts is within `duration` of the
        latest, which is within `duration` of now. Bounds the query."""
        return now - 2 * self.duration

    def state(self, times: Sequence[datetime], now: datetime) -> LockState:
        """The lock a key's earlier failures (`times`, any order) put on it at `now`."""
        if not times:
            return LockState(None, 0)
        last = max(times)
        if now >= last + self.duration:
            return LockState(None, 0)  # everything is older than the lock: a fresh start
        counting = sum(1 for t in times if t > last - self.duration)
        return LockState(last + self.duration if counting >= self.max_failures else None, counting)


# --- engines ----------------------------------------------------------------------------------


def apply_sqlite_pragmas(dbapi_connection: Any, _record: Any = None) -> None:
    """The journal settings of every SQLite file the project writes (this database and the
    tracker store): a `connect` event listener, or called on a plain sqlite3 connection.

    WAL: readers (the action server, the other workers) keep reading while one writes;
    `synchronous=NORMAL`: a commit does not wait for the disk (an application crash loses
    nothing, a power cut may lose the last commits)."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def resolve_url(url: str | None) -> str:
    """`url`, or the settings' database when none is given (read only then: no settings needed
    by a caller that names its database)."""
    if url:
        return url
    from bot.settings import get_settings

    return get_settings().database_url


def build_engine(url: str) -> Engine:
    """A new engine for `url`, its schema untouched (`get_engine` caches and migrates; the
    `db` command and Alembic's env.py want an engine that does neither)."""
    parsed = make_url(url)
    kwargs: dict[str, Any] = {"future": True, "hide_parameters": True}
    if parsed.get_backend_name() != "sqlite":
        return create_engine(parsed, pool_pre_ping=True, **kwargs)
    database = parsed.database or ""
    kwargs["connect_args"] = {"timeout": 30, "check_same_thread": False}
    in_memory = database in ("", ":memory:")
    if in_memory:
        kwargs["poolclass"] = StaticPool  # one shared in-memory database
    else:
        Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(parsed, **kwargs)
    if not in_memory:
        event.listen(engine, "connect", apply_sqlite_pragmas)
    return engine


def get_engine(url: str | None = None) -> Engine:
    """The cached engine for `url` (default: the settings' database), its database brought to
    the newest revision when the engine is built."""
    url = resolve_url(url)
    with _lock:
        engine = _engines.get(url)
        if engine is None:
            engine = build_engine(url)
            try:
                migrate(engine)
            except Exception:
                engine.dispose()
                raise
            _engines[url] = engine
        return engine


def resolve_engine(engine: Engine | None = None, database_url: str | None = None) -> Engine:
    """The engine a caller passed, else the cached one of `database_url`."""
    return engine if engine is not None else get_engine(database_url)


@contextmanager
def session_scope(url: str | None = None) -> Iterator[Session]:
    """An ORM session on the cached engine, committed on success, rolled back on error."""
    factory = sessionmaker(bind=get_engine(url), future=True)
    with factory.begin() as session:
        yield session


def dispose_engines() -> None:
    """Forget every cached engine (closing its connections): a restart, as far as we know."""
    with _lock:
        engines = list(_engines.values())
        _engines.clear()
    for engine in engines:
        engine.dispose()


def model_metadata() -> MetaData:
    """`Base.metadata` with every model of this database imported (they register themselves on
    import; nothing imports them all otherwise): what the migrations must match."""
    import bot.agents.models
    import bot.channels.sms.options
    import bot.consultations.models  # noqa: F401

    return Base.metadata


# --- migrations -------------------------------------------------------------------------------


def alembic_config(connection: Connection | None = None) -> Config:
    """Alembic's configuration, built here rather than read from an alembic.ini: the scripts as
    a package resource, and the connection to migrate (env.py uses it)."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", MIGRATIONS)
    config.attributes["connection"] = connection
    return config


@lru_cache(maxsize=1)
def _scripts() -> tuple[tuple[str, ...], frozenset[str]]:
    """(newest revisions, every revision) of the scripts, read once: they do not change while
    the process runs."""
    from alembic.script import ScriptDirectory

    scripts = ScriptDirectory.from_config(alembic_config())
    known = frozenset(script.revision for script in scripts.walk_revisions())
    return tuple(sorted(scripts.get_heads())), known


def head_revisions() -> tuple[str, ...]:
    """The newest revision(s) of the scripts: where `migrate` brings a database."""
    return _scripts()[0]


def current_revisions(conn: Connection) -> tuple[str, ...]:
    """The revision(s) the database is at; () for a database Alembic never touched. Read with
    plain SQL: Alembic's context logs at INFO each time it is made, at every process start."""
    if not inspect(conn).has_table(VERSION_TABLE):
        return ()
    rows = conn.execute(text(f"SELECT version_num FROM {VERSION_TABLE}"))  # noqa: S608
    return tuple(sorted(str(r[0]) for r in rows))


def _take_migration_lock(conn: Connection) -> None:
    """One migrating process at a time, until the transaction ends: SQLite's write lock (taken
    at once, waiting out the connection's timeout) or a PostgreSQL advisory lock."""
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("BEGIN IMMEDIATE")
    elif conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_MIGRATION_LOCK})


def migrate(engine: Engine) -> tuple[str, ...]:
    """Bring the database to the newest revision, in one transaction, and return the revision(s)
    it was at. Cheap when it already is there (one query, no lock)."""
    heads = head_revisions()
    with engine.connect() as conn:
        before = current_revisions(conn)
    if before == heads:
        return before
    from alembic import command

    with engine.connect() as conn, conn.begin():
        _take_migration_lock(conn)
        before = current_revisions(conn)  # another process may have done it meanwhile
        if before == heads:
            return before
        unknown = set(before) - _scripts()[1]
        if unknown:  # written by a newer version of the code: do not guess
            raise RuntimeError(
                f"the database is at revision {_revisions(sorted(unknown))}, which this code "
                f"does not know (its newest: {_revisions(heads)}): run the newer code"
            )
        if not before:
            legacy = LEGACY_TABLES.intersection(inspect(conn).get_table_names())
            if legacy:
                logger.info("database made before migrations (%d tables): adopted", len(legacy))
        command.upgrade(alembic_config(conn), "head")
    return before


# --- python -m bot db -------------------------------------------------------------------------


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bot db",
        description="Migrations de la base de données (consultations, agents, options SMS).",
    )
    parser.add_argument(
        "action",
        choices=("upgrade", "current"),
        help="upgrade : amène la base à la dernière révision ; current : affiche sa révision "
        "(code de sortie 1 si elle n'est pas à jour)",
    )
    parser.add_argument(
        "--database-url",
        help="base de données (par défaut : DATABASE_URL, sinon var/crisis.db)",
    )
    return parser


def _revisions(revisions: Sequence[str]) -> str:
    return ", ".join(revisions) if revisions else "aucune"


def _sqlite_file_missing(url: str) -> bool:
    parsed = make_url(url)
    database = parsed.database or ""
    return (
        parsed.get_backend_name() == "sqlite"
        and database not in ("", ":memory:")
        and not Path(database).expanduser().exists()
    )


def _upgrade_command(url: str, shown: str, out: Any) -> int:
    engine = build_engine(url)
    try:
        before = migrate(engine)
    finally:
        engine.dispose()
    heads = head_revisions()
    done = "déjà à jour" if before == heads else f"depuis {_revisions(before)}"
    print(f"{shown} : révision {_revisions(heads)} ({done}).", file=out)
    return 0


def _current_command(url: str, shown: str, out: Any) -> int:
    """Reads the revision without migrating, and without creating a SQLite file either."""
    heads = head_revisions()
    if _sqlite_file_missing(url):
        print(f"{shown} : pas de base (dernière révision : {_revisions(heads)}).", file=out)
        return 1
    engine = build_engine(url)
    try:
        with engine.connect() as conn:
            current = current_revisions(conn)
    finally:
        engine.dispose()
    state = "à jour" if current == heads else f"dernière révision : {_revisions(heads)}"
    print(f"{shown} : révision {_revisions(current)} ({state}).", file=out)
    return 0 if current == heads else 1


def main(argv: list[str] | None = None, *, stdout: Any = None) -> int:
    """`python -m bot db upgrade|current [--database-url URL]`, on an engine of its own (not
    `get_engine`'s, which would migrate before `current` could read); the URL is printed
    without its password."""
    args = _parser().parse_args(argv)  # usage errors: argparse exits with status 2
    url = resolve_url(args.database_url)
    shown = make_url(url).render_as_string(hide_password=True)
    command = _upgrade_command if args.action == "upgrade" else _current_command
    return command(url, shown, stdout or sys.stdout)
