"""The supervisor's figures of a day as a CSV file (GET /agent/supervisor.csv).

Written for a French spreadsheet: ';' between cells, UTF-8 with a byte order mark so that Excel
shows the accents, CRLF line ends. The texts come from the public, so a cell that a spreadsheet
would run as a formula is prefixed with an apostrophe.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

from bot.agents.stats import DayReport, Wording, percent

HEADER = ("rubrique", "libellé", "nombre", "sans réponse", "première heure", "dernière heure")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

Row = tuple[object, ...]


def safe_cell(value: object) -> str:
    """A CSV cell that a spreadsheet will not run as a formula."""
    out = str(value)
    return "'" + out if out[:1] in FORMULA_STARTS else out


def _wording_row(section: str, wording: Wording, unanswered: object) -> Row:
    return (
        section,
        safe_cell(wording.text),
        wording.count,
        unanswered,
        wording.first_at.strftime("%H:%M"),
        wording.last_at.strftime("%H:%M"),
    )


def report_rows(report: DayReport) -> Iterator[Row]:
    """The rows under the header: the day, the totals, then topics, hours and questions."""
    yield ("jour", report.day.isoformat(), "", "", "", "")
    yield ("total", "Questions reçues", report.total, report.unanswered, "", "")
    yield ("total", "Conversations", report.conversations, "", "", "")
    yield ("total", "Taux sans réponse", percent(report.rate), "", "", "")
    for t in report.topics:
        yield ("sujet", safe_cell(t.label), t.count, t.unanswered, "", "")
    for hour, n, u in report.hours:
        if n:
            yield ("heure", f"{hour} h", n, u, "", "")
    for w in report.top_wordings:
        yield _wording_row("question fréquente", w, "")
    for w in report.unanswered_questions:
        yield _wording_row("sans réponse", w, w.count)


def report_csv(report: DayReport) -> str:
    """The whole file, byte order mark included."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(HEADER)
    writer.writerows(report_rows(report))
    return out.getvalue()
