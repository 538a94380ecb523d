"""The supervisor's CSV export: a French spreadsheet's format, every figure of the day, no
formula run, no personal data; and its route (GET /agent/supervisor.csv)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from bot.agents import stats
from bot.agents.export import report_csv, safe_cell
from tests.agents.conftest import Site
from tests.agents.tracker_events import DAY, filled_tracker


def rows_of(exported: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(exported.lstrip("\ufeff")), delimiter=";"))


@pytest.fixture
def report(tmp_path: Path) -> stats.DayReport:
    return stats.day_report(filled_tracker(tmp_path), DAY)


def test_csv_export(report: stats.DayReport) -> None:
    exported = report_csv(report)
    assert exported.startswith("\ufeff") and "\r\n" in exported
    rows = rows_of(exported)
    assert rows[0] == [
        "rubrique", "libellé", "nombre", "sans réponse", "première heure", "dernière heure"
    ]  # fmt: skip
    assert rows[1] == ["jour", "2022-05-17", "", "", "", ""]
    assert ["total", "Questions reçues", "9", "6", "", ""] in rows
    assert ["total", "Conversations", "5", "", "", ""] in rows
    assert ["total", "Taux sans réponse", "66,7 %", "", "", ""] in rows
    assert ["sujet", "Pas d'information validée", "3", "3", "", ""] in rows
    assert [r[1:4] for r in rows if r[0] == "heure"] == [
        ["8 h", "2", "1"], ["9 h", "4", "3"], ["14 h", "2", "1"], ["23 h", "1", "1"]
    ]  # fmt: skip
    assert ["question fréquente", "les urgences sont ouvertes ?", "2", "", "08:05", "09:00"] in rows
    unanswered = [r for r in rows if r[0] == "sans réponse"]
    assert len(unanswered) == 5
    # A question typed as a spreadsheet formula is not run as one.
    assert ["sans réponse", '\'=HYPERLINK("http://x")', "1", "1", "23:59", "23:59"] in rows


def test_no_personal_data_in_the_export(report: stats.DayReport) -> None:
    exported = report_csv(report)
    for secret in ("004512", "14/02/1961", "0470", "a@b.be"):
        assert secret not in exported
    assert "[référence]" in exported


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_formula_starts_are_neutralised(start: str) -> None:
    assert safe_cell(f"{start}1+1") == f"'{start}1+1"
    assert safe_cell("le parking ?") == "le parking ?" and safe_cell(3) == "3"


async def test_the_export_route(site: Site, supervisor_client) -> None:
    # The site's tracker store is empty: no figures, said plainly rather than an empty file.
    async with supervisor_client.get(
        f"{site.url}/agent/supervisor.csv", params={"day": "2022-05-17"}
    ) as resp:
        assert resp.status == 503
        assert "Aucune conversation enregistrée" in await resp.text()
        assert resp.headers["Cache-Control"] == "no-store"
    async with supervisor_client.get(
        f"{site.url}/agent/supervisor.csv", params={"day": "17/05/2022"}
    ) as resp:
        assert resp.status == 400
        assert "AAAA-MM-JJ" in await resp.text()
