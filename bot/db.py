"""The database: one engine per URL, built on first use (never at import), tables created then.

The URL is `get_settings().database_url` (a SQLite file under var/ by default, PostgreSQL when
`DATABASE_URL` says so) unless a caller passes one (the CLI's `--database-url`, the tests).
Parameters are hidden from error messages: a failed INSERT must not print dates of birth.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import MetaData, create_engine, event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool

from bot.consultations.models import Base

_engines: dict[str, Engine] = {}
_lock = threading.Lock()


def _database_url(url: str | None) -> str:
    if url:
        return url
    from bot.settings import get_settings

    return get_settings().database_url


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL: the action server keeps reading while an import writes.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _build(url: str) -> Engine:
    parsed = make_url(url)
    kwargs: dict[str, Any] = {"future": True, "hide_parameters": True}
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        kwargs["connect_args"] = {"timeout": 30, "check_same_thread": False}
        if database in ("", ":memory:"):
            kwargs["poolclass"] = StaticPool  # one shared in-memory database
        else:
            Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(parsed, **kwargs)
        if database not in ("", ":memory:"):
            event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    kwargs["pool_pre_ping"] = True
    return create_engine(parsed, **kwargs)


def get_engine(url: str | None = None) -> Engine:
    """The cached engine for `url` (default: the settings' database), tables created."""
    url = _database_url(url)
    with _lock:
        engine = _engines.get(url)
        if engine is None:
            engine = _build(url)
            Base.metadata.create_all(engine)
            _engines[url] = engine
        return engine


_tables_ready: dict[tuple[int, int], Engine] = {}


def engine_with_tables(metadata: MetaData, url: str | None = None) -> Engine:
    """The cached engine for `url`, with the tables of `metadata` (the agents', the SMS
    options') created once for that engine."""
    engine = get_engine(url)
    key = (id(metadata), id(engine))
    if _tables_ready.get(key) is not engine:
        with _lock:
            if _tables_ready.get(key) is not engine:
                metadata.create_all(engine)
                _tables_ready[key] = engine
    return engine


def resolve_engine(engine: Engine | None = None, database_url: str | None = None) -> Engine:
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
        _tables_ready.clear()
    for engine in engines:
        engine.dispose()
