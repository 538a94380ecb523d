"""Alembic's environment for the application's database (bot/db.py).

Run by `bot.db.migrate` (the first use of an engine, `python -m bot db upgrade`) with the
connection to migrate in `config.attributes["connection"]`, inside a transaction that
`bot.db.migrate` opened and holds the migration lock: nothing here commits. Without a connection
(Alembic's own command line, pointed at this directory) it connects to `sqlalchemy.url`, else
to the settings' database. Logging is left to the application: no `fileConfig` here.

A new revision, from the models (`Base.metadata`, every model imported by `model_metadata`):
    from alembic import command; from bot.db import alembic_config, get_engine
    with get_engine().connect() as conn:
        command.revision(alembic_config(conn), "what changes", autogenerate=True, rev_id="0002")
then read it, give it its "why", and check it with tests/test_db.py.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from bot.db import VERSION_TABLE, build_engine, model_metadata, resolve_url

config = context.config
target_metadata = model_metadata()


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        version_table=VERSION_TABLE,
        # SQLite alters a table by copying it: autogenerate writes batch operations for it.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )


def run_offline() -> None:
    """`--sql`: the statements for the configured URL, printed rather than run."""
    context.configure(
        url=resolve_url(config.get_main_option("sqlalchemy.url")),
        target_metadata=target_metadata,
        version_table=VERSION_TABLE,
        literal_binds=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection)
        with context.begin_transaction():  # joins the caller's transaction
            context.run_migrations()
        return
    engine = build_engine(resolve_url(config.get_main_option("sqlalchemy.url")))
    try:
        with engine.connect() as own:
            _configure(own)
            with context.begin_transaction():
                context.run_migrations()
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
