"""bot/db.py: the engines, the migrations (bot/migrations/), the time and lockout helpers.

Every database test runs on SQLite (files in tmp_path) and on PostgreSQL (throwaway schemas of
127.0.0.1:5432/test, dropped afterwards; a test fails with the reason when the server does not
answer, see tests/consultations/conftest.py).
"""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection, Engine

from bot import db
from bot.__main__ import main as bot_main
from bot.agents import models as agents
from bot.consultations.lookup import find_by_reference
from bot.db import (
    LEGACY_TABLES,
    VERSION_TABLE,
    Lockout,
    alembic_config,
    as_utc,
    build_engine,
    current_revisions,
    get_engine,
    head_revisions,
    migrate,
    model_metadata,
)
from bot.settings import ROOT
from tests.consultations.conftest import postgres_schema_url

T0 = datetime(2022, 5, 17, 8, 0, 0)
CONSULTATION_TABLES = ["consultations", "consultation_lookup_failures", "consultation_imports"]

# What bot/agents/models.py attached to the audit table before the migrations, for
# `create_all` to run after creating it.
LEGACY_TRIGGERS = {
    "sqlite": [
        "CREATE TRIGGER agent_audit_no_update BEFORE UPDATE ON agent_audit "
        "BEGIN SELECT RAISE(ABORT, 'agent_audit is append-only'); END",
        "CREATE TRIGGER agent_audit_no_delete BEFORE DELETE ON agent_audit "
        "BEGIN SELECT RAISE(ABORT, 'agent_audit is append-only'); END",
    ],
    "postgresql": [
        "CREATE OR REPLACE FUNCTION agent_audit_append_only() RETURNS trigger AS $$ "
        "BEGIN RAISE EXCEPTION 'agent_audit is append-only'; END $$ LANGUAGE plpgsql",
        "CREATE TRIGGER agent_audit_no_change BEFORE UPDATE OR DELETE ON agent_audit "
        "FOR EACH ROW EXECUTE PROCEDURE agent_audit_append_only()",
        "CREATE TRIGGER agent_audit_no_truncate BEFORE TRUNCATE ON agent_audit "
        "FOR EACH STATEMENT EXECUTE PROCEDURE agent_audit_append_only()",
    ],
}


@pytest.fixture(autouse=True)
def settings(isolated_settings: Path) -> Path:
    """Secrets and databases in tmp_path (tests/conftest.py), never the project's var/."""
    return isolated_settings


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def new_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[[], str]]:
    """Makes URLs of new, empty databases of the backend (SQLite files, PostgreSQL schemas)."""
    with ExitStack() as stack:
        made: list[str] = []

        def make() -> str:
            if request.param == "sqlite":
                url = f"sqlite:///{tmp_path / f'db{len(made)}.db'}"
            else:
                url = stack.enter_context(postgres_schema_url("test_db"))
            made.append(url)
            return url

        yield make


def make_legacy(url: str, tables: list[str] | None = None) -> Engine:
    """A database as the code made it before the migrations: `create_all` of the models (the
    tables each feature had used), the audit triggers with the audit table, no
    `alembic_version`. The engine is not `get_engine`'s (that one would migrate)."""
    engine = build_engine(url)
    metadata = model_metadata()
    wanted = sorted(LEGACY_TABLES) if tables is None else tables
    with engine.begin() as conn:
        metadata.create_all(conn, tables=[metadata.tables[name] for name in wanted])
        if "agent_audit" in wanted:
            for statement in LEGACY_TRIGGERS[conn.dialect.name]:
                conn.exec_driver_sql(statement)
    return engine


def table_names(engine: Engine) -> set[str]:
    return set(inspect(engine).get_table_names())


def schema_of(engine: Engine) -> list[str]:
    """Everything the database says about its schema, as comparable text (no alembic_version,
    no schema names): SQLite's own CREATE statements; PostgreSQL's columns, constraints,
    indexes and triggers as its catalogue prints them."""
    with engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            rows = conn.execute(
                text("SELECT type, name, tbl_name, sql FROM sqlite_master WHERE tbl_name != :v"),
                {"v": VERSION_TABLE},
            )
            return sorted(" | ".join(str(v) for v in row) for row in rows)
        return _postgres_schema(conn)


def _postgres_schema(conn: Connection) -> list[str]:
    schema = conn.execute(text("SELECT current_schema()")).scalar_one()
    queries = [
        "SELECT table_name, column_name, ordinal_position, data_type, character_maximum_length,"
        " is_nullable, column_default FROM information_schema.columns"
        " WHERE table_schema = :s",
        "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint"
        " WHERE connamespace = CAST(:s AS regnamespace)",
        "SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = :s",
        "SELECT tgname, pg_get_triggerdef(t.oid) FROM pg_trigger t JOIN pg_class c"
        " ON c.oid = t.tgrelid WHERE c.relnamespace = CAST(:s AS regnamespace) AND NOT t.tgisinternal",
        "SELECT proname, prosrc FROM pg_proc WHERE pronamespace = CAST(:s AS regnamespace)",
    ]
    out = []
    for query in queries:
        for row in conn.execute(text(query), {"s": schema}):
            line = " | ".join(str(v) for v in row).replace(f"{schema}.", "")
            if VERSION_TABLE not in line:
                out.append(line)
    return sorted(out)


