"""The console's HTML pages, in French, rendered on the server (no JavaScript framework).

Every value is escaped here; the only script is /agent/static/console.js (copy to the
clipboard), the only style sheet /agent/static/console.css, and the charts are inline SVG drawn
by `bot.agents.stats`: the pages work under a `script-src 'self'; style-src 'self'` policy.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from bot.agents.models import Agent, Audit
from bot.agents.stats import DayReport, hours_chart, percent, topics_chart

APP_TITLE = "Vivalia — console des agents"


def esc(value: object) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _csrf_field(csrf: str) -> str:
    return f'<input type="hidden" name="csrf_token" value="{esc(csrf)}">'


def layout(
    title: str,
    body: str,
    *,
    agent: Agent | None = None,
    csrf: str | None = None,
    active: str = "",
) -> str:
    nav = ""
    if agent is not None:
        links = [("console", "/agent", "Console")]
        if agent.is_supervisor:
            links += [
                ("supervisor", "/agent/supervisor", "Tableau du jour"),
                ("audit", "/agent/audit", "Journal des recherches"),
            ]
        current = ' aria-current="page"'
        items = "".join(
            f'<li><a href="{href}"{current if key == active else ""}>{esc(label)}</a></li>'
            for key, href, label in links
        )
        logout = (
            f'<form method="post" action="/agent/logout" class="logout">{_csrf_field(csrf or "")}'
            '<button type="submit" class="link-button">Se déconnecter</button></form>'
        )
        nav = (
            f'<nav class="nav" aria-label="Console"><ul>{items}</ul>'
            f'<p class="who">{esc(agent.username)} <span class="role">({esc(agent.role.label)})'
            f"</span></p>{logout}</nav>"
        )
    return f"""<!doctype html>
<html lang="fr">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex, nofollow">
<title>{esc(title)} — {esc(APP_TITLE)}</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/agent/static/console.css">
<script src="/agent/static/console.js" defer></script>
</head>
<body>
<header class="top"><div class="wrap">
<p class="brand">Vivalia <span>console des agents</span></p>{nav}
</div></header>
<main class="wrap">
{body}
</main>
</body>
</html>
"""


def _table(table_id: str, headings: Sequence[str], rows: str, empty: str = "") -> str:
    if not rows:
        return f"<p>{esc(empty)}</p>" if empty else ""
    head = "".join(f'<th scope="col">{esc(h)}</th>' for h in headings)
    return (
        f'<table class="data" id="{esc(table_id)}"><thead><tr>{head}</tr></thead>'
        f"<tbody>{rows}</tbody></table>"
    )


def message(text: str, kind: str = "error") -> str:
    role = "alert" if kind == "error" else "status"
    return f'<p class="msg msg-{kind}" role="{role}">{esc(text)}</p>'


# --- login ------------------------------------------------------------------------------------


def login_page(
    csrf: str, *, error: str | None = None, info: str | None = None, username: str = ""
) -> str:
    notes = (message(error) if error else "") + (message(info, "info") if info else "")
    focus_name, focus_password = ("", " autofocus") if username else (" autofocus", "")
    body = f"""<section class="card narrow" aria-labelledby="t-login">
<h1 id="t-login">Connexion</h1>
<p>Console réservée aux agents du centre d'appel 0800/35.168.</p>
{notes}
<form method="post" action="/agent/login" class="stack">
{_csrf_field(csrf)}
<label for="username">Nom d'utilisateur</label>
<input id="username" name="username" type="text" autocomplete="username"
 autocapitalize="none" spellcheck="false" required maxlength="64"
 value="{esc(username)}"{focus_name}>
<label for="password">Mot de passe</label>
<input id="password" name="password" type="password" autocomplete="current-password"
 required maxlength="1024"{focus_password}>
