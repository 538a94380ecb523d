"""The console's pages (Jinja2 templates, autoescape): what the public typed, what the database
holds and what the answers file says is shown as text, never as markup; the markup stays within
the console's policy (no inline script or style); the menu follows the role."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

import pytest
from jinja2 import UndefinedError

from bot.agents import pages, rendering, stats
from bot.agents.models import Action, Agent, Audit, Role
from tests.agents.conftest import Site

AGENT = Agent(1, "marie", Role.AGENT)
SUPERVISOR = Agent(2, "chef", Role.SUPERVISOR)
CSRF = "0123abcd" * 8
SCRIPT = '<script>alert("x")</script>'

SUGGESTION: dict[str, Any] = {
    "emergency": False,
    "understood": True,
    "hint": None,
    "intent_label": "Quand aller aux urgences",
    "confidence": 0.874,
    "answer": f"Première ligne {SCRIPT}\nDeuxième ligne & fin",
    "facts": [{"id": "F7", "summary": 'Les "urgences" <restent> ouvertes'}],
    "validated_on_label": "17 mai 2022",
    "alternatives": [
        {"intent_label": "Médecin de garde", "confidence": 0.061, "text": "Le 1733",
         "facts": [], "validated_on_label": None},
    ],
}  # fmt: skip
RECORD = {
    "reference": "C229100001", "reference_display": "C-22-9100001", "last_name": "<b>Maréchal</b>",
    "first_name": None, "birth_date_label": "28/04/1941", "starts_at_label": "mercredi 18 mai",
    "site": "Bastogne", "service": "Neurologie", "status": "annulee", "status_label": "annulée",
    "new_starts_at_label": None, "note": SCRIPT, "phone_on_file": False,
}  # fmt: skip


LOOKUP = pages.LookupView(mode="name", last_name=SCRIPT, searched=SCRIPT, results=[RECORD])


def every_page() -> dict[str, str]:
    # A question typed as a script, under an intent the labels do not know (shown as is).
    asked = stats.Question(at=datetime(2022, 5, 17, 9), intent=SCRIPT, confidence=0.5, text=SCRIPT)
    report = stats.summarise([asked, asked], date(2022, 5, 17), 1)
    entry = Audit(1, datetime(2022, 5, 17, 6), "marie", Role.AGENT, Action.LOGIN, SCRIPT, "")
    return {
        "login": pages.login_page(CSRF, error=SCRIPT, username=SCRIPT),
        "console": pages.console_page(AGENT, CSRF, question=SCRIPT, suggestion=SUGGESTION),
        "lookup": pages.console_page(AGENT, CSRF, lookup=LOOKUP),
        "supervisor": pages.supervisor_page(SUPERVISOR, CSRF, report, "mardi 17 mai 2022"),
        "audit": pages.audit_page(SUPERVISOR, CSRF, [entry], who=SCRIPT, limit=500),
        "error": pages.error_page(SCRIPT, SCRIPT, AGENT, CSRF),
    }


@pytest.mark.parametrize("name", list(every_page()))
def test_user_text_is_escaped_and_no_inline_code(name: str) -> None:
    html = every_page()[name]
    assert "<script>alert" not in html and "&lt;script&gt;alert(" in html
    # The only script is the console's own file; no inline style, no event handler attribute.
    assert re.findall(r"<script[^>]*>", html) == ['<script src="/agent/static/console.js" defer>']
    assert "<style" not in html and "style=" not in html
    assert not re.search(r"\son[a-z]+=", html)
    assert html.startswith("<!doctype html>") and '<html lang="fr">' in html


def test_the_figures_and_the_charts_show_the_text() -> None:
    html = every_page()["supervisor"]
    assert html.count("<svg") == 2 and '<dd id="kpi-rate">0,0 %</dd>' in html
    escaped = "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;"
    assert f'font-size="13" fill="#1b1f23">{escaped}</text>' in html  # the chart's label
    assert '<table class="data" id="wordings"><thead>' in html and f"<td>{escaped}</td>" in html


def test_the_answer_and_its_sources() -> None:
    html = every_page()["console"]
    assert '<div class="answer-text" id="answer-main"><p>Première ligne &lt;script&gt;' in html
    assert "<p>Deuxième ligne &amp; fin</p>" in html
    assert 'title="Les &#34;urgences&#34; &lt;restent&gt; ouvertes"' in html
    assert "<summary>Sources : F7</summary>" in html and "Validé le 17 mai 2022" in html
    assert '<strong class="confidence">87 %</strong>' in html and "(6 %)" in html
    assert 'data-copy="answer-alt-1"' in html and 'id="answer-alt-1"' in html


def test_a_missing_value_prints_nothing() -> None:
    html = every_page()["lookup"]
    assert "<td>&lt;b&gt;Maréchal&lt;/b&gt;</td>" in html  # no first name: the last name alone
    assert "None" not in html and "Nouvelle date" not in html
    assert "<td>non</td>" in html and "1 consultation pour &lt;script&gt;" in html


def test_the_menu_follows_the_role() -> None:
    console = pages.console_page(AGENT, CSRF)
    assert '<a href="/agent" aria-current="page">Console</a>' in console
    assert "/agent/supervisor" not in console and "/agent/audit" not in console
    supervisor = every_page()["supervisor"]
    assert '<a href="/agent/supervisor" aria-current="page">Tableau du jour</a>' in supervisor
    assert '<a href="/agent/audit">Journal des recherches</a>' in supervisor
    assert '<p class="who">chef <span class="role">(superviseur)</span></p>' in supervisor
    # Every form of a signed-in page carries the session's token, the logout form included.
    for html in (console, supervisor):
        assert f'<input type="hidden" name="csrf_token" value="{CSRF}">' in html
    assert '<form method="post" action="/agent/logout" class="logout">' in console
    # Signed out: no menu, no logout.
    login = pages.login_page(CSRF)
    assert "<nav" not in login and "/agent/logout" not in login
    assert 'name="username"' in login and "autofocus" in login


def test_a_template_without_its_values_is_an_error() -> None:
    with pytest.raises(UndefinedError):
        rendering.render("error.html", agent=None, csrf="")  # no title, no text


async def test_a_typed_script_comes_back_as_text(site: Site, agent_client) -> None:
    async with agent_client.get(
        f"{site.url}/agent", params={"q": '<script>alert("x")</script> urgences'}
    ) as resp:
        assert resp.status == 200
        html = await resp.text()
    assert site.asked == ['<script>alert("x")</script> urgences']
    assert "<script>alert" not in html
    assert 'value="&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; urgences"' in html
    assert 'id="answer-main"' in html
