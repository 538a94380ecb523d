"""Shared fixtures. Function-scoped, except the live assistant, which is started once per run
because it takes some seconds to load."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sanic import Sanic

from tests.live.stack import MODEL, ROOT, LiveStack
from tests.web.servers import free_port

# Several Sanic apps start and stop in one test process: Sanic's test mode lets it re-optimise
# its HTTP protocol for each one (and allows the same app name twice).
Sanic.test_mode = True


@pytest.fixture(scope="session")
def live_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveStack]:
    """Rasa (REST, Socket.IO, SMS), the action server and the web app, on free ports."""
    if not MODEL.exists():
        pytest.skip(f"no trained model at {MODEL}: run `make train` (make test does)")
    stack = LiveStack(
        workdir=tmp_path_factory.mktemp("live"),
        rasa_port=free_port(),
        actions_port=free_port(),
        web_port=free_port(),
    )
    stack.start()
    try:
        yield stack
    finally:
        stack.stop()


# --- custom actions (rasa_sdk) ------------------------------------------------------------------


@pytest.fixture
def dispatcher() -> Any:
    """A fresh rasa_sdk CollectingDispatcher: `dispatcher.messages` holds what an action said."""
    from rasa_sdk.executor import CollectingDispatcher

    return CollectingDispatcher()


@pytest.fixture
def domain() -> dict[str, Any]:
    """The project's domain (domain/*.yml), as Rasa sends it to the action server."""
    from rasa.shared.core.domain import Domain

    return Domain.load(str(ROOT / "domain")).as_dict()


@pytest.fixture
def make_tracker() -> Callable[..., Any]:
    """Builds a rasa_sdk Tracker whose latest event is the user's message:
    `make_tracker(text=..., intent=..., entities=[...], slots={...}, events=[...],
    sender_id=..., input_channel=..., metadata={...}, active_loop=...)`. `events` come before
    the message; `after` (e.g. slot candidates) after it."""
    from rasa_sdk import Tracker

    def make(
        text: str = "",
        intent: str | None = None,
        entities: list[dict[str, Any]] | None = None,
        slots: dict[str, Any] | None = None,
        events: list[dict[str, Any]] | None = None,
        after: list[dict[str, Any]] | None = None,
        sender_id: str = "test-conversation",
        input_channel: str | None = "rest",
        metadata: dict[str, Any] | None = None,
        active_loop: str | None = None,
    ) -> Tracker:
        ranking = [{"name": intent, "confidence": 1.0}] if intent else []
        latest = {
            "text": text,
            "intent": ranking[0] if ranking else {},
            "intent_ranking": ranking,
            "entities": list(entities or []),
            "metadata": dict(metadata or {}),
        }
        user = {
            "event": "user",
            "text": text,
            "parse_data": latest,
            "input_channel": input_channel,
            "metadata": dict(metadata or {}),
        }
        all_slots = dict(slots or {})
        for event in after or []:
            if event.get("event") == "slot":
                all_slots[event["name"]] = event["value"]
        return Tracker(
            sender_id=sender_id,
            slots=all_slots,
            latest_message=latest,
            events=[*(events or []), user, *(after or [])],
            paused=False,
            followup_action=None,
            active_loop={"name": active_loop} if active_loop else {},
            latest_action_name="action_listen",
        )

    return make


# --- settings ------------------------------------------------------------------------------


@pytest.fixture
def isolated_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Secrets and databases in tmp_path (yielded: the var directory), never in the project's
    var/; settings and database engines reloaded before and after."""
    from bot.db import dispose_engines
    from bot.settings import get_settings

    var = tmp_path / "var"
    monkeypatch.setenv("VAR_DIR", str(var))
    monkeypatch.setenv("PHONE_HASH_KEY", "test-phone-hash-key")
    monkeypatch.setenv("SECRET_KEY", "test-secret-key")
    monkeypatch.setenv("RASA_TOKEN", "test-rasa-token")
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'crisis.db'}")
    monkeypatch.setenv("TRACKER_DATABASE_URL", f"sqlite:///{tmp_path / 'tracker.db'}")
    get_settings.cache_clear()
    dispose_engines()
    yield var
    dispose_engines()
    get_settings.cache_clear()
