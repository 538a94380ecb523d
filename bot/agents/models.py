"""Agents' accounts, sessions, failed logins and the audit trail (SQLAlchemy 1.4).

The tables live in the application's database (`get_settings().database_url`, SQLite under var/
by default, PostgreSQL when `DATABASE_URL` says so), on the engine `bot.db` caches, on its
`Base`; the migrations (bot/migrations/) create them, the audit trail's triggers included.

- Passwords: scrypt hashes only (`bot.agents.passwords`).
- Sessions: the browser holds a random token; the table holds its SHA-256 only, so a copy of the
  database does not let anyone sign in. A session ends after `SESSION_IDLE` without a request,
  and in any case `SESSION_LIFETIME` after sign-in.
- Failed logins: counted per name typed (existing account or not, so that the answer does not
  tell which names exist). `MAX_FAILED_LOGINS` failures lock the name for `LOCK_DURATION`
  (`bot.db.Lockout`, the patients' lookups' rule); a refused attempt on a locked name is not
  counted (the lock does not extend), a success clears the name's failures. Every attempt
  first records a provisional failure, committed, and then looks at the failures before it
  (smaller ids): parallel attempts cannot get more than `MAX_FAILED_LOGINS` password checks.
- Audit: append-only. Nothing in the code updates or deletes an entry, and the database refuses
  it too (triggers on SQLite and PostgreSQL).

Times are naive UTC. The functions are synchronous: the web app calls them through
`asyncio.to_thread`.
"""

from __future__ import annotations

import enum
import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    delete,
    func,
    select,
    update,
)
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from bot import db
from bot.agents.passwords import DUMMY_HASH, hash_password, verify_password
from bot.db import Base, Lockout, as_utc

USERNAME_MAX = 64
USERNAME_RE = re.compile(r"[a-z0-9][a-z0-9._-]{1,63}")

LOGIN_LOCKOUT = Lockout(max_failures=5, duration=timedelta(minutes=15))
MAX_FAILED_LOGINS = LOGIN_LOCKOUT.max_failures
LOCK_DURATION = LOGIN_LOCKOUT.duration
FAILURES_KEPT = timedelta(days=1)
SESSION_LIFETIME = timedelta(hours=12)  # one shift, whatever happens
SESSION_IDLE = timedelta(hours=1)  # without a request
SEEN_EVERY = timedelta(seconds=60)  # last_seen_at is written at most once a minute


class Role(str, enum.Enum):
    AGENT = "agent"
    SUPERVISOR = "supervisor"

    @property
    def label(self) -> str:
        return {"agent": "agent", "supervisor": "superviseur"}[self.value]


class Action(str, enum.Enum):
    """What an audit entry records."""

    LOOKUP_REFERENCE = "lookup_reference"
    LOOKUP_NAME = "lookup_name"
    LOGIN = "login"
    LOGOUT = "logout"
    LOCKED = "locked"

    @property
    def label(self) -> str:
        return {
            "lookup_reference": "recherche par référence",
            "lookup_name": "recherche par nom et date de naissance",
            "login": "connexion",
            "logout": "déconnexion",
            "locked": "compte verrouillé",
        }[self.value]


class AgentAccount(Base):
    __tablename__ = "agent_accounts"

    id = Column(Integer, primary_key=True)
    username = Column(String(USERNAME_MAX), nullable=False, unique=True)  # lower case
    role = Column(String(16), nullable=False)  # Role value
    password_hash = Column(String(200), nullable=False)
    active = Column(Boolean, nullable=False, default=True)
    created_at = Column(DateTime, nullable=False)
    password_changed_at = Column(DateTime, nullable=False)

    def __repr__(self) -> str:
        return f"<AgentAccount id={self.id} role={self.role}>"


class AgentSession(Base):
    __tablename__ = "agent_sessions"

    id = Column(Integer, primary_key=True)
    token_hash = Column(String(64), nullable=False, unique=True)  # sha256 of the cookie's token
    agent_id = Column(Integer, ForeignKey("agent_accounts.id"), nullable=False, index=True)
    created_at = Column(DateTime, nullable=False)
    last_seen_at = Column(DateTime, nullable=False)
    expires_at = Column(DateTime, nullable=False)


class LoginFailure(Base):
    __tablename__ = "agent_login_failures"

    id = Column(Integer, primary_key=True)
    username = Column(String(USERNAME_MAX), nullable=False)  # as typed, normalised
    created_at = Column(DateTime, nullable=False)

    __table_args__ = (Index("ix_agent_login_failures_name", "username", "created_at"),)


class AuditEntry(Base):
    __tablename__ = "agent_audit"

    id = Column(Integer, primary_key=True)
    at = Column(DateTime, nullable=False, index=True)
    agent = Column(String(USERNAME_MAX), nullable=False, index=True)  # the name, kept as text
    role = Column(String(16), nullable=False)
    action = Column(String(32), nullable=False)  # Action value
    query = Column(Text, nullable=False, default="")  # what was searched
    shown = Column(Text, nullable=False, default="")  # what was shown


