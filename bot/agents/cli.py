"""`python -m bot add-agent NAME [--supervisor] [--reset]` and `python -m bot audit [...]`.

add-agent
    Creates a call-centre agent account (role `agent`, or `supervisor` with --supervisor). The
    password is read from standard input when it is not a terminal (the first line), or asked
    twice on the terminal without echo. Weak or empty passwords are refused. --reset sets a new
    password (and the role) of an existing account and ends its open sessions.

        printf '%s\\n' "$PASSWORD" | python -m bot add-agent marie
        python -m bot add-agent chef --supervisor        # asks for the password

audit
    Prints the agents' audit trail, oldest first: time (Belgian time), agent, what was done,
    what was searched, what was shown. The consultation lookups are printed as they were
    searched, name and date of birth included: the trail exists so that the crisis cell can
    answer "who looked at the file of this patient?", and whoever can run this command can read
    the database anyway.
"""

from __future__ import annotations

import argparse
import csv
import getpass
import sys
from datetime import date, datetime, time, timedelta, timezone
from typing import TextIO

from sqlalchemy.exc import SQLAlchemyError

from bot.agents.models import (
    AccountError,
    Action,
    Audit,
    Role,
    audit_entries,
    create_agent,
    normalise_username,
    username_problem,
)
from bot.agents.passwords import password_problem
from bot.db import as_utc
from bot.settings import LOCAL_TZ as LOCAL


def _db_error(exc: SQLAlchemyError) -> str:
    reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    return f"base de données : {type(exc).__name__}: {reason[0] if reason else ''}"


def read_password(stdin: TextIO, stderr: TextIO) -> str | None:
    """The new password: first line of stdin, or asked twice on a terminal. None if the two
    typings differ."""
    if not stdin.isatty():
        line = stdin.readline()
        return line[:-1] if line.endswith("\n") else line
    first = getpass.getpass("Mot de passe : ")
    second = getpass.getpass("Le même mot de passe, encore : ")
    if first != second:
        print("Les deux mots de passe sont différents.", file=stderr)
        return None
    return first


def _add_agent_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bot add-agent",
        description="Crée le compte d'un agent du centre d'appel. Le mot de passe est lu sur "
        "l'entrée standard (première ligne), ou demandé deux fois dans un terminal.",
    )
    parser.add_argument("name", metavar="NOM", help="nom de connexion (ex. : marie.dupont)")
    parser.add_argument(
        "--supervisor", action="store_true", help="rôle superviseur (tableau du jour, journal)"
    )
    parser.add_argument(
        "--reset",
        action="store_true",
        help="le compte existe : changer son mot de passe et son rôle, fermer ses sessions",
    )
    parser.add_argument("--database-url", help="base de données (par défaut : DATABASE_URL)")
    return parser


def _new_password(name: str, stdin: TextIO, err: TextIO) -> str | None:
    """The password for `name`, or None (said on `err`) when it is mistyped or too weak."""
    password = read_password(stdin, err)
    if password is None:
        return None
    problem = password_problem(password, name)
    if problem:
        print(f"Mot de passe refusé : {problem}.", file=err)
        return None
    return password


def add_agent_main(
    argv: list[str], stdin: TextIO | None = None, stdout: TextIO | None = None
) -> int:
    stdin = stdin or sys.stdin
    out = stdout or sys.stdout
    err = sys.stderr
    args = _add_agent_parser().parse_args(argv)

    name = normalise_username(args.name)
    problem = username_problem(name)
    if problem:
        print(f"Compte refusé : {problem}.", file=err)
        return 2
    password = _new_password(name, stdin, err)
    if password is None:
        return 1
    role = Role.SUPERVISOR if args.supervisor else Role.AGENT
    try:
        agent, created = create_agent(
            name, password, role, replace=args.reset, database_url=args.database_url
        )
    except AccountError as exc:
        print(f"Compte refusé : {exc}.", file=err)
        return 1
    except SQLAlchemyError as exc:
        print(_db_error(exc), file=err)
        return 1
    verb = "créé" if created else "mis à jour (sessions fermées)"
    print(f"Compte {verb} : {agent.username} ({agent.role.label}).", file=out)
    return 0


# --- audit ------------------------------------------------------------------------------------


def local_time(moment: datetime) -> datetime:
    """A naive UTC time from the database, in Belgian time (naive)."""
    return moment.replace(tzinfo=timezone.utc).astimezone(LOCAL).replace(tzinfo=None)


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"date attendue AAAA-MM-JJ, pas {text!r}") from None


def _day_start_utc(day: date) -> datetime:
    """Midnight in Brussels, as the audit table stores times (naive UTC)."""
    return as_utc(datetime.combine(day, time(), LOCAL))


def format_entry(entry: Audit) -> str:
    when = local_time(entry.at).strftime("%Y-%m-%d %H:%M:%S")
    who = f"{entry.agent} ({entry.role.label})"
    line = f"{when}  {who}  {entry.action.label}"
    if entry.query:
        line += f" : {entry.query}"
    if entry.shown:
        line += f"  ->  {entry.shown}"
    return line


def _audit_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bot audit",
        description="Affiche le journal de la console des agents (le plus ancien d'abord), "
        "heures en heure belge.",
    )
    parser.add_argument("--agent", metavar="NOM", help="seulement cet agent")
    parser.add_argument("--since", type=_day, metavar="AAAA-MM-JJ", help="à partir de ce jour")
    parser.add_argument("--until", type=_day, metavar="AAAA-MM-JJ", help="jusqu'à ce jour inclus")
    parser.add_argument(
        "--lookups", action="store_true", help="seulement les recherches de consultations"
    )
    parser.add_argument("--last", type=int, metavar="N", help="seulement les N dernières entrées")
    parser.add_argument("--csv", action="store_true", help="en CSV (séparateur ;)")
    parser.add_argument("--database-url", help="base de données (par défaut : DATABASE_URL)")
    return parser


def _print_csv(entries: list[Audit], out: TextIO) -> None:
    writer = csv.writer(out, delimiter=";", lineterminator="\n")
    writer.writerow(["heure", "agent", "rôle", "action", "recherche", "affiché"])
    for e in entries:
        writer.writerow(
            [
                local_time(e.at).isoformat(sep=" ", timespec="seconds"),
                e.agent,
                e.role.label,
                e.action.label,
                e.query,
                e.shown,
            ]
        )


def audit_main(argv: list[str], stdout: TextIO | None = None) -> int:
    out = stdout or sys.stdout
    args = _audit_parser().parse_args(argv)
    try:
        entries = audit_entries(
            agent=args.agent,
            since=_day_start_utc(args.since) if args.since else None,
            until=_day_start_utc(args.until + timedelta(days=1)) if args.until else None,
            actions=(Action.LOOKUP_REFERENCE, Action.LOOKUP_NAME) if args.lookups else None,
            limit=args.last,
            database_url=args.database_url,
        )
    except SQLAlchemyError as exc:
        print(_db_error(exc), file=sys.stderr)
        return 1
    if args.csv:
        _print_csv(entries, out)
        return 0
    if not entries:
        print("Le journal est vide.", file=out)
        return 0
    for e in entries:
        print(format_entry(e), file=out)
    return 0
