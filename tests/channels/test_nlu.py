"""The classification channel of the agents' console: bearer token, plain text, nothing else."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from sanic import Sanic

from bot.channels.nlu import NluParseInput
from bot.settings import get_settings
from tests.web.servers import serving

TOKEN = "a-test-token-0123456789"
_names = itertools.count()


class FakeAgent:
    def __init__(self, ready: bool = True) -> None:
        self.ready = ready
        self.asked: list[str] = []

    def is_ready(self) -> bool:
        return self.ready

    async def parse_message(self, text: str) -> dict[str, Any]:
        self.asked.append(text)
        return {"text": text, "intent": {"name": "er_when", "confidence": 0.9}, "entities": []}


@pytest.fixture
def agent() -> FakeAgent:
    return FakeAgent()


@pytest.fixture
async def base_url(
    agent: FakeAgent, monkeypatch: pytest.MonkeyPatch, tmp_path
) -> AsyncIterator[str]:
    monkeypatch.setenv("RASA_TOKEN", TOKEN)
    monkeypatch.setenv("VAR_DIR", str(tmp_path))
    get_settings.cache_clear()
    Sanic.test_mode = True
    app = Sanic(f"nlu_channel_{next(_names)}")
    app.ctx.agent = agent

    async def ignore(_message: Any) -> None:
        raise AssertionError("the classification channel never sends a message to the bot")

    app.blueprint(NluParseInput().blueprint(ignore), url_prefix="/webhooks/nlu")
    async with serving(app) as url:
        yield url
    get_settings.cache_clear()


async def post(url: str, body: Any, token: str | None = TOKEN) -> tuple[int, dict]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with aiohttp.ClientSession() as session:
        async with session.post(f"{url}/webhooks/nlu/parse", json=body, headers=headers) as r:
            return r.status, await r.json()


async def test_the_console_gets_the_classification(base_url: str, agent: FakeAgent) -> None:
    status, result = await post(base_url, {"text": "les urgences sont ouvertes ?"})
    assert status == 200 and result["intent"]["name"] == "er_when"
    assert agent.asked == ["les urgences sont ouvertes ?"]


@pytest.mark.parametrize("token", [None, "wrong", TOKEN + "x"])
async def test_without_the_token_nothing_is_classified(
    base_url: str, agent: FakeAgent, token: str | None
) -> None:
    status, _ = await post(base_url, {"text": "bonjour"}, token=token)
    assert status == 401 and agent.asked == []


async def test_a_leading_slash_is_read_as_text(base_url: str, agent: FakeAgent) -> None:
    await post(base_url, {"text": "/emergency"})
    assert agent.asked == ["emergency"]


@pytest.mark.parametrize("body", [{}, {"text": ""}, {"text": 3}, {"text": "x" * 2001}, ["x"]])
async def test_bad_bodies_get_a_precise_error(base_url: str, body: Any) -> None:
    status, result = await post(base_url, body)
    assert status == 400 and "text" in result["error"]


async def test_no_model_yet(base_url: str, agent: FakeAgent) -> None:
    agent.ready = False
    status, result = await post(base_url, {"text": "bonjour"})
    assert status == 503 and result["error"] == "no model loaded yet"