<button type="submit">Se connecter</button>
</form>
<p class="hint">Après 5 essais manqués, le compte est bloqué 15 minutes.
Compte oublié ou bloqué : demandez à votre superviseur.</p>
</section>"""
    return layout("Connexion", body)


# --- console ----------------------------------------------------------------------------------


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


def _facts_list(facts: Sequence[dict[str, str]], validated: str | None) -> str:
    items = "".join(
        f'<li><abbr class="fact-id" title="{esc(f["summary"])}">{esc(f["id"])}</abbr> '
        f'<span class="fact-summary">{esc(f["summary"])}</span></li>'
        for f in facts
    )
    date_line = f'<p class="validated">Validé le {esc(validated)}</p>' if validated else ""
    if not items:
        return date_line
    ids = esc(", ".join(f["id"] for f in facts))
    return (
        f'<details class="sources"><summary>Sources : {ids}</summary><ul>{items}</ul></details>'
        + date_line
    )


def _confidence(value: float | None) -> str:
    return "—" if value is None else f"{round(value * 100)} %"


def _answer_block(block_id: str, text: str, heading: str, extra_class: str = "") -> str:
    paragraphs = "".join(f"<p>{esc(line)}</p>" for line in text.splitlines() if line.strip())
    return f"""<div class="answer {extra_class}">
<div class="answer-head"><h3>{esc(heading)}</h3>
<button type="button" class="copy" data-copy="{esc(block_id)}">Copier le texte</button></div>
<div class="answer-text" id="{esc(block_id)}">{paragraphs}</div>
</div>"""


def suggestion_html(s: dict[str, Any]) -> str:
    parts = []
    if s.get("emergency"):
        parts.append(
            '<p class="msg msg-emergency" role="alert"><strong>Urgence vitale.</strong> '
            "Faites appeler le 112 tout de suite, puis lisez la réponse ci-dessous.</p>"
        )
    elif not s.get("understood", True):
        parts.append(
            message(
                "L'assistant n'a pas de réponse validée pour cette question : voyez les autres "
                "réponses possibles, ou transmettez la question à la cellule de crise.",
                "warning",
            )
        )
    if s.get("hint"):
        parts.append(message(s["hint"], "info"))
    parts.append(
        f'<p class="meta">Sujet reconnu : <strong>{esc(s.get("intent_label"))}</strong> · '
        f'confiance du classifieur : <strong class="confidence">{_confidence(s.get("confidence"))}'
        "</strong></p>"
    )
    parts.append(_answer_block("answer-main", s.get("answer") or "", "Réponse à lire", "main"))
    parts.append(_facts_list(s.get("facts") or [], s.get("validated_on_label")))
    alternatives = s.get("alternatives") or []
    if alternatives:
        parts.append(
            '<h3 class="alt-title">Autres réponses possibles</h3><ol class="alternatives">'
        )
        for i, alt in enumerate(alternatives, start=1):
            head = f"{alt['intent_label']} ({_confidence(alt.get('confidence'))})"
            parts.append(
                "<li>"
                + _answer_block(f"answer-alt-{i}", alt.get("text") or "", head, "alt")
                + _facts_list(alt.get("facts") or [], alt.get("validated_on_label"))
                + "</li>"
            )
        parts.append("</ol>")
    return f'<div class="suggestion" id="suggestion">{"".join(parts)}</div>'


def _record_html(r: dict[str, Any]) -> str:
    rows = [
        ("Référence", r["reference_display"]),
        ("Patient", " ".join(x for x in (r.get("last_name"), r.get("first_name")) if x) or "—"),
        ("Date de naissance", r["birth_date_label"]),
        ("Rendez-vous", r["starts_at_label"]),
        ("Site", r["site"]),
        ("Service", r["service"]),
        ("Statut", r["status_label"]),
    ]
    if r.get("new_starts_at_label"):
        rows.append(("Nouvelle date", r["new_starts_at_label"]))
    if r.get("note"):
        rows.append(("Note", r["note"]))
    rows.append(("Téléphone connu", "oui" if r.get("phone_on_file") else "non"))
    cells = "".join(f'<tr><th scope="row">{esc(k)}</th><td>{esc(v)}</td></tr>' for k, v in rows)
    return f'<table class="record status-{esc(r["status"])}">{cells}</table>'


def lookup_html(view: LookupView, csrf: str) -> str:
    result = ""
    if view.error:
        result = message(view.error)
    elif view.searched is not None:
        if view.results:
            n = len(view.results)
            result = (
                f'<p class="msg msg-info" role="status">{n} consultation{"s" if n > 1 else ""} '
                f"pour {esc(view.searched)} :</p>" + "".join(_record_html(r) for r in view.results)
            )
        else:
            result = message(f"Aucune consultation pour {view.searched}.", "warning")
    return f"""<section class="card" aria-labelledby="t-lookup">
