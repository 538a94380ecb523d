"""Who is asking: the session cookie, the CSRF tokens, and the decorators that guard the routes.

- Session: a random token in the `vivalia_agent` cookie (HttpOnly, SameSite=Strict, Path
  /agent, Secure over HTTPS); the database keeps its SHA-256 (bot.agents.models).
- CSRF: every form carries HMAC(SECRET_KEY, session token); the sign-in form's is bound the same
  way to a short-lived pre-session cookie. A POST without the right token is refused.

The guards are decorators so that each handler states its rule in one line and the refusals
(sign-in page, 401, 403) are written once:

    @signed_in          HTML page: the sign-in page without a session; passes the Session on
    @signed_in_api      JSON: 401 without a session
    @supervisor_only    403 page for an agent who is not a supervisor (under @signed_in)
    @csrf_checked()     403 for a form without this session's token (under @signed_in)
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import wraps

from sanic import Request, response
from sanic.response import HTTPResponse

from bot.agents import models, pages
from bot.agents.context import config_of, in_thread
from bot.agents.models import Session
from bot.privacy.hashing import hmac_hex, same_secret

COOKIE = "vivalia_agent"
LOGIN_COOKIE = "vivalia_agent_login"
COOKIE_PATH = "/agent"
LOGIN_COOKIE_AGE = 3600

NOT_SIGNED_IN = "Connexion requise : connectez-vous sur /agent/login."
FORBIDDEN = "Cette page est réservée aux superviseurs."
FORM_EXPIRED = "Le formulaire a expiré ou ne vient pas de la console. Recommencez."

Handler = Callable[[Request], Awaitable[HTTPResponse]]
SessionHandler = Callable[[Request, Session], Awaitable[HTTPResponse]]
Refusal = Callable[[Request, Session], HTTPResponse]


# --- cookies ----------------------------------------------------------------------------------


def set_cookie(resp: HTTPResponse, request: Request, name: str, value: str, max_age: int) -> None:
    resp.cookies[name] = value
    cookie = resp.cookies[name]
    cookie["path"] = COOKIE_PATH
    cookie["httponly"] = True
    cookie["samesite"] = "Strict"
    cookie["max-age"] = max_age
    if request.scheme == "https":
        cookie["secure"] = True


def clear_cookie(resp: HTTPResponse, request: Request, name: str) -> None:
    set_cookie(resp, request, name, "", 0)


def see_other(to: str) -> HTTPResponse:
    return response.redirect(to, status=303)


# --- sessions and tokens ----------------------------------------------------------------------


async def current_session(request: Request) -> Session | None:
    """The session of the cookie, looked up once per request (then kept on request.ctx)."""
    if hasattr(request.ctx, "agent_session"):
        session: Session | None = request.ctx.agent_session
        return session
    token = request.cookies.get(COOKIE) or ""
    session = await in_thread(request, models.session_for, token) if token else None
    request.ctx.agent_session = session
    request.ctx.agent_token = token if session else ""
    return session


def session_token(request: Request) -> str:
    """The raw session token of this request ("" without a session)."""
    return str(getattr(request.ctx, "agent_token", ""))


def csrf_token(request: Request) -> str:
    """The token the forms of this session carry."""
    return hmac_hex(config_of(request).secret_key, "csrf", session_token(request))


def csrf_ok(request: Request) -> bool:
    return same_secret(request.form.get("csrf_token"), csrf_token(request))


def login_token(request: Request, pre_session: str) -> str:
    """The sign-in form's token, bound to the pre-session cookie."""
    return hmac_hex(config_of(request).secret_key, "login", pre_session)


def login_csrf_ok(request: Request) -> bool:
    pre = request.cookies.get(LOGIN_COOKIE) or ""
    return bool(pre) and same_secret(request.form.get("csrf_token"), login_token(request, pre))


# --- the guards -------------------------------------------------------------------------------


def signed_in(handler: SessionHandler) -> Handler:
    """An HTML page: without a session, the sign-in page."""

    @wraps(handler)
    async def guarded(request: Request) -> HTTPResponse:
        session = await current_session(request)
        if session is None:
            return see_other("/agent/login")
        return await handler(request, session)

    return guarded


def signed_in_api(handler: SessionHandler) -> Handler:
    """A JSON route: without a session, 401 (a softphone cannot follow a sign-in page)."""

    @wraps(handler)
    async def guarded(request: Request) -> HTTPResponse:
        session = await current_session(request)
        if session is None:
            return response.json({"error": NOT_SIGNED_IN}, status=401, ensure_ascii=False)
        return await handler(request, session)

    return guarded


def supervisor_only(handler: SessionHandler) -> SessionHandler:
    """A supervisor's page: 403 for the other agents."""

    @wraps(handler)
    async def guarded(request: Request, session: Session) -> HTTPResponse:
        if not session.agent.is_supervisor:
            page = pages.error_page("Accès refusé", FORBIDDEN, session.agent, csrf_token(request))
            return response.html(page, status=403)
        return await handler(request, session)

    return guarded


def form_refused(request: Request, session: Session) -> HTTPResponse:
    """The default refusal of a form without the right token."""
    page = pages.error_page("Formulaire refusé", FORM_EXPIRED, session.agent, csrf_token(request))
    return response.html(page, status=403)


def csrf_checked(refuse: Refusal = form_refused) -> Callable[[SessionHandler], SessionHandler]:
    """A form's POST: refused (`refuse`, by default a 403 page) without this session's token."""

    def decorate(handler: SessionHandler) -> SessionHandler:
        @wraps(handler)
        async def guarded(request: Request, session: Session) -> HTTPResponse:
            if not csrf_ok(request):
                return refuse(request, session)
            return await handler(request, session)

        return guarded

    return decorate