accounts_table = AgentAccount.__table__
sessions_table = AgentSession.__table__
failures_table = LoginFailure.__table__
audit_table = AuditEntry.__table__

# Append-only: nothing here updates or deletes an entry, and the database refuses it too, with
# triggers on SQLite and PostgreSQL that the first migration creates
# (bot/migrations/versions/0001_initial.py).


# --- engine -----------------------------------------------------------------------------------


def get_engine(database_url: str | None = None) -> Engine:
    """The shared engine of the application's database (`bot.db.get_engine`: migrated)."""
    return db.get_engine(database_url)


# --- accounts ---------------------------------------------------------------------------------


class AccountError(ValueError):
    """A refused account operation; the message is French, for the person at the terminal."""


@dataclass(frozen=True)
class Agent:
    id: int
    username: str
    role: Role
    active: bool = True

    @property
    def is_supervisor(self) -> bool:
        return self.role is Role.SUPERVISOR


def normalise_username(name: str) -> str:
    return name.strip().lower()[:USERNAME_MAX]


def username_problem(name: str) -> str | None:
    if not USERNAME_RE.fullmatch(name):
        return (
            "le nom doit compter 2 à 64 caractères : lettres minuscules sans accent, chiffres, "
            "point, tiret ou soulignement, en commençant par une lettre ou un chiffre"
        )
    return None


def _agent(row: Any) -> Agent:
    return Agent(id=row.id, username=row.username, role=Role(row.role), active=bool(row.active))


def create_agent(
    username: str,
    password: str,
    role: Role = Role.AGENT,
    *,
    replace: bool = False,
    now: datetime | None = None,
    database_url: str | None = None,
) -> tuple[Agent, bool]:
    """Create the account (or, with `replace`, set the password and role of an existing one and
    end its sessions). Returns (agent, created). The password must already be checked."""
    name = normalise_username(username)
    problem = username_problem(name)
    if problem:
        raise AccountError(problem)
    now = as_utc(now)
    engine = get_engine(database_url)
    hashed = hash_password(password)
    with engine.begin() as conn:
        row = conn.execute(select(accounts_table).where(accounts_table.c.username == name)).first()
        if row is not None:
            if not replace:
                raise AccountError(
                    f"l'agent « {name} » existe déjà (ajoutez --reset pour changer son mot de "
                    "passe)"
                )
            conn.execute(
                update(accounts_table)
                .where(accounts_table.c.id == row.id)
                .values(password_hash=hashed, role=role.value, active=True, password_changed_at=now)
            )
            conn.execute(delete(sessions_table).where(sessions_table.c.agent_id == row.id))
            conn.execute(delete(failures_table).where(failures_table.c.username == name))
            return Agent(id=row.id, username=name, role=role), False
        try:
            result = conn.execute(
                accounts_table.insert().values(
                    username=name,
                    role=role.value,
                    password_hash=hashed,
                    active=True,
                    created_at=now,
                    password_changed_at=now,
                )
            )
        except IntegrityError as exc:  # created meanwhile by someone else
            raise AccountError(f"l'agent « {name} » existe déjà") from exc
        return Agent(id=int(result.inserted_primary_key[0]), username=name, role=role), True


def get_agent(username: str, *, database_url: str | None = None) -> Agent | None:
    engine = get_engine(database_url)
    with engine.connect() as conn:
        row = conn.execute(
            select(accounts_table).where(accounts_table.c.username == normalise_username(username))
        ).first()
    return _agent(row) if row is not None else None


# --- logging in -------------------------------------------------------------------------------


class LoginOutcome(str, enum.Enum):
    OK = "ok"
    REFUSED = "refused"  # wrong name or password (the same answer for both)
    LOCKED = "locked"  # locked before this attempt, or by it


@dataclass(frozen=True)
class LoginResult:
    outcome: LoginOutcome
    agent: Agent | None = None
    locked_until: datetime | None = None  # naive UTC
    remaining: int | None = None  # attempts left before a lock, when REFUSED
    locked_now: bool = False  # this very attempt locked the name


def attempt_login(
    username: str, password: str, *, now: datetime | None = None, database_url: str | None = None
) -> LoginResult:
    name = normalise_username(username)
    now = as_utc(now)
    engine = get_engine(database_url)
    with engine.begin() as conn:  # the provisional failure, seen at once by every server
        mine = int(
            conn.execute(
                failures_table.insert().values(username=name, created_at=now)
            ).inserted_primary_key[0]
        )
        conn.execute(
            delete(failures_table).where(failures_table.c.created_at < now - FAILURES_KEPT)
        )
    with engine.begin() as conn:
        before = [
            r.created_at
            for r in conn.execute(
                select(failures_table.c.created_at).where(
                    failures_table.c.username == name,
                    failures_table.c.id < mine,
                    failures_table.c.created_at > LOGIN_LOCKOUT.since(now),
                    failures_table.c.created_at <= now,
                )
            )
        ]
        until, _ = LOGIN_LOCKOUT.state(before, now)
        if until is not None:
            conn.execute(delete(failures_table).where(failures_table.c.id == mine))
            return LoginResult(LoginOutcome.LOCKED, locked_until=until)
        row = conn.execute(select(accounts_table).where(accounts_table.c.username == name)).first()
    # The slow part (scrypt) outside any transaction; the same cost for an unknown name.
    known = row is not None and bool(row.active)
    matches = verify_password(password, row.password_hash if known else DUMMY_HASH)
    if known and matches:
        with engine.begin() as conn:
            conn.execute(delete(failures_table).where(failures_table.c.username == name))
        return LoginResult(LoginOutcome.OK, agent=_agent(row))
    until, counting = LOGIN_LOCKOUT.state([*before, now], now)
    if until is not None:
        return LoginResult(
            LoginOutcome.LOCKED,
            agent=_agent(row) if row is not None else None,
            locked_until=until,
            locked_now=True,
        )
    return LoginResult(LoginOutcome.REFUSED, remaining=MAX_FAILED_LOGINS - counting)


