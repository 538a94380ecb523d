"""The console's HTML pages, in French, rendered on the server (no JavaScript framework).

Each function names its template (bot/agents/templates/) and what the template shows; the
markup, its texts and its escaping are the templates' (bot.agents.rendering: autoescape on).
The only script is /agent/static/console.js (copy to the clipboard), the only style sheet
/agent/static/console.css, and the charts are inline SVG (bot.agents.charts): the pages work
under a `script-src 'self'; style-src 'self'` policy.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from bot.agents.charts import hours_chart, topics_chart
from bot.agents.cli import local_time
from bot.agents.models import Agent, Audit
from bot.agents.rendering import render
from bot.agents.stats import DayReport, percent


@dataclass
class LookupView:
    """What the lookup part of the console shows."""

    mode: str = "reference"  # or "name"
    reference: str = ""
    last_name: str = ""
    birth_date: str = ""
    error: str | None = None
    searched: str | None = None  # French description of the search, once done
    results: list[dict[str, Any]] = field(default_factory=list)


def login_page(
    csrf: str, *, error: str | None = None, info: str | None = None, username: str = ""
) -> str:
    return render("login.html", agent=None, csrf=csrf, error=error, info=info, username=username)


def console_page(
    agent: Agent,
    csrf: str,
    *,
    question: str = "",
    suggestion: dict[str, Any] | None = None,
    suggest_error: str | None = None,
    lookup: LookupView | None = None,
) -> str:
    """The question box (with the answer to `question`, or why there is none) and the lookup."""
    return render(
        "console.html",
        agent=agent,
        csrf=csrf,
        question=question,
        suggestion=suggestion,
        suggest_error=suggest_error,
        lookup=lookup or LookupView(),
    )


def supervisor_page(agent: Agent, csrf: str, report: DayReport, day_label: str) -> str:
    return render(
        "supervisor.html",
        agent=agent,
        csrf=csrf,
        report=report,
        day_label=day_label,
        rate=percent(report.rate),
        topics_chart=topics_chart(report.topics),
        hours_chart=hours_chart(report.hours),
    )


def audit_rows(entries: Sequence[Audit]) -> list[tuple[str, str, str, str, str]]:
    """The audit page's rows, most recent first, in Belgian time."""
    return [
        (
            local_time(e.at).strftime("%d/%m/%Y %H:%M:%S"),
            f"{e.agent} ({e.role.label})",
            e.action.label,
            e.query,
            e.shown,
        )
        for e in reversed(entries)
    ]


def audit_page(
    agent: Agent,
    csrf: str,
    entries: Sequence[Audit],
    *,
    who: str = "",
    day: date | None = None,
    limit: int,
) -> str:
    """The last `limit` entries of the audit trail (`entries`, oldest first), and the filter."""
    return render(
        "audit.html",
        agent=agent,
        csrf=csrf,
        rows=audit_rows(entries),
        who=who,
        day=day,
        limit=limit,
    )


def error_page(title: str, text: str, agent: Agent | None = None, csrf: str | None = None) -> str:
    return render("error.html", title=title, text=text, agent=agent, csrf=csrf or "")
