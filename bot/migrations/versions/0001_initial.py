"""The schema as `create_all` made it before the migrations, audit triggers included.

Revision ID: 0001
Revises:
Create Date: 2026-12-02

Why: the tables were created by `create_all` at first use, so nothing could ever change them.
This revision creates them exactly as that did (same columns, constraints, indexes, and the
audit trail's append-only triggers on SQLite and PostgreSQL), so that the models and this
schema match (tests/test_db.py) and later revisions have a start.

A database made before the migrations has some of these tables (each feature created its own
at its first use) and no `alembic_version`: a table that exists is left as it is, with its
data, and only the missing ones are created. Kept as written: a revision describes the schema of
its day, it never imports the models.
"""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None

_AUDIT_TRIGGERS = {
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


def _consultations() -> None:
    op.create_table(
        "consultations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(32), nullable=False),
        sa.Column("birth_date", sa.Date(), nullable=False),
        sa.Column("starts_at", sa.DateTime(), nullable=False),
        sa.Column("site", sa.String(200), nullable=False),
        sa.Column("service", sa.String(200), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "maintenue",
                "annulee",
                "reportee",
                name="consultation_status",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("new_starts_at", sa.DateTime(), nullable=True),
        sa.Column("phone_hash", sa.String(64), nullable=True),
        sa.Column("last_name", sa.String(200), nullable=True),
        sa.Column("first_name", sa.String(200), nullable=True),
        sa.Column("last_name_key", sa.String(200), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("reference"),
    )
    op.create_index("ix_consultations_phone_hash", "consultations", ["phone_hash"])
    op.create_index(
        "ix_consultations_birth_date_name", "consultations", ["birth_date", "last_name_key"]
    )


def _lookup_failures() -> None:
    op.create_table(
        "consultation_lookup_failures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("scope", sa.String(16), nullable=False),
        sa.Column("key_hash", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_consultation_lookup_failures_key",
        "consultation_lookup_failures",
        ["scope", "key_hash", "created_at"],
    )


def _imports() -> None:
    op.create_table(
        "consultation_imports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("imported_at", sa.DateTime(), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("file_sha256", sa.String(64), nullable=False),
        sa.Column("duration_ms", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )


def _accounts() -> None:
    op.create_table(
        "agent_accounts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("password_hash", sa.String(200), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("password_changed_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("username"),
    )


def _sessions() -> None:
    op.create_table(
        "agent_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
        sa.ForeignKeyConstraint(["agent_id"], ["agent_accounts.id"]),
    )
    op.create_index("ix_agent_sessions_agent_id", "agent_sessions", ["agent_id"])


def _login_failures() -> None:
    op.create_table(
        "agent_login_failures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_agent_login_failures_name", "agent_login_failures", ["username", "created_at"]
    )


def _audit() -> None:
    op.create_table(
        "agent_audit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("agent", sa.String(64), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("query", sa.Text(), nullable=False),
        sa.Column("shown", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_agent_audit_at", "agent_audit", ["at"])
    op.create_index("ix_agent_audit_agent", "agent_audit", ["agent"])
    # Append-only, enforced by the database as well (other databases: by the code only).
    for statement in _AUDIT_TRIGGERS.get(op.get_bind().dialect.name, []):
        op.execute(statement)


def _sms_options() -> None:
    op.create_table(
        "sms_pending_options",
        sa.Column("key_hash", sa.String(64), nullable=False),
        sa.Column("options", sa.Text(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("key_hash"),
    )
    op.create_index("ix_sms_pending_options_expires_at", "sms_pending_options", ["expires_at"])


# In creation order (agent_sessions refers to agent_accounts).
_TABLES: dict[str, Callable[[], None]] = {
    "consultations": _consultations,
    "consultation_lookup_failures": _lookup_failures,
    "consultation_imports": _imports,
    "agent_accounts": _accounts,
    "agent_sessions": _sessions,
    "agent_login_failures": _login_failures,
    "agent_audit": _audit,
    "sms_pending_options": _sms_options,
}


def upgrade() -> None:
    existing = set(sa.inspect(op.get_bind()).get_table_names())
    for name, create in _TABLES.items():
        if name not in existing:
            create()


def downgrade() -> None:
    for name in reversed(_TABLES):
        op.drop_table(name)  # its indexes and triggers go with it
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS agent_audit_append_only()")
