"""The agents' console: a Sanic blueprint at /agent, in the web app on :8080.

Pages (HTML, French)
    GET  /agent/login              sign-in form (fields `username`, `password`)
    POST /agent/login              sign in; 5 failures lock the name for 15 minutes
    POST /agent/logout             sign out
    GET  /agent[?q=...]            the question box (and its answer), the consultation lookup
    POST /agent/lookup             a consultation lookup from the page (audited)
    GET  /agent/supervisor[?day=]  supervisors: the day's figures, charts, unanswered questions
    GET  /agent/supervisor.csv     supervisors: the same as CSV
    GET  /agent/audit              supervisors: the audit trail
    GET  /agent/static/<file>      the style sheet and the copy-to-clipboard script

JSON API (for a softphone or a CRM; the same session cookie; 401 without it)
    GET /agent/api/suggest?q=...
    GET /agent/api/consultations?reference=...
    GET /agent/api/consultations?last_name=...&birth_date=...

Security
    - Session and CSRF: bot.agents.auth (HttpOnly, SameSite=Strict session cookie; every form
      carries an HMAC of the session token; a POST without it is refused).
    - Roles: `agent` (console, API) and `supervisor` (also the day's figures and the audit).
    - Every response of the blueprint: `Cache-Control: no-store` and a strict
      Content-Security-Policy (scripts and styles from the site only).

As in bot.web.public, the handlers are module-level functions that read what they need from
`request.app.ctx` (bot.agents.context); `create_blueprint` only registers them.
"""

from __future__ import annotations

import asyncio
import logging
import mimetypes
import secrets
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sanic import Blueprint, Request, response
from sanic.exceptions import NotFound
from sanic.response import HTTPResponse
from sqlalchemy.exc import SQLAlchemyError

from bot.agents import models, pages, stats
from bot.agents.auth import (
    COOKIE,
    FORM_EXPIRED,
    LOGIN_COOKIE,
    LOGIN_COOKIE_AGE,
    clear_cookie,
    csrf_checked,
    csrf_token,
    current_session,
    login_csrf_ok,
    login_token,
    see_other,
    session_token,
    set_cookie,
    signed_in,
    signed_in_api,
    supervisor_only,
)
from bot.agents.cli import local_time
from bot.agents.context import CTX_NAME, ConsoleConfig, attach, config_of, console_of, detach
from bot.agents.context import in_thread as db
from bot.agents.export import report_csv
from bot.agents.lookups import LookupInputError, lookup_query, run_lookup
from bot.agents.models import Action, Agent, LoginOutcome, LoginResult, Session
from bot.agents.suggest import (
    MAX_QUESTION,
    RasaError,
    build_suggestion,
    fact_summaries,
    parse,
    rules_answers,
)
from bot.content.render import format_long_date
from bot.content.store import ContentStore
from bot.db import as_utc, utcnow
from bot.settings import get_settings

logger = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).resolve().parent / "static"
STATIC_FILES = {"console.css", "console.js"}

CSP = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
    ]
)
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache", "Expires": "0"}

AUDIT_PAGE_LIMIT = 500

DATABASE_DOWN = (
    "La base de données ne répond pas. Réessayez dans un instant ; si cela dure, prévenez "
    "l'administrateur."
)
CONTENT_DOWN = (
    "Le fichier des réponses ne peut pas être lu : répondez avec le communiqué en vigueur et "
    "prévenez la cellule de crise."
)
BAD_DAY = "Le jour s'écrit AAAA-MM-JJ."

__all__ = ["COOKIE", "LOGIN_COOKIE", "ConsoleConfig", "create_blueprint"]


def _html(page: str, status: int = 200) -> HTTPResponse:
    return response.html(page, status=status)


def _json(data: Any, status: int = 200) -> HTTPResponse:
    return response.json(data, status=status, ensure_ascii=False)


# --- every response: never cached, strict policy ----------------------------------------------


async def no_store(request: Request, resp: HTTPResponse) -> None:
    """Agent pages carry patients' data: no cache may keep them, no other site frame them."""
    for name, value in NO_STORE.items():
        resp.headers[name] = value
    resp.headers["Content-Security-Policy"] = CSP
    resp.headers["X-Robots-Tag"] = "noindex, nofollow"


