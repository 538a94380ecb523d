"""`python -m bot add-agent` and `python -m bot audit`."""

from __future__ import annotations

import io
from datetime import datetime

import pytest
from sqlalchemy import text

from bot.__main__ import main as bot_main
from bot.agents import cli
from bot.agents.models import (
    Action,
    LoginOutcome,
    Role,
    add_audit,
    attempt_login,
    get_agent,
    get_engine,
)


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_add_agent_reads_the_password_from_stdin(capsys: pytest.CaptureFixture[str]) -> None:
    status = cli.add_agent_main(["Marie"], stdin=io.StringIO("cheval batterie agrafe\n"))
    assert status == 0
    assert "Compte créé : marie (agent)" in capsys.readouterr().out
    account = get_agent("marie")
    assert account is not None and account.role is Role.AGENT
    assert attempt_login("marie", "cheval batterie agrafe").outcome is LoginOutcome.OK


def test_through_the_documented_command(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("une phrase de passe assez longue\n"))
    assert bot_main(["add-agent", "chef", "--supervisor"]) == 0
    assert "(superviseur)" in capsys.readouterr().out
    account = get_agent("chef")
    assert account is not None and account.role is Role.SUPERVISOR


def test_prompts_twice_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    answers = iter(["cheval batterie agrafe", "cheval batterie agrafe"])
    monkeypatch.setattr(cli.getpass, "getpass", lambda prompt: next(answers))
    assert cli.add_agent_main(["paul"], stdin=Tty()) == 0
    assert attempt_login("paul", "cheval batterie agrafe").outcome is LoginOutcome.OK


def test_two_different_typings_are_refused(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    answers = iter(["cheval batterie agrafe", "cheval batterie agrafé"])
    monkeypatch.setattr(cli.getpass, "getpass", lambda prompt: next(answers))
    assert cli.add_agent_main(["paul"], stdin=Tty()) == 1
    assert "différents" in capsys.readouterr().err
    assert get_agent("paul") is None


@pytest.mark.parametrize(
    "password", ["", "\n", "court\n", "motdepasse2022\n", "paul.martin.2022\n"]
)
def test_weak_or_empty_passwords_are_refused(
    password: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.add_agent_main(["paul.martin"], stdin=io.StringIO(password)) == 1
    assert "Mot de passe refusé" in capsys.readouterr().err
    assert get_agent("paul.martin") is None


def test_bad_names_and_duplicates(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.add_agent_main(["é!"], stdin=io.StringIO("cheval batterie agrafe\n")) == 2
    assert cli.add_agent_main(["marie"], stdin=io.StringIO("cheval batterie agrafe\n")) == 0
    assert cli.add_agent_main(["MARIE"], stdin=io.StringIO("autre phrase de passe\n")) == 1
    assert "existe déjà" in capsys.readouterr().err
    # --reset: new password (and role), the old one no longer works.
    assert (
        cli.add_agent_main(
            ["marie", "--reset", "--supervisor"], stdin=io.StringIO("autre phrase de passe\n")
        )
        == 0
    )
    assert attempt_login("marie", "cheval batterie agrafe").outcome is LoginOutcome.REFUSED
    assert attempt_login("marie", "autre phrase de passe").outcome is LoginOutcome.OK
    account = get_agent("marie")
    assert account is not None and account.role is Role.SUPERVISOR


def test_audit_prints_the_trail_in_belgian_time(capsys: pytest.CaptureFixture[str]) -> None:
    add_audit(
        "marie",
        Role.AGENT,
        Action.LOOKUP_REFERENCE,
        "la référence C-22-9100001",
        "1 consultation : C-22-9100001 (Maréchal Marie, ...)",
        now=datetime(2022, 5, 17, 7, 5, 0),  # UTC: 09:05 in Brussels (summer time)
    )
    add_audit("paul", Role.AGENT, Action.LOGIN, now=datetime(2022, 5, 17, 8, 0, 0))
    assert cli.audit_main([]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == (
        "2022-05-17 09:05:00  marie (agent)  recherche par référence : la référence C-22-9100001"
        "  ->  1 consultation : C-22-9100001 (Maréchal Marie, ...)"
    )
    assert out[1].startswith("2022-05-17 10:00:00  paul (agent)  connexion")

    assert cli.audit_main(["--agent", "paul"]) == 0
    assert "marie" not in capsys.readouterr().out
    assert cli.audit_main(["--lookups", "--csv"]) == 0
    rows = capsys.readouterr().out.splitlines()
    assert rows[0] == "heure;agent;rôle;action;recherche;affiché" and len(rows) == 2
    assert cli.audit_main(["--since", "2022-05-18"]) == 0
    assert "vide" in capsys.readouterr().out


def test_the_trail_is_append_only() -> None:
    add_audit("marie", Role.AGENT, Action.LOGIN)
    engine = get_engine()
    for statement in ("UPDATE agent_audit SET agent = 'x'", "DELETE FROM agent_audit"):
        with pytest.raises(Exception, match="append-only"), engine.begin() as conn:
            conn.execute(text(statement))
    with engine.connect() as conn:
        assert conn.execute(text("SELECT agent FROM agent_audit")).scalar_one() == "marie"
