"""Accounts, lockout after 5 failed logins for 15 minutes, sessions and their expiry."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

from bot.agents import models
from bot.agents.models import LoginOutcome, Role, attempt_login, create_agent

T0 = datetime(2022, 5, 17, 8, 0, 0)


def test_lockout_after_five_failures_for_fifteen_minutes() -> None:
    create_agent("marie", "cheval batterie agrafe", Role.AGENT)
    results = [attempt_login("marie", "mauvais", now=T0 + timedelta(seconds=i)) for i in range(5)]
    assert [r.outcome for r in results[:4]] == [LoginOutcome.REFUSED] * 4
    assert [r.remaining for r in results[:4]] == [4, 3, 2, 1]
    assert results[4].outcome is LoginOutcome.LOCKED and results[4].locked_now
    assert results[4].locked_until == T0 + timedelta(seconds=4, minutes=15)
    # Locked: even the right password is refused, and refused attempts do not extend the lock.
    for minutes in (1, 10, 14):
        r = attempt_login("marie", "cheval batterie agrafe", now=T0 + timedelta(minutes=minutes))
        assert r.outcome is LoginOutcome.LOCKED and not r.locked_now
    r = attempt_login("marie", "cheval batterie agrafe", now=T0 + timedelta(minutes=15, seconds=5))
    assert r.outcome is LoginOutcome.OK
    # A success starts the count again.
    r = attempt_login("marie", "mauvais", now=T0 + timedelta(minutes=16))
    assert r.outcome is LoginOutcome.REFUSED and r.remaining == 4


def test_unknown_names_are_answered_and_locked_the_same_way() -> None:
    outcomes = [
        attempt_login("personne", "x", now=T0 + timedelta(seconds=i)).outcome for i in range(6)
    ]
    assert outcomes == [LoginOutcome.REFUSED] * 4 + [LoginOutcome.LOCKED] * 2


def test_parallel_attempts_get_no_more_than_five_tries() -> None:
    create_agent("marie", "cheval batterie agrafe", Role.AGENT)
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda _: attempt_login("marie", "mauvais", now=T0), range(12)))
    refused = [r for r in results if r.outcome is LoginOutcome.REFUSED]
    locked = [r for r in results if r.outcome is LoginOutcome.LOCKED]
    assert len(refused) + sum(r.locked_now for r in locked) == 5
    assert len(locked) == 8


def test_sessions_expire_when_idle_and_after_a_shift() -> None:
    agent, _ = create_agent("marie", "cheval batterie agrafe", Role.AGENT)
    token = models.create_session(agent, now=T0)
    session = models.session_for(token, now=T0 + timedelta(minutes=30))
    assert session is not None and session.agent.username == "marie"
    assert models.session_for(token, now=T0 + timedelta(minutes=89)) is not None  # seen at 30
    assert models.session_for(token, now=T0 + timedelta(minutes=89 + 61)) is None  # idle
    assert models.session_for(token, now=T0 + timedelta(minutes=89)) is None  # and gone

    token = models.create_session(agent, now=T0)
    for step in range(1, 15):  # in use all day long: every 50 minutes
        assert models.session_for(token, now=T0 + timedelta(minutes=50 * step)) is not None
    assert models.session_for(token, now=T0 + timedelta(hours=12)) is None  # 11 h 40 + 20 min


def test_the_token_is_stored_hashed_and_a_password_reset_ends_sessions() -> None:
    agent, _ = create_agent("marie", "cheval batterie agrafe", Role.AGENT)
    token = models.create_session(agent)
    with models.get_engine().connect() as conn:
        stored = conn.execute(models.sessions_table.select()).one()
    assert stored.token_hash == models.token_hash(token) and token not in stored.token_hash
    create_agent("marie", "une autre phrase de passe", Role.AGENT, replace=True)
    assert models.session_for(token) is None
    assert models.session_for("") is None and models.session_for("n'importe quoi") is None