async def database_down(request: Request, exc: Exception) -> HTTPResponse:
    """The consultations' database failed: said plainly (the error's text may hold data)."""
    logger.error("agents' console: database error %s", type(exc).__name__)
    if request.path.startswith("/agent/api/"):
        resp = _json({"error": DATABASE_DOWN}, 503)
    else:
        resp = _html(pages.error_page("Base de données indisponible", DATABASE_DOWN), 503)
    # An exception handler's response skips the blueprint's response middleware.
    resp.headers.update(NO_STORE)
    resp.headers["Content-Security-Policy"] = CSP
    return resp


# --- sign in / out ----------------------------------------------------------------------------


def login_form(
    request: Request,
    *,
    status: int = 200,
    error: str | None = None,
    info: str | None = None,
    username: str = "",
) -> HTTPResponse:
    """The sign-in page, with a fresh pre-session cookie that its CSRF token is bound to."""
    pre = secrets.token_urlsafe(24)
    page = pages.login_page(login_token(request, pre), error=error, info=info, username=username)
    resp = _html(page, status)
    set_cookie(resp, request, LOGIN_COOKIE, pre, LOGIN_COOKIE_AGE)
    return resp


async def login_get(request: Request) -> HTTPResponse:
    if await current_session(request) is not None:
        return see_other("/agent")
    info = "Vous êtes déconnecté." if request.args.get("bye") else None
    return login_form(request, info=info)


async def login_post(request: Request) -> HTTPResponse:
    form = request.form
    username = (form.get("username") or "").strip()[: models.USERNAME_MAX]
    password = form.get("password") or ""
    if not login_csrf_ok(request):
        return login_form(request, status=403, error=FORM_EXPIRED, username=username)
    if not username or not password:
        return login_form(
            request, status=400, error="Donnez votre nom d'utilisateur et votre mot de passe."
        )
    result: LoginResult = await db(request, models.attempt_login, username, password)
    if result.outcome is LoginOutcome.LOCKED:
        return await _locked(request, result, username)
    if result.outcome is LoginOutcome.REFUSED or result.agent is None:
        return _refused(request, result, username)
    return await _open_session(request, result.agent)


async def _locked(request: Request, result: LoginResult, username: str) -> HTTPResponse:
    """The name is locked; the attempt that locked it is written to the audit trail."""
    if result.locked_now and result.agent is not None:
        await db(
            request,
            models.add_audit,
            result.agent,
            result.agent.role,
            Action.LOCKED,
            "",
            f"{models.MAX_FAILED_LOGINS} mots de passe erronés",
        )
    until = local_time(result.locked_until or utcnow()).strftime("%H:%M")
    return login_form(
        request,
        status=429,
        error=f"Compte bloqué jusqu'à {until} après {models.MAX_FAILED_LOGINS} essais "
        "manqués. Réessayez plus tard, ou demandez à votre superviseur.",
        username=username,
    )


def _refused(request: Request, result: LoginResult, username: str) -> HTTPResponse:
    """A wrong name or password; the last three attempts before the lock are counted down."""
    left = result.remaining or 0
    tail = (
        f" Encore {left} essai{'s' if left > 1 else ''} avant le blocage du compte "
        "pendant 15 minutes."
        if left <= 3
        else ""
    )
    return login_form(
        request,
        status=401,
        error="Nom d'utilisateur ou mot de passe incorrect." + tail,
        username=username,
    )


async def _open_session(request: Request, agent: Agent) -> HTTPResponse:
    token = await db(request, models.create_session, agent)
    await db(request, models.add_audit, agent, agent.role, Action.LOGIN)
    resp = see_other("/agent")
    set_cookie(resp, request, COOKIE, token, int(models.SESSION_LIFETIME.total_seconds()))
    clear_cookie(resp, request, LOGIN_COOKIE)
    return resp


@signed_in
@csrf_checked()
async def logout(request: Request, session: Session) -> HTTPResponse:
    await db(request, models.end_session, session_token(request))
    await db(request, models.add_audit, session.agent, session.agent.role, Action.LOGOUT)
    resp = see_other("/agent/login?bye=1")
    clear_cookie(resp, request, COOKIE)
    return resp


# --- the console ------------------------------------------------------------------------------


