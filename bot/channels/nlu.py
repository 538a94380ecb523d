"""The classification the agents' console needs, and nothing more of Rasa's HTTP API.

`POST /webhooks/nlu/parse` with `Authorization: Bearer <RASA_TOKEN>` and `{"text": "..."}`
returns Rasa's parse of the text (intent, ranking, entities), from the model that answers the
patients. Rasa's full HTTP API (`--enable-api`) would also let the token's holder read every
conversation and replace the model; this channel exposes only the classification, and reads a
leading "/" as text like the public channels.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.runtime import add_server_listeners
from bot.settings import get_settings
from bot.text import as_plain_text

logger = logging.getLogger(__name__)
MAX_TEXT_CHARS = 2000


def authorised(request: Request) -> bool:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    expected = get_settings().rasa_token
    return (
        scheme.lower() == "bearer"
        and bool(expected)
        and hmac.compare_digest(token.strip().encode(), expected.encode())
    )


class NluParseInput(InputChannel):
    @classmethod
    def name(cls) -> str:
        return "nlu"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        hook = Blueprint("nlu_parse_webhook", __name__)

        @hook.route("/", methods=["GET"])
        async def health(request: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @hook.route("/parse", methods=["POST"])
        async def parse(request: Request) -> HTTPResponse:
            if not authorised(request):
                return response.json({"error": "unauthorised"}, status=401)
            body = request.json if isinstance(request.json, dict) else {}
            text = body.get("text")
            if not isinstance(text, str) or not text.strip():
                return response.json({"error": "a non-empty 'text' is required"}, status=400)
            if len(text) > MAX_TEXT_CHARS:
                return response.json(
                    {"error": f"'text' is longer than {MAX_TEXT_CHARS} characters"}, status=400
                )
            agent = getattr(request.app.ctx, "agent", None)
            if agent is None or not agent.is_ready():
                return response.json({"error": "no model loaded yet"}, status=503)
            return response.json(await agent.parse_message(as_plain_text(text)))

        return add_server_listeners(hook)
