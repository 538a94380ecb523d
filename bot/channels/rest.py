"""The REST channel (POST /webhooks/rest/webhook), reading every message as plain text."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint
from sanic.request import Request

from bot.runtime import add_server_listeners
from bot.text import as_plain_text


class PlainTextRestInput(RestInput):
    """Rasa's REST channel, except that a message starting with '/' is not taken as an intent
    (Rasa would skip the NLU, and the safety layer with it)."""

    @classmethod
    def name(cls) -> str:
        return "rest"

    def _extract_message(self, req: Request) -> str | None:
        return as_plain_text(super()._extract_message(req))

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        return add_server_listeners(super().blueprint(on_new_message))