async def suggest(request: Request, question: str) -> dict[str, Any]:
    """What the assistant would answer `question`, from Rasa's classification and the live
    answers file; RasaError (French) when either is missing."""
    store: ContentStore = request.app.ctx.content_store
    content = store.current()
    if content is None:
        raise RasaError(CONTENT_DOWN, 503)
    config = config_of(request)
    result = await parse(
        console_of(request).http(), question, rasa_url=config.rasa_url, token=config.rasa_token
    )
    return build_suggestion(
        question,
        result,
        content,
        rules_answers(config.rules_dir),
        fact_summaries(store.facts_path),
    )


def question_of(request: Request) -> str:
    return " ".join((request.args.get("q") or "").split())[:MAX_QUESTION]


@signed_in
async def console(request: Request, session: Session) -> HTTPResponse:
    question = question_of(request)
    suggestion = error = None
    if question:
        try:
            suggestion = await suggest(request, question)
        except RasaError as exc:
            error = exc.message
    page = pages.console_page(
        session.agent,
        csrf_token(request),
        question=question,
        suggestion=suggestion,
        suggest_error=error,
    )
    return _html(page, 503 if error else 200)


def lookup_view(request: Request) -> pages.LookupView:
    """The lookup form as it was sent (only the fields of the chosen way of searching)."""
    form = request.form
    mode = form.get("mode") or "reference"
    by_name = mode == "name"
    return pages.LookupView(
        mode=mode,
        reference=(form.get("reference") or "") if mode == "reference" else "",
        last_name=(form.get("last_name") or "") if by_name else "",
        birth_date=(form.get("birth_date") or "") if by_name else "",
    )


def lookup_refused(request: Request, session: Session) -> HTTPResponse:
    """A lookup without the form's token: the console again, with the form as it was."""
    view = lookup_view(request)
    view.error = FORM_EXPIRED
    return _html(pages.console_page(session.agent, csrf_token(request), lookup=view), 403)


@signed_in
@csrf_checked(lookup_refused)
async def lookup_form(request: Request, session: Session) -> HTTPResponse:
    view = lookup_view(request)
    status = 200
    try:
        query = lookup_query(view.reference, view.last_name, view.birth_date)
        view.results = await db(request, run_lookup, query, session.agent)
        view.searched = query.description
    except LookupInputError as exc:
        view.error = str(exc)
        status = 400
    return _html(pages.console_page(session.agent, csrf_token(request), lookup=view), status)


# --- the JSON API -----------------------------------------------------------------------------


@signed_in_api
async def api_suggest(request: Request, session: Session) -> HTTPResponse:
    question = question_of(request)
    if not question:
        return _json({"error": "Paramètre q manquant : la question de l'appelant."}, 400)
    try:
        return _json(await suggest(request, question))
    except RasaError as exc:
        return _json({"error": exc.message}, exc.status)


@signed_in_api
async def api_consultations(request: Request, session: Session) -> HTTPResponse:
    try:
        query = lookup_query(
            request.args.get("reference"),
            request.args.get("last_name"),
            request.args.get("birth_date"),
        )
    except LookupInputError as exc:
        return _json({"error": str(exc)}, 400)
    records = await db(request, run_lookup, query, session.agent)
    body: dict[str, Any] = {
        "query": query.description,
        "count": len(records),
        "consultations": records,
    }
    if query.action is Action.LOOKUP_REFERENCE:
        body["consultation"] = records[0] if records else None
    if not records:
        body["error"] = f"Aucune consultation pour {query.description}."
        return _json(body, 404)
    return _json(body)


# --- supervisors ------------------------------------------------------------------------------


def day_of(request: Request) -> date | None:
    """The `day` asked for (today by default), or None when it is not a date."""
    raw = (request.args.get("day") or "").strip()
    if not raw:
        return stats.today()
    try:
        return date.fromisoformat(raw)
    except ValueError:
        return None


@signed_in
@supervisor_only
async def supervisor(request: Request, session: Session) -> HTTPResponse:
    day = day_of(request)
    if day is None:
        page = pages.error_page("Date non valide", BAD_DAY, session.agent, csrf_token(request))
        return _html(page, 400)
    report = await asyncio.to_thread(stats.day_report, config_of(request).tracker_url, day)
    return _html(
        pages.supervisor_page(session.agent, csrf_token(request), report, format_long_date(day))
    )


