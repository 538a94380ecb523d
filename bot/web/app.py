"""The web application on :8080: one Sanic app, one blueprint per part of the site.

`create_app()` registers the public page (bot.web.public) and any other blueprint it is given or
that `default_blueprints()` lists (the agents' console adds itself there). Every response gets
the common security headers; a blueprint that needs its own Content-Security-Policy sets it on
its responses, the others get the strict default below.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable
from pathlib import Path

from sanic import Blueprint, Request, Sanic
from sanic.response import BaseHTTPResponse

from bot.content.store import ContentStore, settings_store
from bot.settings import get_settings
from bot.web import public

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
}
DEFAULT_CSP = (
    "default-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
    "form-action 'self'"
)

_names = itertools.count()


def default_blueprints() -> list[Callable[[], Blueprint]]:
    """Factories of the blueprints the site serves (a new Blueprint per app)."""
    from bot.agents import console

    return [public.create_blueprint, console.create_blueprint]


async def _security_headers(request: Request, response: BaseHTTPResponse) -> None:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    response.headers.setdefault("Content-Security-Policy", DEFAULT_CSP)


def create_app(
    name: str | None = None,
    *,
    store: ContentStore | None = None,
    static_dir: Path | None = None,
    rasa_url: str | None = None,
    blueprints: Iterable[Blueprint] | None = None,
) -> Sanic:
    """The Sanic app. Tests pass their own store, static folder or Rasa URL; `blueprints`
    replaces the default list (`default_blueprints()`)."""
    settings = get_settings()
    if name is None:
        n = next(_names)
        name = "vivalia_web" if n == 0 else f"vivalia_web_{n}"
    app = Sanic(name)
    app.config.FALLBACK_ERROR_FORMAT = "text"
    app.ctx.settings = settings
    app.ctx.content_store = store or settings_store()
    app.ctx.static_dir = static_dir or public.STATIC_DIR
    app.ctx.assets = public.Assets.load(app.ctx.static_dir)
    app.ctx.rasa_url = (rasa_url or public.rasa_public_url()).rstrip("/")
    app.ctx.phone_numbers = public.load_phone_numbers(app.ctx.content_store.facts_path)
    app.ctx.content_store.current()  # load now: a broken file is reported at start-up

    for bp in blueprints if blueprints is not None else [f() for f in default_blueprints()]:
        app.blueprint(bp)
    app.register_middleware(_security_headers, "response")
    return app