def trail_refuses_changes(engine: Engine) -> None:
    statements = ["UPDATE agent_audit SET agent = 'x'", "DELETE FROM agent_audit"]
    if engine.dialect.name == "postgresql":
        statements.append("TRUNCATE agent_audit")
    for statement in statements:
        with pytest.raises(Exception, match="append-only"), engine.begin() as conn:
            conn.execute(text(statement))


# --- time and lockout -------------------------------------------------------------------------


def test_as_utc_gives_what_the_tables_store() -> None:
    brussels = timezone(timedelta(hours=2))
    assert as_utc(datetime(2022, 5, 17, 10, 0, tzinfo=brussels)) == T0
    assert as_utc(T0) is T0  # naive: UTC already
    assert as_utc(T0.replace(tzinfo=timezone.utc).timestamp()) == T0
    now = as_utc()
    assert now.tzinfo is None and abs(now - db.utcnow()) < timedelta(seconds=5)
    assert abs(now - datetime.now(timezone.utc).replace(tzinfo=None)) < timedelta(seconds=5)


def test_lockout_counts_failures_within_the_window() -> None:
    lockout = Lockout(max_failures=3, duration=timedelta(hours=1))
    minutes = [T0 + timedelta(minutes=m) for m in (0, 10, 20)]
    assert lockout.state([], T0) == (None, 0)
    assert lockout.state(minutes[:2], T0 + timedelta(minutes=15)) == (None, 2)
    assert lockout.state(minutes, T0 + timedelta(minutes=30)) == (T0 + timedelta(minutes=80), 3)
    assert lockout.state(minutes, T0 + timedelta(minutes=80)) == (None, 0)  # a fresh start
    spread = [T0, T0 + timedelta(minutes=50), T0 + timedelta(minutes=115)]
    assert lockout.state(spread, T0 + timedelta(minutes=116)) == (None, 1)
    assert lockout.since(T0) == T0 - timedelta(hours=2)


# --- engines ----------------------------------------------------------------------------------


def test_nothing_is_built_or_imported_at_import() -> None:
    script = (
        "import sys\n"
        "import bot.db, bot.consultations.models, bot.agents.models, bot.channels.sms.options\n"
        "import bot.consultations.lookup, bot.consultations.importer\n"
        "assert bot.db._engines == {}, bot.db._engines\n"
        "assert 'alembic' not in sys.modules, 'alembic imported at import time'\n"
    )
    subprocess.run([sys.executable, "-c", script], cwd=ROOT, check=True, timeout=60)


def test_one_engine_per_url(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'one.db'}"
    assert get_engine(url) is get_engine(url) is agents.get_engine(url)
    assert get_engine(f"sqlite:///{tmp_path / 'two.db'}") is not get_engine(url)


def test_sqlite_files_use_the_write_ahead_journal(tmp_path: Path) -> None:
    with get_engine(f"sqlite:///{tmp_path / 'wal.db'}").connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar_one() == "wal"
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar_one() == 1  # NORMAL


def test_the_tracker_store_uses_the_same_pragmas() -> None:
    from bot.stores import sql_tracker_store

    assert sql_tracker_store.apply_sqlite_pragmas is db.apply_sqlite_pragmas


# --- migrations -------------------------------------------------------------------------------


def test_first_use_brings_a_new_database_to_head(new_url: Callable[[], str]) -> None:
    engine = get_engine(new_url())
    with engine.connect() as conn:
        assert current_revisions(conn) == head_revisions()
    assert table_names(engine) == LEGACY_TABLES | {VERSION_TABLE}
    assert migrate(engine) == head_revisions()  # again: nothing to do


def test_the_models_match_the_migrated_schema(new_url: Callable[[], str]) -> None:
    engine = get_engine(new_url())
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, model_metadata()) == []
    assert set(model_metadata().tables) == LEGACY_TABLES


def test_the_migration_makes_the_schema_create_all_made(new_url: Callable[[], str]) -> None:
    legacy = make_legacy(new_url())
    try:
        assert schema_of(get_engine(new_url())) == schema_of(legacy)
    finally:
        legacy.dispose()