@signed_in
@supervisor_only
async def supervisor_csv(request: Request, session: Session) -> HTTPResponse:
    day = day_of(request)
    if day is None:
        return response.text(BAD_DAY, status=400)
    report = await asyncio.to_thread(stats.day_report, config_of(request).tracker_url, day)
    if report.source_error:
        return response.text(report.source_error, status=503)
    return response.text(
        report_csv(report),
        content_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="vivalia-questions-{day}.csv"'},
    )


def audit_day(request: Request) -> tuple[date | None, datetime | None, datetime | None]:
    """The `day` filter of the audit page and its bounds (naive UTC, as the database keeps
    them); no filter when it is missing or not a date."""
    raw = (request.args.get("day") or "").strip()
    try:
        day = date.fromisoformat(raw) if raw else None
    except ValueError:
        day = None
    if day is None:
        return None, None, None
    start, end = stats.day_bounds(day)
    return day, as_utc(start), as_utc(end)


@signed_in
@supervisor_only
async def audit(request: Request, session: Session) -> HTTPResponse:
    who = (request.args.get("agent") or "").strip()[: models.USERNAME_MAX]
    day, since, until = audit_day(request)
    entries = await db(
        request,
        models.audit_entries,
        agent=who or None,
        since=since,
        until=until,
        limit=AUDIT_PAGE_LIMIT,
    )
    page = pages.audit_page(
        session.agent, csrf_token(request), entries, who=who, day=day, limit=AUDIT_PAGE_LIMIT
    )
    return _html(page)


# --- static files -----------------------------------------------------------------------------


async def static(request: Request, name: str) -> HTTPResponse:
    if name not in STATIC_FILES:
        raise NotFound("Not Found")
    mime = (mimetypes.guess_type(name)[0] or "application/octet-stream") + "; charset=utf-8"
    return await response.file(STATIC_DIR / name, mime_type=mime)


# --- the blueprint ----------------------------------------------------------------------------

ROUTES: tuple[tuple[str, Callable[..., Any], str], ...] = (
    ("/agent/login", login_get, "GET"),
    ("/agent/login", login_post, "POST"),
    ("/agent/logout", logout, "POST"),
    ("/agent", console, "GET"),
    ("/agent/lookup", lookup_form, "POST"),
    ("/agent/api/suggest", api_suggest, "GET"),
    ("/agent/api/consultations", api_consultations, "GET"),
    ("/agent/supervisor", supervisor, "GET"),
    ("/agent/supervisor.csv", supervisor_csv, "GET"),
    ("/agent/audit", audit, "GET"),
    ("/agent/static/<name:str>", static, "GET"),
)


def console_config(
    *,
    rasa_url: str | None = None,
    rasa_token: str | None = None,
    tracker_url: str | None = None,
    database_url: str | None = None,
    rules_dir: Path | None = None,
) -> ConsoleConfig:
    """The settings' RASA_URL, RASA_TOKEN, SECRET_KEY and DATABASE_URL, the settings'
    TRACKER_DATABASE_URL (opened read only), the rules of data/rules; tests pass their own."""
    settings = get_settings()
    return ConsoleConfig(
        rasa_url=(rasa_url or settings.rasa_url).rstrip("/"),
        rasa_token=rasa_token if rasa_token is not None else settings.rasa_token,
        secret_key=settings.secret_key.encode(),
        rules_dir=rules_dir or settings.root / "data" / "rules",
        tracker_url=tracker_url or stats.tracker_url(settings.tracker_database_url, settings.root),
        database_url=database_url,
    )


def create_blueprint(
    *,
    rasa_url: str | None = None,
    rasa_token: str | None = None,
    tracker_url: str | None = None,
    database_url: str | None = None,
    rules_dir: Path | None = None,
) -> Blueprint:
    """The console (a new Blueprint per app). Its configuration (`console_config`) rides on the
    blueprint until the server starts, then lives on `app.ctx` (bot.agents.context)."""
    bp = Blueprint(CTX_NAME)
    bp.ctx.config = console_config(
        rasa_url=rasa_url,
        rasa_token=rasa_token,
        tracker_url=tracker_url,
        database_url=database_url,
        rules_dir=rules_dir,
    )
    bp.listener("before_server_start")(attach)
    bp.listener("after_server_stop")(detach)
    bp.middleware(no_store, "response")
    bp.exception(SQLAlchemyError)(database_down)
    for uri, handler, method in ROUTES:
        bp.add_route(handler, uri, methods=[method])
    return bp
