"""`python -m bot import-consultations FILE.csv [--database-url URL] [--check]`

Prints every error of a refused file on stderr, one per line, and exits 1; on success prints a
one-line French summary and exits 0. A progress bar is drawn on stderr when it is a terminal.
Never prints a date of birth, a phone number, a name or a reference.
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import TextIO

from sqlalchemy.exc import SQLAlchemyError
from tqdm import tqdm

from bot.consultations.importer import (
    ConsultationImportError,
    ImportResult,
    parse_consultations,
    store_consultations,
)
from bot.consultations.models import Status

PHASES = {"validation": "vérification", "enregistrement": "enregistrement"}


class ProgressBar:
    """One tqdm bar per phase ("vérification", then "enregistrement"), on the given stream.

    Called as the importer's `progress(phase, done, total)`; `close()` ends the current bar."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.phase: str | None = None
        self.bar: tqdm | None = None

    def __call__(self, phase: str, done: int, total: int) -> None:
        if phase != self.phase or self.bar is None:
            self.close()
            self.phase = phase
            self.bar = tqdm(
                total=total,
                desc=PHASES.get(phase, phase),
                unit=" lignes",
                file=self.stream,
                leave=True,
                mininterval=0.05,
            )
        self.bar.update(done - self.bar.n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
        self.bar = None
        self.phase = None


def _number(value: float, decimals: int = 2) -> str:
    return f"{value:.{decimals}f}".replace(".", ",")


def summary(result: ImportResult) -> str:
    counts = result.by_status
    return (
        f"Import réussi : {result.rows} consultations "
        f"({counts[Status.MAINTENUE]} maintenues, {counts[Status.ANNULEE]} annulées, "
        f"{counts[Status.REPORTEE]} reportées) en {_number(result.duration)} s."
    )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bot import-consultations",
        description="Importe la liste des consultations (CSV UTF-8, voir CONSULTATIONS.md). "
        "Tout ou rien : un fichier avec une seule erreur ne change rien.",
    )
    parser.add_argument("file", metavar="FICHIER.csv", help="le fichier exporté par la cellule")
    parser.add_argument(
        "--database-url",
        help="base de données (par défaut : DATABASE_URL, sinon var/crisis.db)",
    )
    parser.add_argument(
        "--check", action="store_true", help="vérifier le fichier seulement, sans rien importer"
    )
    return parser


def _print_below(bar: ProgressBar | None, *lines: str, file: TextIO | None = None) -> None:
    """Print lines once the progress bar is closed: a bar still open would be drawn again over
    them. Without `file`, on standard output."""
    if bar:
        bar.close()
    for line in lines:
        print(line, file=file)


def failure_lines(exc: ConsultationImportError | OSError | SQLAlchemyError, file: str) -> list[str]:
    """What a refused import prints on stderr: every error of the file, or why it could not be
    read or stored. Never a row's values (the engine hides the SQL parameters)."""
    if isinstance(exc, ConsultationImportError):
        return [
            *exc.errors,
            f"Import refusé : {len(exc.errors)} erreur(s), la liste en place n'a pas changé.",
        ]
    if isinstance(exc, OSError):
        return [f"{file}: lecture impossible ({exc.strerror or exc})"]
    # hide_parameters=True on the engine: the message carries no row values.
    orig = getattr(exc, "orig", None)
    reason = str(orig if orig else exc).strip().splitlines()
    return [
        f"base de données : {type(exc).__name__}: {reason[0] if reason else ''} ; "
        "la liste en place n'a pas changé."
    ]


def _import(args: argparse.Namespace, bar: ProgressBar | None, err: TextIO, started: float) -> str:
    """Read and check the file, print its warnings, store it unless `--check`: the line that
    says what was done. Raises what `failure_lines` describes."""
    with open(args.file, "rb") as f:
        data = f.read()
    parsed = parse_consultations(data, progress=bar)
    for warning in parsed.warnings:
        _print_below(bar, f"attention : {warning}", file=err)
    if args.check:
        return f"Fichier valide : {len(parsed.rows)} consultations, rien n'a été importé."
    result = store_consultations(
        parsed, database_url=args.database_url, progress=bar, started=started
    )
    return summary(result)


def import_main(argv: list[str]) -> int:
    args = _parser().parse_args(argv)  # usage errors: argparse exits with status 2
    err = sys.stderr
    bar = ProgressBar(err) if err.isatty() else None
    started = time.perf_counter()
    try:
        done = _import(args, bar, err, started)
    except (ConsultationImportError, OSError, SQLAlchemyError) as exc:
        _print_below(bar, *failure_lines(exc, args.file), file=err)
        return 1
    _print_below(bar, done)
    return 0


def main() -> int:  # pragma: no cover - `python -m bot import-consultations` is the entry point
    return import_main(sys.argv[1:])
