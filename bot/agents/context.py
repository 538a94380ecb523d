"""What the console's handlers read from `request.app.ctx`: its configuration and its HTTP client.

The blueprint factory (bot.agents.console.create_blueprint) builds one `ConsoleConfig` and puts
it on the blueprint; when the server starts, `attach` turns it into the `Console` of that app
(`app.ctx.agents_console`), so that every handler is a plain module-level function, as in
bot.web.public, and two apps in one process (the tests) never share a client or a setting.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import aiohttp
from sanic import Request, Sanic

CTX_NAME = "agents_console"  # the attribute of app.ctx, and the blueprint's name

T = TypeVar("T")


@dataclass(frozen=True)
class ConsoleConfig:
    """Where the console finds Rasa, the tracker store and its database, and its secret."""

    rasa_url: str
    rasa_token: str
    secret_key: bytes
    rules_dir: Path
    tracker_url: str
    database_url: str | None


@dataclass
class Console:
    """One app's console: its configuration and one HTTP client for Rasa, made on first use
    (inside the server's event loop) and closed when the server stops."""

    config: ConsoleConfig
    _http: aiohttp.ClientSession | None = field(default=None, repr=False)

    def http(self) -> aiohttp.ClientSession:
        if self._http is None or self._http.closed:
            self._http = aiohttp.ClientSession()
        return self._http

    async def close(self) -> None:
        if self._http is not None:
            await self._http.close()
            self._http = None


def console_of(request: Request) -> Console:
    console: Console = request.app.ctx.agents_console
    return console


def config_of(request: Request) -> ConsoleConfig:
    return console_of(request).config


async def attach(app: Sanic, _loop: Any) -> None:
    """before_server_start: the blueprint's configuration becomes this app's console."""
    config: ConsoleConfig = app.blueprints[CTX_NAME].ctx.config
    app.ctx.agents_console = Console(config)


async def detach(app: Sanic, _loop: Any) -> None:
    """after_server_stop: close the HTTP client."""
    console: Console | None = getattr(app.ctx, "agents_console", None)
    if console is not None:
        await console.close()


async def in_thread(request: Request, func: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run a synchronous database call off the event loop, on the console's database."""
    kwargs.setdefault("database_url", config_of(request).database_url)
    return await asyncio.to_thread(func, *args, **kwargs)