# --- sessions ---------------------------------------------------------------------------------


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Session:
    id: int
    agent: Agent
    expires_at: datetime  # naive UTC


def create_session(
    agent: Agent, *, now: datetime | None = None, database_url: str | None = None
) -> str:
    """A new session for `agent`; returns the token for the cookie (stored hashed only)."""
    now = as_utc(now)
    token = secrets.token_urlsafe(32)
    engine = get_engine(database_url)
    with engine.begin() as conn:
        conn.execute(
            delete(sessions_table).where(
                (sessions_table.c.expires_at <= now)
                | (sessions_table.c.last_seen_at <= now - SESSION_IDLE)
            )
        )
        conn.execute(
            sessions_table.insert().values(
                token_hash=token_hash(token),
                agent_id=agent.id,
                created_at=now,
                last_seen_at=now,
                expires_at=now + SESSION_LIFETIME,
            )
        )
    return token


def session_for(
    token: str, *, now: datetime | None = None, database_url: str | None = None
) -> Session | None:
    """The live session of a cookie's token, else None (unknown, expired, idle, disabled)."""
    if not token or len(token) > 200:
        return None
    now = as_utc(now)
    engine = get_engine(database_url)
    s, a = sessions_table, accounts_table
    with engine.begin() as conn:
        row = conn.execute(
            select(
                s.c.id,
                s.c.last_seen_at,
                s.c.expires_at,
                a.c.id.label("agent_id"),
                a.c.username,
                a.c.role,
                a.c.active,
            )
            .select_from(s.join(a, s.c.agent_id == a.c.id))
            .where(s.c.token_hash == token_hash(token))
        ).first()
        if row is None:
            return None
        if not row.active or row.expires_at <= now or row.last_seen_at <= now - SESSION_IDLE:
            conn.execute(delete(s).where(s.c.id == row.id))
            return None
        if now - row.last_seen_at >= SEEN_EVERY:
            conn.execute(update(s).where(s.c.id == row.id).values(last_seen_at=now))
    agent = Agent(id=row.agent_id, username=row.username, role=Role(row.role), active=True)
    return Session(id=row.id, agent=agent, expires_at=row.expires_at)


def end_session(token: str, *, database_url: str | None = None) -> None:
    engine = get_engine(database_url)
    with engine.begin() as conn:
        conn.execute(delete(sessions_table).where(sessions_table.c.token_hash == token_hash(token)))


# --- audit ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Audit:
    id: int
    at: datetime  # naive UTC
    agent: str
    role: Role
    action: Action
    query: str
    shown: str


def add_audit(
    agent: Agent | str,
    role: Role,
    action: Action,
    query: str = "",
    shown: str = "",
    *,
    now: datetime | None = None,
    database_url: str | None = None,
) -> None:
    name = agent.username if isinstance(agent, Agent) else normalise_username(agent)
    engine = get_engine(database_url)
    with engine.begin() as conn:
        conn.execute(
            audit_table.insert().values(
                at=as_utc(now),
                agent=name,
                role=role.value,
                action=action.value,
                query=query,
                shown=shown,
            )
        )


def audit_entries(
    *,
    agent: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    actions: tuple[Action, ...] | None = None,
    limit: int | None = None,
    database_url: str | None = None,
) -> list[Audit]:
    """Entries in chronological order; with `limit`, the latest `limit` of them."""
    t = audit_table
    query = select(t)
    if agent:
        query = query.where(t.c.agent == normalise_username(agent))
    if since is not None:
        query = query.where(t.c.at >= as_utc(since))
    if until is not None:
        query = query.where(t.c.at < as_utc(until))
    if actions:
        query = query.where(t.c.action.in_([a.value for a in actions]))
    query = query.order_by(t.c.id.desc())
    if limit is not None:
        query = query.limit(limit)
    engine = get_engine(database_url)
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    return [
        Audit(
            id=r.id,
            at=r.at,
            agent=r.agent,
            role=Role(r.role),
            action=Action(r.action),
            query=r.query,
            shown=r.shown,
        )
        for r in reversed(rows)
    ]


def count_audit(*, database_url: str | None = None) -> int:
    engine = get_engine(database_url)
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(audit_table)).scalar_one())
