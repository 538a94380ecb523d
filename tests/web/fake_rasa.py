"""A stand-in for Rasa: the real website channel (RestrictedSocketIOInput) in a Sanic app, with a
tiny "assistant" that answers from the real content file the way Rasa's NLG and Socket.IO
output do (render_web, then one bot_uttered per paragraph, buttons as quick_replies)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from unittest import mock

from rasa.core.channels.channel import UserMessage
from sanic import Sanic

from bot.channels import socketio as channel_module
from bot.channels.socketio import RestrictedSocketIOInput
from bot.content.render import render_web
from bot.content.store import ContentStore
from bot.settings import get_settings


def pick_answer(text: str) -> str:
    lowered = text.lower()
    if "urgence" in lowered:
        return "utter_er_when"
    if "consultation" in lowered or "rendez-vous" in lowered:
        return "utter_consultation_rule"
    if "garde" in lowered:
        return "utter_gp_oncall"
    return "utter_fallback"


def make_fake_rasa(
    name: str,
    store: ContentStore,
    allowed_origins: tuple[str, ...],
    answer: Callable[[str], str] = pick_answer,
) -> tuple[Sanic, list[UserMessage]]:
    """The app, and the list of messages it received (as Rasa would get them)."""
    received: list[UserMessage] = []

    async def on_new_message(message: UserMessage) -> None:
        received.append(message)
        content = store.current()
        assert content is not None
        chosen = content.get(answer(message.text or ""))
        assert chosen is not None, "the fake assistant picks answers the content file has"
        data = render_web(chosen.render_data())
        out = message.output_channel
        if data.get("buttons"):
            await out.send_text_with_buttons(message.sender_id, data["text"], data["buttons"])
        else:
            await out.send_text_message(message.sender_id, data["text"])

    settings = dataclasses.replace(get_settings(), socketio_allowed_origins=allowed_origins)
    channel = RestrictedSocketIOInput(session_persistence=True)
    with mock.patch.object(channel_module, "get_settings", return_value=settings):
        blueprint = channel.blueprint(on_new_message)
    app = Sanic(name)
    app.blueprint(blueprint, url_prefix="/webhooks/socketio")
    return app, received
