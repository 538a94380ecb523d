"""Fixtures for the consultation tests: settings isolated in tmp_path, and a database parametrised
over SQLite (a file in tmp_path) and PostgreSQL (a throwaway schema in 127.0.0.1:5432/test,
dropped after the test). PostgreSQL is always there where these tests run: when it does not
answer, a test that needs it fails and says why, it is never skipped (a silent skip would pass
a PostgreSQL-only bug)."""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from bot.db import dispose_engines, get_engine
from bot.settings import get_settings
from tests.backends import PG_DB, PG_HOST, PG_PORT, PG_USER, postgres_admin

DATA = Path(__file__).parent / "data"
SAMPLE = DATA / "consultations-sample.csv"
SAMPLE_ROWS = 24


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


@contextmanager
def postgres_schema_url(prefix: str = "test_consultations") -> Iterator[str]:
    """The URL of a new, empty schema of 127.0.0.1:5432/test (its `search_path`), dropped
    afterwards with everything in it, so that reruns start clean. Fails the test when
    PostgreSQL does not answer."""
    admin = postgres_admin()
    schema = f"{prefix}_{uuid.uuid4().hex[:12]}"
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


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'consultations.db'}"
        return
    with postgres_schema_url() as url:
        yield url


@pytest.fixture
def engine(database_url: str) -> Engine:
    return get_engine(database_url)
