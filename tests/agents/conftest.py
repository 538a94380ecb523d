"""Fixtures of the agents' console tests, all function-scoped: settings and the database in
tmp_path, a fake Rasa API and the web app on free loopback ports, signed-in HTTP clients."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest
from sanic import Sanic

from bot.agents import console
from bot.agents.models import Agent, Role, create_agent
from bot.settings import ROOT, get_settings
from bot.web import public
from bot.web.app import create_app
from tests.agents.fake_rasa import TOKEN, make_fake_rasa
from tests.web.servers import free_port, serving

SAMPLE = ROOT / "tests" / "consultations" / "data" / "consultations-sample.csv"
AGENT, AGENT_PASSWORD = "marie", "cheval batterie agrafe correcte"
SUPERVISOR, SUPERVISOR_PASSWORD = "chef.cellule", "une phrase de passe assez longue"

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')

# Several Sanic apps start and stop in one test process: Sanic's test mode lets it re-optimise
# its HTTP protocol for each one.
Sanic.test_mode = True


@pytest.fixture(autouse=True)
def isolated_settings(isolated_settings: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """tests/conftest.py's isolated settings (secrets and the database in tmp_path, never the
    project's var/), for every agents' test, with the token the fake Rasa expects."""
    monkeypatch.setenv("RASA_TOKEN", TOKEN)
    get_settings.cache_clear()
    return isolated_settings


@pytest.fixture
def agent() -> Agent:
    return create_agent(AGENT, AGENT_PASSWORD, Role.AGENT)[0]


@pytest.fixture
def supervisor() -> Agent:
    return create_agent(SUPERVISOR, SUPERVISOR_PASSWORD, Role.SUPERVISOR)[0]


@pytest.fixture
def consultations() -> None:
    from bot.consultations.importer import import_consultations

    import_consultations(SAMPLE)


@pytest.fixture
async def fake_rasa() -> AsyncIterator[tuple[str, list[str]]]:
    app, asked = make_fake_rasa()
    async with serving(app) as url:
        yield url, asked


@pytest.fixture
def tracker_url(tmp_path: Path) -> str:
    """An empty tracker store (tests that need conversations write their own)."""
    return f"sqlite:///file:{tmp_path / 'tracker.db'}?mode=ro&uri=true"


@dataclass
class Site:
    url: str
    rasa_url: str
    asked: list[str]


def make_app(rasa_url: str, tracker_url: str | None):
    return create_app(
        blueprints=[
            public.create_blueprint(),
            console.create_blueprint(rasa_url=rasa_url, tracker_url=tracker_url),
        ]
    )


@pytest.fixture
async def site(fake_rasa: tuple[str, list[str]], tracker_url: str) -> AsyncIterator[Site]:
    rasa_url, asked = fake_rasa
    async with serving(make_app(rasa_url, tracker_url)) as url:
        yield Site(url, rasa_url, asked)


def new_client() -> aiohttp.ClientSession:
    # unsafe=True: keep cookies for an IP address (127.0.0.1).
    return aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))


@pytest.fixture
async def client() -> AsyncIterator[aiohttp.ClientSession]:
    async with new_client() as session:
        yield session


async def csrf_from(client: aiohttp.ClientSession, url: str) -> str:
    async with client.get(url, allow_redirects=False) as resp:
        assert resp.status == 200, await resp.text()
        match = CSRF.search(await resp.text())
    assert match, "no CSRF token in the form"
    return match.group(1)


async def sign_in(
    client: aiohttp.ClientSession, base: str, username: str, password: str
) -> aiohttp.ClientResponse:
    token = await csrf_from(client, f"{base}/agent/login")
    async with client.post(
        f"{base}/agent/login",
        data={"username": username, "password": password, "csrf_token": token},
        allow_redirects=False,
    ) as resp:
        await resp.read()
        return resp


@pytest.fixture
async def agent_client(
    site: Site, agent: Agent, client: aiohttp.ClientSession
) -> aiohttp.ClientSession:
    resp = await sign_in(client, site.url, AGENT, AGENT_PASSWORD)
    assert resp.status == 303, resp.status
    return client


@pytest.fixture
async def supervisor_client(site: Site, supervisor: Agent) -> AsyncIterator[aiohttp.ClientSession]:
    async with new_client() as session:
        resp = await sign_in(session, site.url, SUPERVISOR, SUPERVISOR_PASSWORD)
        assert resp.status == 303, resp.status
        yield session


__all__ = ["free_port"]
