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
    - Session: a random token in the `vivalia_agent` cookie (HttpOnly, SameSite=Strict, Path
      /agent, Secure over HTTPS); the database keeps its SHA-256 (bot.agents.models).
    - CSRF: every form carries a token, HMAC(SECRET_KEY, session token); the sign-in form's is
      bound the same way to a short-lived pre-session cookie. A POST without the right token is
      refused. The session cookie is SameSite=Strict, so no other site can make the browser send
      it, not even on a GET.
    - Roles: `agent` (console, API) and `supervisor` (also the day's figures and the audit).
    - Every response of the blueprint: `Cache-Control: no-store` and a strict
      Content-Security-Policy (scripts and styles from the site only).
"""

from __future__ import annotations

import asyncio
import logging
import mimetypes
import secrets
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import date, datetime, timezone
from functools import wraps
from pathlib import Path
from typing import Any

import aiohttp
from sanic import Blueprint, Request, response
from sanic.exceptions import NotFound
from sanic.response import HTTPResponse
from sqlalchemy.exc import SQLAlchemyError

from bot.agents import models, pages, stats
from bot.agents.cli import local_time
from bot.agents.models import Action, Agent, LoginOutcome, Session
from bot.agents.suggest import (
    MAX_QUESTION,
    RasaError,
    build_suggestion,
    fact_summaries,
    parse,
    rules_answers,
)
from bot.content.render import format_appointment, format_long_date
from bot.content.store import ContentStore
from bot.privacy.hashing import hmac_hex, same_secret
from bot.settings import get_settings

logger = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).resolve().parent / "static"
STATIC_FILES = {"console.css", "console.js"}

COOKIE = "vivalia_agent"
LOGIN_COOKIE = "vivalia_agent_login"
COOKIE_PATH = "/agent"
LOGIN_COOKIE_AGE = 3600

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

NOT_SIGNED_IN = "Connexion requise : connectez-vous sur /agent/login."
FORBIDDEN = "Cette page est réservée aux superviseurs."
FORM_EXPIRED = "Le formulaire a expiré ou ne vient pas de la console. Recommencez."
DATABASE_DOWN = (
    "La base de données ne répond pas. Réessayez dans un instant ; si cela dure, prévenez "
    "l'administrateur."
)


@dataclass
class ConsoleConfig:
    rasa_url: str
    rasa_token: str
    secret_key: bytes
    rules_dir: Path
    tracker_url: str
    database_url: str | None


# --- helpers ----------------------------------------------------------------------------------


def _set_cookie(resp: HTTPResponse, request: Request, name: str, value: str, max_age: int) -> None:
    resp.cookies[name] = value
    cookie = resp.cookies[name]
    cookie["path"] = COOKIE_PATH
    cookie["httponly"] = True
    cookie["samesite"] = "Strict"
    cookie["max-age"] = max_age
    if request.scheme == "https":
        cookie["secure"] = True


def _clear_cookie(resp: HTTPResponse, request: Request, name: str) -> None:
    _set_cookie(resp, request, name, "", 0)


def _html(page: str, status: int = 200) -> HTTPResponse:
    return response.html(page, status=status)


def _json(data: Any, status: int = 200) -> HTTPResponse:
    return response.json(data, status=status, ensure_ascii=False)


def _redirect(to: str) -> HTTPResponse:
    return response.redirect(to, status=303)


def reference_display(reference: str) -> str:
    """C22004512 -> C-22-004512 (as printed on the letters)."""
    if len(reference) >= 4 and reference[0] == "C" and reference[1:].isdigit():
        return f"C-{reference[1:3]}-{reference[3:]}"
    return reference


def _day_label(day: date) -> str:
    return format_long_date(day)


def consultation_record(c: Any) -> dict[str, Any]:
    """The JSON of one consultation for the agent (bot.consultations.lookup.AgentConsultation)."""
    return {
        "reference": c.reference,
        "reference_display": reference_display(c.reference),
        "last_name": c.last_name,
        "first_name": c.first_name,
        "birth_date": c.birth_date.isoformat(),
        "birth_date_label": c.birth_date.strftime("%d/%m/%Y"),
        "starts_at": c.starts_at.isoformat(timespec="minutes"),
        "starts_at_label": format_appointment(c.starts_at),
        "site": c.site,
        "service": c.service,
        "status": c.status.value,
        "status_label": c.status.label,
        "new_starts_at": c.new_starts_at.isoformat(timespec="minutes") if c.new_starts_at else None,
        "new_starts_at_label": format_appointment(c.new_starts_at) if c.new_starts_at else None,
        "note": c.note,
        "phone_on_file": c.has_phone,
    }


def shown_summary(records: list[dict[str, Any]]) -> str:
    """What the agent was shown, for the audit trail: each consultation, briefly."""
    if not records:
        return "aucune consultation"
    parts = []
    for r in records:
        who = " ".join(x for x in (r.get("last_name"), r.get("first_name")) if x) or "sans nom"
        when = r["starts_at"].replace("T", " ")
        parts.append(
            f"{r['reference_display']} ({who}, {when}, {r['site']}, {r['service']}, "
            f"{r['status_label']})"
        )
    n = len(records)
    return f"{n} consultation{'s' if n > 1 else ''} : " + " ; ".join(parts)


# --- lookups ----------------------------------------------------------------------------------


class LookupInputError(ValueError):
    """The lookup was not asked properly; French message."""


@dataclass(frozen=True)
class LookupQuery:
    action: Action
    reference: str = ""
    last_name: str = ""
    birth_date: date | None = None

    @property
    def description(self) -> str:
        """What was searched, in French (for the page and the audit trail)."""
        if self.action is Action.LOOKUP_REFERENCE:
            return f"la référence {reference_display(self.reference)}"
        assert self.birth_date is not None
        return f"le nom « {self.last_name} » né(e) le {self.birth_date.strftime('%d/%m/%Y')}"


def lookup_query(
    reference: str | None, last_name: str | None, birth_date: str | None
) -> LookupQuery:
    from bot.consultations.normalize import name_key, normalise_reference, parse_birth_date

    reference = (reference or "").strip()
    last_name = " ".join((last_name or "").split())
    birth_raw = (birth_date or "").strip()
    if reference and (last_name or birth_raw):
        raise LookupInputError(
            "Cherchez soit par référence, soit par nom et date de naissance, pas les deux."
        )
    if reference:
        canonical = normalise_reference(reference)
        if not canonical or len(canonical) > 32 or not canonical.isalnum():
            raise LookupInputError(
                "Cette référence n'a pas la bonne forme (par exemple C-22-004512)."
            )
        return LookupQuery(Action.LOOKUP_REFERENCE, reference=canonical)
    if not last_name and not birth_raw:
        raise LookupInputError(
            "Donnez la référence du rendez-vous, ou le nom de famille et la date de naissance."
        )
    if not last_name or not name_key(last_name):
        raise LookupInputError("Donnez aussi le nom de famille.")
    if len(last_name) > 200:
        raise LookupInputError("Ce nom est trop long.")
    if not birth_raw:
        raise LookupInputError("Donnez aussi la date de naissance (JJ/MM/AAAA).")
    born = parse_birth_date(birth_raw)
    if born is None:
        raise LookupInputError(
            "Date de naissance non reconnue : écrivez-la JJ/MM/AAAA, avec l'année en 4 chiffres "
            "(par exemple 14/02/1961)."
        )
    return LookupQuery(Action.LOOKUP_NAME, last_name=last_name, birth_date=born)


def run_lookup(query: LookupQuery, agent: Agent, database_url: str | None) -> list[dict[str, Any]]:
    """Look up and write the audit entry (synchronous: called through a thread)."""
    from bot.consultations.lookup import find_by_name_and_birth_date, find_by_reference

    if query.action is Action.LOOKUP_REFERENCE:
        found = find_by_reference(query.reference, database_url=database_url)
        records = [consultation_record(found)] if found is not None else []
    else:
        assert query.birth_date is not None
        records = [
            consultation_record(c)
            for c in find_by_name_and_birth_date(
                query.last_name, query.birth_date, database_url=database_url
            )
        ]
    models.add_audit(
        agent,
        agent.role,
        query.action,
        query.description,
        shown_summary(records),
        database_url=database_url,
    )
    return records


# --- the blueprint ----------------------------------------------------------------------------

Handler = Callable[..., Coroutine[Any, Any, HTTPResponse]]


def create_blueprint(
    *,
    rasa_url: str | None = None,
    rasa_token: str | None = None,
    tracker_url: str | None = None,
    database_url: str | None = None,
    rules_dir: Path | None = None,
) -> Blueprint:
    """The console. Defaults: the settings' RASA_URL, RASA_TOKEN, SECRET_KEY and DATABASE_URL,
    the settings' TRACKER_DATABASE_URL (read only), the rules of data/rules. Tests pass their own."""
    settings = get_settings()
    config = ConsoleConfig(
        rasa_url=(rasa_url or settings.rasa_url).rstrip("/"),
        rasa_token=rasa_token if rasa_token is not None else settings.rasa_token,
        secret_key=settings.secret_key.encode(),
        rules_dir=rules_dir or settings.root / "data" / "rules",
        tracker_url=tracker_url or stats.tracker_url(settings.tracker_database_url, settings.root),
        database_url=database_url,
    )
    bp = Blueprint("agents_console")
    http: dict[str, aiohttp.ClientSession] = {}

    def rasa_http() -> aiohttp.ClientSession:
        session = http.get("session")
        if session is None or session.closed:
            session = aiohttp.ClientSession()
            http["session"] = session
        return session

    @bp.listener("after_server_stop")
    async def close_http(_app: Any, _loop: Any) -> None:
        session = http.pop("session", None)
        if session is not None:
            await session.close()

    async def db(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("database_url", config.database_url)
        return await asyncio.to_thread(func, *args, **kwargs)

    # -- sessions ------------------------------------------------------------------------------

    async def current(request: Request) -> Session | None:
        if hasattr(request.ctx, "agent_session"):
            return request.ctx.agent_session
        token = request.cookies.get(COOKIE) or ""
        session = await db(models.session_for, token) if token else None
        request.ctx.agent_session = session
        request.ctx.agent_token = token if session else ""
        return session

    def csrf_for(request: Request) -> str:
        return hmac_hex(config.secret_key, "csrf", request.ctx.agent_token)

    def csrf_ok(request: Request) -> bool:
        return same_secret(request.form.get("csrf_token"), csrf_for(request))

    def page(role: str | None = None) -> Callable[[Handler], Handler]:
        """An HTML page: sign-in page without a session, 403 without the role."""

        def wrap(handler: Handler) -> Handler:
            @wraps(handler)
            async def inner(request: Request, *args: Any, **kwargs: Any) -> HTTPResponse:
                session = await current(request)
                if session is None:
                    return _redirect("/agent/login")
                if role == "supervisor" and not session.agent.is_supervisor:
                    return _html(
                        pages.error_page(
                            "Accès refusé", FORBIDDEN, session.agent, csrf_for(request)
                        ),
                        403,
                    )
                return await handler(request, session, *args, **kwargs)

            return inner

        return wrap

    def api(handler: Handler) -> Handler:
        @wraps(handler)
        async def inner(request: Request, *args: Any, **kwargs: Any) -> HTTPResponse:
            session = await current(request)
            if session is None:
                return _json({"error": NOT_SIGNED_IN}, 401)
            return await handler(request, session, *args, **kwargs)

        return inner

    # -- responses: never cached, strict policy ------------------------------------------------

    @bp.middleware("response")
    async def no_store(request: Request, resp: HTTPResponse) -> None:
        for name, value in NO_STORE.items():
            resp.headers[name] = value
        resp.headers["Content-Security-Policy"] = CSP
        resp.headers["X-Robots-Tag"] = "noindex, nofollow"

    @bp.exception(SQLAlchemyError)
    async def database_down(request: Request, exc: Exception) -> HTTPResponse:
        logger.error("agents' console: database error %s", type(exc).__name__)
        if request.path.startswith("/agent/api/"):
            resp = _json({"error": DATABASE_DOWN}, 503)
        else:
            resp = _html(pages.error_page("Base de données indisponible", DATABASE_DOWN), 503)
        resp.headers.update(NO_STORE)
        resp.headers["Content-Security-Policy"] = CSP
        return resp

    # -- sign in / out -------------------------------------------------------------------------

    def login_form(
        request: Request,
        *,
        status: int = 200,
        error: str | None = None,
        info: str | None = None,
        username: str = "",
    ) -> HTTPResponse:
        pre = secrets.token_urlsafe(24)
        resp = _html(
            pages.login_page(
                hmac_hex(config.secret_key, "login", pre), error=error, info=info, username=username
            ),
            status,
        )
        _set_cookie(resp, request, LOGIN_COOKIE, pre, LOGIN_COOKIE_AGE)
        return resp

    @bp.get("/agent/login")
    async def login_get(request: Request) -> HTTPResponse:
        if await current(request) is not None:
            return _redirect("/agent")
        info = "Vous êtes déconnecté." if request.args.get("bye") else None
        return login_form(request, info=info)

    @bp.post("/agent/login")
    async def login_post(request: Request) -> HTTPResponse:
        form = request.form
        username = (form.get("username") or "").strip()[: models.USERNAME_MAX]
        password = form.get("password") or ""
        pre = request.cookies.get(LOGIN_COOKIE) or ""
        if not pre or not same_secret(
            form.get("csrf_token"), hmac_hex(config.secret_key, "login", pre)
        ):
            return login_form(request, status=403, error=FORM_EXPIRED, username=username)
        if not username or not password:
            return login_form(
                request, status=400, error="Donnez votre nom d'utilisateur et votre mot de passe."
            )
        result = await db(models.attempt_login, username, password)
        if result.outcome is LoginOutcome.LOCKED:
            if result.locked_now and result.agent is not None:
                await db(
                    models.add_audit,
                    result.agent,
                    result.agent.role,
                    Action.LOCKED,
                    "",
                    f"{models.MAX_FAILED_LOGINS} mots de passe erronés",
                )
            until = local_time(result.locked_until or models.utcnow()).strftime("%H:%M")
            return login_form(
                request,
                status=429,
                error=f"Compte bloqué jusqu'à {until} après {models.MAX_FAILED_LOGINS} essais "
                "manqués. Réessayez plus tard, ou demandez à votre superviseur.",
                username=username,
            )
        if result.outcome is LoginOutcome.REFUSED or result.agent is None:
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
        agent = result.agent
        token = await db(models.create_session, agent)
        await db(models.add_audit, agent, agent.role, Action.LOGIN)
        resp = _redirect("/agent")
        _set_cookie(resp, request, COOKIE, token, int(models.SESSION_LIFETIME.total_seconds()))
        _clear_cookie(resp, request, LOGIN_COOKIE)
        return resp

    @bp.post("/agent/logout")
    async def logout(request: Request) -> HTTPResponse:
        session = await current(request)
        if session is None:
            return _redirect("/agent/login")
        if not csrf_ok(request):
            return _html(
                pages.error_page(
                    "Formulaire refusé", FORM_EXPIRED, session.agent, csrf_for(request)
                ),
                403,
            )
        await db(models.end_session, request.ctx.agent_token)
        await db(models.add_audit, session.agent, session.agent.role, Action.LOGOUT)
        resp = _redirect("/agent/login?bye=1")
        _clear_cookie(resp, request, COOKIE)
        return resp

    # -- the console ---------------------------------------------------------------------------

    async def suggest(request: Request, question: str) -> dict[str, Any]:
        store: ContentStore = request.app.ctx.content_store
        content = store.current()
        if content is None:
            raise RasaError(
                "Le fichier des réponses ne peut pas être lu : répondez avec le communiqué en "
                "vigueur et prévenez la cellule de crise.",
                503,
            )
        result = await parse(
            rasa_http(), question, rasa_url=config.rasa_url, token=config.rasa_token
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

    @bp.get("/agent")
    @page()
    async def console(request: Request, session: Session) -> HTTPResponse:
        question = question_of(request)
        suggestion = error = None
        if question:
            try:
                suggestion = await suggest(request, question)
            except RasaError as exc:
                error = exc.message
        return _html(
            pages.console_page(
                session.agent,
                csrf_for(request),
                question=question,
                suggestion=suggestion,
                suggest_error=error,
            ),
            503 if error else 200,
        )

    @bp.post("/agent/lookup")
    @page()
    async def lookup_form(request: Request, session: Session) -> HTTPResponse:
        form = request.form
        mode = form.get("mode") or "reference"
        view = pages.LookupView(
            mode=mode,
            reference=(form.get("reference") or "") if mode == "reference" else "",
            last_name=(form.get("last_name") or "") if mode == "name" else "",
            birth_date=(form.get("birth_date") or "") if mode == "name" else "",
        )
        if not csrf_ok(request):
            view.error = FORM_EXPIRED
            status = 403
        else:
            try:
                query = lookup_query(view.reference, view.last_name, view.birth_date)
                view.results = await db(run_lookup, query, session.agent)
                view.searched = query.description
                status = 200
            except LookupInputError as exc:
                view.error = str(exc)
                status = 400
        return _html(pages.console_page(session.agent, csrf_for(request), lookup=view), status)

    # -- the JSON API --------------------------------------------------------------------------

    @bp.get("/agent/api/suggest")
    @api
    async def api_suggest(request: Request, session: Session) -> HTTPResponse:
        question = question_of(request)
        if not question:
            return _json({"error": "Paramètre q manquant : la question de l'appelant."}, 400)
        try:
            return _json(await suggest(request, question))
        except RasaError as exc:
            return _json({"error": exc.message}, exc.status)

    @bp.get("/agent/api/consultations")
    @api
    async def api_consultations(request: Request, session: Session) -> HTTPResponse:
        try:
            query = lookup_query(
                request.args.get("reference"),
                request.args.get("last_name"),
                request.args.get("birth_date"),
            )
        except LookupInputError as exc:
            return _json({"error": str(exc)}, 400)
        records = await db(run_lookup, query, session.agent)
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

    # -- supervisors ---------------------------------------------------------------------------

    def day_of(request: Request) -> date | None:
        raw = (request.args.get("day") or "").strip()
        if not raw:
            return stats.today()
        try:
            return date.fromisoformat(raw)
        except ValueError:
            return None

    @bp.get("/agent/supervisor")
    @page("supervisor")
    async def supervisor(request: Request, session: Session) -> HTTPResponse:
        day = day_of(request)
        if day is None:
            return _html(
                pages.error_page(
                    "Date non valide",
                    "Le jour s'écrit AAAA-MM-JJ.",
                    session.agent,
                    csrf_for(request),
                ),
                400,
            )
        report = await asyncio.to_thread(stats.day_report, config.tracker_url, day)
        return _html(
            pages.supervisor_page(session.agent, csrf_for(request), report, _day_label(day))
        )

    @bp.get("/agent/supervisor.csv")
    @page("supervisor")
    async def supervisor_csv(request: Request, session: Session) -> HTTPResponse:
        day = day_of(request)
        if day is None:
            return response.text("Le jour s'écrit AAAA-MM-JJ.", status=400)
        report = await asyncio.to_thread(stats.day_report, config.tracker_url, day)
        if report.source_error:
            return response.text(report.source_error, status=503)
        return response.text(
            stats.report_csv(report),
            content_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="vivalia-questions-{day}.csv"'},
        )

    @bp.get("/agent/audit")
    @page("supervisor")
    async def audit(request: Request, session: Session) -> HTTPResponse:
        who = (request.args.get("agent") or "").strip()[: models.USERNAME_MAX]
        raw_day = (request.args.get("day") or "").strip()
        day: date | None = None
        since = until = None
        if raw_day:
            try:
                day = date.fromisoformat(raw_day)
            except ValueError:
                day = None
            else:
                since, until = (
                    datetime.fromtimestamp(t, timezone.utc).replace(tzinfo=None)
                    for t in stats.day_bounds(day)
                )
        entries = await db(
            models.audit_entries, agent=who or None, since=since, until=until,
            limit=AUDIT_PAGE_LIMIT,
        )  # fmt: skip
        rows = [
            (
                local_time(e.at).strftime("%d/%m/%Y %H:%M:%S"),
                f"{e.agent} ({e.role.label})",
                e.action.label,
                e.query,
                e.shown,
            )
            for e in reversed(entries)
        ]
        return _html(
            pages.audit_page(
                session.agent,
                csrf_for(request),
                entries,
                rows,
                who=who,
                day=day,
                limit=AUDIT_PAGE_LIMIT,
            )
        )

    # -- static files --------------------------------------------------------------------------

    @bp.get("/agent/static/<name:str>")
    async def static(request: Request, name: str) -> HTTPResponse:
        if name not in STATIC_FILES:
            raise NotFound("Not Found")
        mime = (mimetypes.guess_type(name)[0] or "application/octet-stream") + "; charset=utf-8"
        return await response.file(STATIC_DIR / name, mime_type=mime)

    return bp