<h2 id="t-lookup">Retrouver une consultation</h2>
<p class="hint">Seulement pour l'appelant que vous avez identifié.
Chaque recherche est enregistrée à votre nom dans le journal.</p>
<div class="lookup-forms">
<form method="post" action="/agent/lookup" class="stack" aria-label="Par référence">
{_csrf_field(csrf)}<input type="hidden" name="mode" value="reference">
<label for="reference">Référence du rendez-vous</label>
<input id="reference" name="reference" type="text" autocomplete="off" spellcheck="false"
 maxlength="40" placeholder="C-22-004512" value="{esc(view.reference)}">
<button type="submit">Chercher par référence</button>
</form>
<form method="post" action="/agent/lookup" class="stack" aria-label="Par nom et date de naissance">
{_csrf_field(csrf)}<input type="hidden" name="mode" value="name">
<label for="last_name">Nom de famille</label>
<input id="last_name" name="last_name" type="text" autocomplete="off" spellcheck="false"
 maxlength="200" value="{esc(view.last_name)}">
<label for="birth_date">Date de naissance</label>
<input id="birth_date" name="birth_date" type="text" autocomplete="off" inputmode="numeric"
 maxlength="40" placeholder="JJ/MM/AAAA" value="{esc(view.birth_date)}">
<button type="submit">Chercher par nom et date</button>
</form>
</div>
<div class="lookup-result" id="lookup-result">{result}</div>
</section>"""


def console_page(
    agent: Agent,
    csrf: str,
    *,
    question: str = "",
    suggestion: dict[str, Any] | None = None,
    suggest_error: str | None = None,
    lookup: LookupView | None = None,
) -> str:
    if suggest_error:
        answer = message(suggest_error)
    elif suggestion is not None:
        answer = suggestion_html(suggestion)
    else:
        answer = ""
    focus = "" if question else " autofocus"
    body = f"""<section class="card" aria-labelledby="t-question">
<h1 id="t-question">Question de l'appelant</h1>
<form method="get" action="/agent" class="ask">
<label for="q">Tapez ce que demande l'appelant</label>
<div class="ask-row">
<input id="q" name="q" type="search" maxlength="1000" required autocomplete="off"
 value="{esc(question)}"{focus} placeholder="Par exemple : les urgences sont ouvertes ?">
<button type="submit">Trouver la réponse</button>
</div>
</form>
{answer}
</section>
{lookup_html(lookup or LookupView(), csrf)}"""
    return layout("Console", body, agent=agent, csrf=csrf, active="console")


# --- supervisor -------------------------------------------------------------------------------


def _hm(moment: datetime) -> str:
    return moment.strftime("%H:%M")


def supervisor_page(agent: Agent, csrf: str, report: DayReport, day_label: str) -> str:
    day = report.day.isoformat()
    if report.source_error:
        figures = message(report.source_error, "warning")
    else:
        topics = "".join(
            f'<tr><td>{esc(t.label)}</td><td class="num">{t.count}</td>'
            f'<td class="num">{t.unanswered}</td></tr>'
            for t in report.topics
        )
        wordings = "".join(
            f'<tr><td>{esc(w.text)}</td><td class="num">{w.count}</td></tr>'
            for w in report.top_wordings
        )
        unanswered = "".join(
            f'<tr><td>{esc(w.text)}</td><td class="num">{w.count}</td>'
            f"<td>{_hm(w.first_at)}</td><td>{_hm(w.last_at)}</td></tr>"
            for w in report.unanswered_questions
        )
        figures = f"""<dl class="kpis">
