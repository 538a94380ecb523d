"""Fixtures for the consultation tests: settings isolated in tmp_path, and a database parametrised
over SQLite (a file in tmp_path) and PostgreSQL (a throwaway schema in 127.0.0.1:5432/test,
dropped after the test; skipped with the reason when the server is unreachable)."""

from __future__ import annotations

import csv
import io
import socket
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from bot.db import dispose_engines, get_engine
from bot.settings import get_settings

DATA = Path(__file__).parent / "data"
SAMPLE = DATA / "consultations-sample.csv"
SAMPLE_ROWS = 24

PG_HOST, PG_PORT, PG_DB, PG_USER = "127.0.0.1", 5432, "test", "postgres"

HEADER = [
    "reference", "birth_date", "starts_at", "site", "service", "status", "new_starts_at",
    "phone", "last_name", "first_name", "note",
]  # fmt: skip


def row(
    reference: str = "C-22-0000001",
    birth_date: str = "1961-02-14",
    starts_at: str = "2022-05-18T09:45",
    site: str = "CHA Libramont",
    service: str = "Cardiologie",
    status: str = "maintenue",
    new_starts_at: str = "",
    phone: str = "",
    last_name: str = "Dupont",
    first_name: str = "Anne",
    note: str = "",
) -> list[str]:
    return [
        reference, birth_date, starts_at, site, service, status, new_starts_at, phone,
        last_name, first_name, note,
    ]  # fmt: skip


def csv_bytes(rows: Sequence[Sequence[str]], header: Sequence[str] = HEADER) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


@pytest.fixture(autouse=True)
def isolated_settings(
    isolated_settings: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """tests/conftest.py's isolated settings (secrets and databases in tmp_path, never the
    project's var/), for every consultations' test, the default database named default.db."""
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'default.db'}")
    get_settings.cache_clear()
    dispose_engines()
    return isolated_settings


def _postgres_unreachable_reason() -> str | None:
    try:
        socket.create_connection((PG_HOST, PG_PORT), timeout=1).close()
    except OSError as exc:
        return f"PostgreSQL is not reachable at {PG_HOST}:{PG_PORT} ({exc})"
    return None


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'consultations.db'}"
        return
    reason = _postgres_unreachable_reason()
    if reason:
        pytest.skip(reason)
    import psycopg2

    try:
        admin = psycopg2.connect(host=PG_HOST, port=PG_PORT, user=PG_USER, dbname=PG_DB)
    except psycopg2.OperationalError as exc:
        pytest.skip(f"PostgreSQL at {PG_HOST}:{PG_PORT}/{PG_DB} refuses the connection: {exc}")
    admin.autocommit = True
    schema = f"test_consultations_{uuid.uuid4().hex[:12]}"
    with admin.cursor() as cur:
        cur.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield (
            f"postgresql://{PG_USER}@{PG_HOST}:{PG_PORT}/{PG_DB}?options=-csearch_path%3D{schema}"
        )
    finally:
        dispose_engines()
        with admin.cursor() as cur:
            cur.execute(f'DROP SCHEMA "{schema}" CASCADE')
        admin.close()


@pytest.fixture
def engine(database_url: str) -> Engine:
    return get_engine(database_url)
