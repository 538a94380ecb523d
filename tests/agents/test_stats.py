"""The supervisor's figures of one day, on a known set of conversations written into a Rasa
`events` table: totals, unanswered rate, topics, hours, repeated wordings, the unanswered list,
masking, the CSV export, and the page itself."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from datetime import date, datetime
from html import unescape
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.agents import stats
from tests.agents.conftest import Site

BRUSSELS = ZoneInfo("Europe/Brussels")
DAY = date(2022, 5, 17)


def ts(hour: int, minute: int = 0, day: date = DAY) -> float:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=BRUSSELS).timestamp()


# (conversation, Belgian time, text, intent, answer the assistant gave)
CONVERSATIONS = [
    ("a", ts(8, 5), "les urgences sont ouvertes ?", "er_when", "utter_er_when"),
    ("a", ts(8, 6), "le parking est gratuit ?", "no_validated_info", "utter_no_validated_info"),
    ("b", ts(9, 0), "Les urgences sont ouvertes", "er_when", "utter_er_when"),
    ("b", ts(9, 1), "xqzt blorp", "nlu_fallback", "utter_fallback"),
    ("c", ts(9, 30), "LE PARKING est gratuit?", "no_validated_info", "utter_no_validated_info"),
    ("c", ts(9, 31), "ma ref C-22-004512 née le 14/02/1961, tel 0470 12 34 56, a@b.be ?",
     "no_validated_info", "utter_no_validated_info"),
    ("d", ts(14, 0), "/greet", "greet", "utter_greet"),  # a button payload, not a question
    ("d", ts(14, 1), "bonjour", "greet", "utter_greet"),
    # classified, but Rasa's policy fell back: unanswered all the same
    ("e", ts(14, 30), "je veux voir ma mère", "patient_privacy", "utter_fallback"),
    ("e", ts(23, 59), "=HYPERLINK(\"http://x\")", "out_of_scope", "utter_out_of_scope"),
    # other days
    ("f", ts(23, 59, date(2022, 5, 16)), "hier soir", "situation", "utter_situation"),
    ("f", ts(0, 0, date(2022, 5, 18)), "demain matin", "situation", "utter_situation"),
]  # fmt: skip


def write_events(path: Path, conversations=CONVERSATIONS) -> None:
    """Rasa's SQL tracker store table, with the events one turn writes."""
    db = sqlite3.connect(path)
    db.execute(
        "CREATE TABLE events (id INTEGER NOT NULL PRIMARY KEY, sender_id VARCHAR(255) NOT NULL, "
        "type_name VARCHAR(255) NOT NULL, timestamp FLOAT, intent_name VARCHAR(255), "
        "action_name VARCHAR(255), data TEXT)"
    )
    rows = []
    for sender, t, text, intent, answer in conversations:
        user = {"event": "user", "timestamp": t, "text": text,
                "parse_data": {"intent": {"name": intent, "confidence": 0.9}, "text": text}}  # fmt: skip
        rows += [
            (sender, "user", t, intent, None, json.dumps(user)),
            (sender, "user_featurization", t + 0.001, None, None, "{}"),
            (sender, "action", t + 0.002, None, answer, json.dumps({"name": answer})),
            (sender, "bot", t + 0.003, None, None, json.dumps({"text": "réponse"})),
            (sender, "action", t + 0.004, None, "action_listen", "{}"),
        ]
    db.executemany(
        "INSERT INTO events (sender_id, type_name, timestamp, intent_name, action_name, data) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        rows,
    )
    db.commit()
    db.close()


@pytest.fixture
def tracker_url(tmp_path: Path) -> str:
    write_events(tmp_path / "tracker.db")
    return f"sqlite:///file:{tmp_path / 'tracker.db'}?mode=ro&uri=true"


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
    report = stats.day_report(tracker_url, DAY)
    text = repr(report) + stats.report_csv(report)
    for secret in ("004512", "14/02/1961", "0470", "a@b.be"):
        assert secret not in text
    assert "sender" not in text


def test_csv_export(tracker_url: str) -> None:
    exported = stats.report_csv(stats.day_report(tracker_url, DAY))
    assert exported.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(exported.lstrip("\ufeff")), delimiter=";"))
    assert rows[0][:3] == ["rubrique", "libellé", "nombre"]
    assert ["total", "Questions reçues", "9", "6", "", ""] in rows
    assert ["total", "Taux sans réponse", "66,7 %", "", "", ""] in rows
    assert ["sujet", "Pas d'information validée", "3", "3", "", ""] in rows
    unanswered = [r for r in rows if r[0] == "sans réponse"]
    assert len(unanswered) == 5
    # A question typed as a spreadsheet formula is not run as one.
    assert ["sans réponse", '\'=HYPERLINK("http://x")', "1", "1", "23:59", "23:59"] in rows


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


def test_charts_are_inline_svg(tracker_url: str) -> None:
    report = stats.day_report(tracker_url, DAY)
    topics, hours = stats.topics_chart(report.topics), stats.hours_chart(report.hours)
    for svg in (topics, hours):
        assert svg.startswith("<svg") and svg.endswith("</svg>") and "<script" not in svg
        assert "style=" not in svg  # the page's CSP has no 'unsafe-inline' for styles
    assert topics.count("<rect") == 6 + 4  # a bar per topic, orange over the 4 with unanswered
    assert "Pas d&#x27;information validée" in topics


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