<div><dt>Questions reçues</dt><dd id="kpi-total">{report.total}</dd></div>
<div><dt>Conversations</dt><dd id="kpi-conversations">{report.conversations}</dd></div>
<div><dt>Sans réponse</dt><dd id="kpi-unanswered">{report.unanswered}</dd></div>
<div><dt>Taux sans réponse</dt><dd id="kpi-rate">{esc(percent(report.rate))}</dd></div>
</dl>
<p class="hint">« Sans réponse » : question non comprise, hors sujet, ou sur laquelle le
communiqué ne dit rien (réponse « pas d'information validée »).</p>
<section aria-labelledby="t-topics"><h2 id="t-topics">Les sujets les plus demandés</h2>
{topics_chart(report.topics) or "<p>Aucune question ce jour-là.</p>"}
{_table("topics", ("Sujet", "Questions", "Sans réponse"), topics)}
</section>
<section aria-labelledby="t-hours"><h2 id="t-hours">Au fil de la journée</h2>
{hours_chart(report.hours) or "<p>Aucune question ce jour-là.</p>"}
</section>
<section aria-labelledby="t-wordings"><h2 id="t-wordings">Les questions posées le plus souvent</h2>
<p class="hint">Formulations posées au moins deux fois
(majuscules, accents et ponctuation ignorés).</p>
{_table("wordings", ("Question", "Fois"), wordings, "Aucune formulation répétée.")}
</section>
<section aria-labelledby="t-unanswered"><h2 id="t-unanswered">Questions restées sans réponse</h2>
<p class="hint">À traiter dans le prochain communiqué.
Les références, dates, numéros et adresses e-mail sont masqués.</p>
{_table("unanswered", ("Question", "Fois", "Première", "Dernière"), unanswered, "Aucune.")}
</section>"""
    body = f"""<section class="card" aria-labelledby="t-day">
<h1 id="t-day">Tableau du {esc(day_label)}</h1>
<form method="get" action="/agent/supervisor" class="inline">
<label for="day">Jour</label> <input id="day" name="day" type="date" value="{esc(day)}">
<button type="submit">Afficher</button>
<a class="button secondary" href="/agent/supervisor.csv?day={esc(day)}" download>Exporter en CSV</a>
</form>
{figures}
</section>"""
    return layout("Tableau du jour", body, agent=agent, csrf=csrf, active="supervisor")


def audit_page(
    agent: Agent,
    csrf: str,
    entries: Sequence[Audit],
    rows: Sequence[tuple[str, str, str, str, str]],
    *,
    who: str = "",
    day: date | None = None,
    limit: int,
) -> str:
    table_rows = "".join("<tr>" + "".join(f"<td>{esc(c)}</td>" for c in r) + "</tr>" for r in rows)
    table = _table(
        "audit", ("Heure", "Agent", "Action", "Recherche", "Affiché"), table_rows, "Aucune entrée."
    )
    note = (
        f'<p class="hint">Les {limit} dernières entrées (les plus récentes en haut). '
        "Tout le journal : <code>python -m bot audit</code>.</p>"
    )
    body = f"""<section class="card" aria-labelledby="t-audit">
<h1 id="t-audit">Journal des recherches</h1>
<p>Chaque recherche de consultation, chaque connexion et déconnexion, au nom de l'agent.
Le journal ne peut être ni modifié ni effacé.</p>
<form method="get" action="/agent/audit" class="inline">
<label for="agent">Agent</label>
<input id="agent" name="agent" type="text" value="{esc(who)}" maxlength="64">
<label for="day">Jour</label>
<input id="day" name="day" type="date" value="{esc(day.isoformat() if day else "")}">
<button type="submit">Filtrer</button>
</form>
{note}
{table}
</section>"""
    return layout("Journal", body, agent=agent, csrf=csrf, active="audit")


def error_page(title: str, text: str, agent: Agent | None = None, csrf: str | None = None) -> str:
    back = (
        '<p><a href="/agent">Retour à la console</a></p>'
        if agent
        else ('<p><a href="/agent/login">Se connecter</a></p>')
    )
    body = f'<section class="card narrow"><h1>{esc(title)}</h1>{message(text)}{back}</section>'
    return layout(title, body, agent=agent, csrf=csrf)
