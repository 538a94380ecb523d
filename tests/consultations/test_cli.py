from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from bot.consultations.cli import ProgressBar, import_main
from bot.consultations.models import consultations_table
from bot.db import get_engine
from bot.settings import ROOT

from .conftest import SAMPLE, SAMPLE_ROWS, csv_bytes, row

SUMMARY = (
    f"Import réussi : {SAMPLE_ROWS} consultations (9 maintenues, 13 annulées, 2 reportées) en "
)


def count(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(consultations_table)).scalar())


def test_success(database_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert import_main([str(SAMPLE), "--database-url", database_url]) == 0
    out, err = capsys.readouterr()
    assert out.startswith(SUMMARY)
    assert out.endswith(" s.\n")
    assert out.count("\n") == 1
    assert err == ""  # no progress bar when stderr is not a terminal
    assert count(get_engine(database_url)) == SAMPLE_ROWS


def test_refused_file(
    database_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert import_main([str(SAMPLE), "--database-url", database_url]) == 0
    capsys.readouterr()
    bad = tmp_path / "bad.csv"
    bad.write_bytes(
        csv_bytes(
            [
                row("C-22-0000001", last_name="Secretname", phone="+32470999888"),
                row("C-22-0000002", birth_date="1961-02-30", phone="+32470999888"),
                row("C-22-0000003", status="reportée", last_name="Secretname"),
            ]
        )
    )
    assert import_main([str(bad), "--database-url", database_url]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert err.splitlines() == [
        "line 3, column birth_date: date impossible",
        "line 4, column new_starts_at: obligatoire quand le statut est « reportée »",
        "Import refusé : 2 erreur(s), la liste en place n'a pas changé.",
    ]
    assert count(get_engine(database_url)) == SAMPLE_ROWS


def test_default_database_is_the_settings_one(capsys: pytest.CaptureFixture[str]) -> None:
    assert import_main([str(SAMPLE)]) == 0  # DATABASE_URL: tmp_path/default.db (conftest)
    assert count(get_engine()) == SAMPLE_ROWS
    assert os.environ["DATABASE_URL"].endswith("default.db")


def test_check_only_touches_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path / 'check.db'}"
    assert import_main([str(SAMPLE), "--check", "--database-url", url]) == 0
    assert capsys.readouterr().out == (
        f"Fichier valide : {SAMPLE_ROWS} consultations, rien n'a été importé.\n"
    )
    assert not (tmp_path / "check.db").exists()


def test_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert import_main([str(tmp_path / "nope.csv")]) == 1
    assert "lecture impossible" in capsys.readouterr().err


def test_database_unreachable(capsys: pytest.CaptureFixture[str]) -> None:
    url = "postgresql://nobody@127.0.0.1:1/none"
    assert import_main([str(SAMPLE), "--database-url", url]) == 1
    err = capsys.readouterr().err
    assert err.startswith("base de données : OperationalError")
    assert "la liste en place n'a pas changé" in err


def test_usage_error() -> None:
    with pytest.raises(SystemExit) as info:
        import_main([])
    assert info.value.code == 2


def test_progress_bar() -> None:
    stream = io.StringIO()
    bar = ProgressBar(stream)
    bar("validation", 5, 10)
    bar("validation", 10, 10)
    bar("enregistrement", 10, 10)
    bar.close()
    text = stream.getvalue()
    assert "vérification: 100%" in text
    assert "enregistrement: 100%" in text


def test_progress_bar_on_a_terminal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    fake = Tty()
    monkeypatch.setattr(sys, "stderr", fake)
    assert import_main([str(SAMPLE), "--database-url", f"sqlite:///{tmp_path / 'tty.db'}"]) == 0
    assert "enregistrement: 100%" in fake.getvalue()
    assert capsys.readouterr().out.startswith(SUMMARY)


def test_documented_command(database_url: str, tmp_path: Path) -> None:
    """`python -m bot import-consultations FILE.csv --database-url URL`, as the crisis cell
    runs it."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-m", "bot", "import-consultations", str(SAMPLE), "--database-url",
         database_url],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(SUMMARY)
    assert count(get_engine(database_url)) == SAMPLE_ROWS


def test_generated_week(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """scripts/generate_consultations.py writes files in the shared format; with --bad-rows 2
    the import names exactly the two broken lines and changes nothing."""
    script = ROOT / "scripts" / "generate_consultations.py"
    url = f"sqlite:///{tmp_path / 'week.db'}"
    good, bad = tmp_path / "week.csv", tmp_path / "bad.csv"
    subprocess.run([sys.executable, str(script), str(good), "--rows", "400", "--bom"], check=True)
    done = subprocess.run(
        [sys.executable, str(script), str(bad), "--rows", "400", "--bad-rows", "2"],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    broken = done.stderr.strip().removeprefix("broken lines: ").split(", ")
    assert import_main([str(good), "--database-url", url]) == 0
    assert import_main([str(bad), "--database-url", url]) == 1
    errors = capsys.readouterr().err.splitlines()[:-1]
    assert [e.split(",")[0] for e in errors] == [f"line {n}" for n in broken]
    assert count(get_engine(url)) == 400
