"""The supervisor's figures of one day, on a known set of conversations written into a Rasa
`events` table (tests/agents/tracker_events.py): totals, unanswered rate, topics, hours, repeated
wordings, the unanswered list, masking, reading the tracker store, and the page itself. Their
charts: test_charts.py; their CSV: test_export.py."""

from __future__ import annotations

import sqlite3
from datetime import datetime
from html import unescape
from pathlib import Path

import pytest

from bot.agents import stats
from tests.agents.conftest import Site
from tests.agents.tracker_events import DAY, filled_tracker


@pytest.fixture
def tracker_url(tmp_path: Path) -> str:
    """The known day, for these tests and for the console they serve (the `site` fixture)."""
    return filled_tracker(tmp_path)


def test_the_figures_of_the_day(tracker_url: str) -> None:
    report = stats.day_report(tracker_url, DAY)
    assert report.source_error is None
    assert report.total == 9  # "/greet" and the other days left out
    assert report.conversations == 5
    assert report.unanswered == 6
    assert report.rate == pytest.approx(6 / 9)
    assert [(t.intent, t.count, t.unanswered) for t in report.topics] == [
        ("no_validated_info", 3, 3),
        ("er_when", 2, 0),
        ("patient_privacy", 1, 1),
        ("out_of_scope", 1, 1),
        ("nlu_fallback", 1, 1),
        ("greet", 1, 0),
    ]
    by_hour = {h: (n, u) for h, n, u in report.hours if n}
    assert by_hour == {8: (2, 1), 9: (4, 3), 14: (2, 1), 23: (1, 1)}
    # Wordings asked at least twice, case, accents and punctuation aside.
    assert [(w.text, w.count) for w in report.top_wordings] == [
        ("les urgences sont ouvertes ?", 2),
        ("le parking est gratuit ?", 2),
    ]
    unanswered = [(w.text, w.count) for w in report.unanswered_questions]
    assert unanswered[0] == ("le parking est gratuit ?", 2)
    assert {t for t, _ in unanswered[1:]} == {
        "xqzt blorp",
        "ma ref [référence] née le [date de naissance], tel [téléphone], [courriel] ?",
        "je veux voir ma mère",
        '=HYPERLINK("http://x")',
    }
    assert report.unanswered_questions[0].first_at == datetime(2022, 5, 17, 8, 6)
    assert report.unanswered_questions[0].last_at == datetime(2022, 5, 17, 9, 30)


def test_no_personal_data_and_no_conversation_ids(tracker_url: str) -> None:
    text = repr(stats.day_report(tracker_url, DAY))
    for secret in ("004512", "14/02/1961", "0470", "a@b.be"):
        assert secret not in text
    assert "sender" not in text


def test_an_empty_or_missing_tracker_store(tmp_path: Path) -> None:
    missing = stats.day_report(f"sqlite:///file:{tmp_path / 'none.db'}?mode=ro&uri=true", DAY)
    assert missing.source_error == "Aucune conversation enregistrée pour l'instant."
    sqlite3.connect(tmp_path / "empty.db").close()
    empty = stats.day_report(f"sqlite:///file:{tmp_path / 'empty.db'}?mode=ro&uri=true", DAY)
    assert empty.source_error == "Aucune conversation enregistrée pour l'instant."


def test_the_tracker_store_is_opened_read_only(tracker_url: str) -> None:
    with pytest.raises(Exception, match="readonly"), stats.tracker_engine(tracker_url).begin() as c:
        c.exec_driver_sql("DELETE FROM events")


def test_tracker_url_from_the_settings(tmp_path: Path) -> None:
    assert stats.tracker_url("sqlite:///var/tracker.db", tmp_path) == (
        f"sqlite:///file:{tmp_path / 'var' / 'tracker.db'}?mode=ro&uri=true"
    )
    assert stats.tracker_url("sqlite:////srv/t.db", tmp_path) == (
        "sqlite:///file:/srv/t.db?mode=ro&uri=true"
    )
    pg = "postgresql://console:pw@db.local:5432/rasa"
    assert stats.tracker_url(pg, tmp_path) == pg


async def test_the_supervisor_page(site: Site, supervisor_client) -> None:
    async with supervisor_client.get(
        f"{site.url}/agent/supervisor", params={"day": "2022-05-17"}
    ) as resp:
        assert resp.status == 200
        html = unescape(await resp.text())
    assert "Tableau du mardi 17 mai 2022" in html
    assert '<dd id="kpi-total">9</dd>' in html and '<dd id="kpi-rate">66,7 %</dd>' in html
    assert html.count("<svg") == 2
    assert "le parking est gratuit ?" in html and "[référence]" in html
    assert "004512" not in html and "14/02/1961" not in html
    async with supervisor_client.get(
        f"{site.url}/agent/supervisor.csv", params={"day": "2022-05-17"}
    ) as resp:
        assert resp.status == 200
        assert resp.headers["Content-Type"].startswith("text/csv")
        assert "attachment" in resp.headers["Content-Disposition"]
        assert resp.headers["Cache-Control"] == "no-store"
        assert "Questions reçues;9;6" in await resp.text()
    async with supervisor_client.get(
        f"{site.url}/agent/supervisor", params={"day": "hier"}
    ) as resp:
        assert resp.status == 400