def test_a_database_made_before_migrations_is_stamped_and_keeps_its_data(
    new_url: Callable[[], str],
) -> None:
    url = new_url()
    legacy = make_legacy(url)
    with legacy.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO consultations (reference, birth_date, starts_at, site, service, status)"
            " VALUES ('C220000001', '1961-02-14', '2022-05-18 09:45:00', 'CHA Libramont',"
            " 'Cardiologie', 'maintenue')"
        )
        conn.exec_driver_sql(
            "INSERT INTO agent_audit (at, agent, role, action, query, shown)"
            " VALUES ('2022-05-17 08:00:00', 'marie', 'agent', 'login', '', '')"
        )
    schema_before = schema_of(legacy)
    legacy.dispose()

    engine = get_engine(url)

    with engine.connect() as conn:
        assert current_revisions(conn) == head_revisions()
    assert schema_of(engine) == schema_before  # nothing created twice, nothing changed
    found = find_by_reference("C-22-0000001", database_url=url)
    assert found is not None and found.site == "CHA Libramont"
    assert [(e.agent, e.at) for e in agents.audit_entries(database_url=url)] == [("marie", T0)]
    trail_refuses_changes(engine)


def test_a_partial_old_database_gets_the_tables_it_lacked(new_url: Callable[[], str]) -> None:
    url = new_url()
    make_legacy(url, CONSULTATION_TABLES).dispose()  # only the importer had run

    engine = get_engine(url)

    assert table_names(engine) == LEGACY_TABLES | {VERSION_TABLE}
    assert schema_of(engine) == schema_of(get_engine(new_url()))
    agents.add_audit("marie", agents.Role.AGENT, agents.Action.LOGIN, database_url=url)
    trail_refuses_changes(engine)


def test_the_audit_trail_is_append_only(new_url: Callable[[], str]) -> None:
    url = new_url()
    agents.add_audit("marie", agents.Role.AGENT, agents.Action.LOGIN, database_url=url)
    trail_refuses_changes(get_engine(url))
    assert agents.count_audit(database_url=url) == 1


def test_processes_starting_together_migrate_once(new_url: Callable[[], str]) -> None:
    url = new_url()
    engines = [build_engine(url) for _ in range(4)]  # four processes, four engines
    start = threading.Barrier(len(engines))
    errors: list[BaseException] = []

    def first_use(engine: Engine) -> None:
        start.wait()
        try:
            migrate(engine)
        except BaseException as exc:  # reported below, with the others
            errors.append(exc)

    threads = [threading.Thread(target=first_use, args=(e,)) for e in engines]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    try:
        assert errors == []
        with engines[0].connect() as conn:
            assert current_revisions(conn) == head_revisions()
            versions = conn.execute(text(f"SELECT count(*) FROM {VERSION_TABLE}")).scalar_one()
        assert versions == 1
    finally:
        for engine in engines:
            engine.dispose()


def test_downgrade_removes_everything_and_upgrade_brings_it_back(
    new_url: Callable[[], str],
) -> None:
    url = new_url()
    engine = get_engine(url)
    with engine.connect() as conn, conn.begin():
        command.downgrade(alembic_config(conn), "base")
    assert table_names(engine) == {VERSION_TABLE}
    with engine.connect() as conn:
        assert current_revisions(conn) == ()
        if conn.dialect.name == "postgresql":
            assert _postgres_schema(conn) == []  # the trigger function too

    assert migrate(engine) == ()
    assert table_names(engine) == LEGACY_TABLES | {VERSION_TABLE}


def test_a_database_newer_than_the_code_is_refused(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'newer.db'}"
    get_engine(url)
    with get_engine(url).begin() as conn:
        conn.execute(text(f"UPDATE {VERSION_TABLE} SET version_num = '9999'"))
    db.dispose_engines()

    with pytest.raises(RuntimeError, match="revision 9999, which this code does not know"):
        get_engine(url)
    assert db._engines == {}  # not cached half-ready


def test_the_migrations_are_found_from_any_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert alembic_config().get_main_option("script_location") == "bot:migrations"
    engine = get_engine("sqlite:///relative.db")
    assert (tmp_path / "relative.db").exists()
    assert table_names(engine) == LEGACY_TABLES | {VERSION_TABLE}


# --- python -m bot db -------------------------------------------------------------------------


def test_db_command_reads_then_upgrades(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "cli.db"
    url = f"sqlite:///{path}"
    head = ", ".join(head_revisions())

    assert bot_main(["db", "current", "--database-url", url]) == 1
    assert "pas de base" in capsys.readouterr().out and not path.exists()  # not created

    assert bot_main(["db", "upgrade", "--database-url", url]) == 0
    assert f"révision {head} (depuis aucune)" in capsys.readouterr().out

    assert bot_main(["db", "current", "--database-url", url]) == 0
    assert f"révision {head} (à jour)" in capsys.readouterr().out

    assert bot_main(["db", "upgrade", "--database-url", url]) == 0
    assert "déjà à jour" in capsys.readouterr().out


def test_db_command_reports_an_old_database_without_changing_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    make_legacy(url, CONSULTATION_TABLES).dispose()

    assert bot_main(["db", "current", "--database-url", url]) == 1
    assert "révision aucune" in capsys.readouterr().out
    assert VERSION_TABLE not in table_names(build_engine(url))


def test_db_command_defaults_to_the_settings_database(
    settings: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert bot_main(["db", "upgrade"]) == 0
    assert "crisis.db" in capsys.readouterr().out
    assert (settings.parent / "crisis.db").exists()
