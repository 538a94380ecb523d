"""The website's Socket.IO channel: Rasa's own, with three holes closed, over WebSocket only.

Configured in credentials.yml as::

    bot.channels.socketio.RestrictedSocketIOInput:
      user_message_evt: user_uttered
      bot_message_evt: bot_uttered
      session_persistence: true

What changes from `rasa.core.channels.socketio.SocketIOInput` (everything else is Rasa's code,
reached through `super().blueprint()`):

- Origins: Rasa builds its server with ``cors_allowed_origins=[]``, which python-engineio reads
  as "accept any origin". Here only the site's own origins are accepted
  (`SOCKETIO_ALLOWED_ORIGINS`, default http://localhost:8080 and http://127.0.0.1:8080). A
  connection without an Origin header (not a browser) is still accepted: the check protects
  visitors' browsers from other web sites, it is not an authentication.
- Text only: a message starting with "/" would be read by Rasa as an intent or a command
  ("/restart", "/greet{...}"). The leading slashes are stripped so that every message is read as
  words. Metadata sent by the browser is dropped (nothing a browser says is trusted).
- Session ids: a `session_request` whose `session_id` is not a well-formed random id (32 to 128
  hex digits, or a version-4 UUID) is ignored, and a message is accepted only with the session id
  that this connection was confirmed, so that nobody joins or writes to a conversation by
  guessing its id.
- WebSocket only: Rasa's server also accepts HTTP long-polling, whose requests for one
  connection must all reach the process that holds it. With several Rasa processes (Sanic
  workers) behind one port they do not, and the session breaks. A WebSocket is one connection,
  held by one process from start to end, so the server refuses the polling transport (HTTP 400,
  "Invalid transport") and the widget connects with `transports: ["websocket"]`.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.socketio import SocketIOInput
from sanic import Blueprint
from socketio import AsyncServer

from bot.runtime import add_server_listeners
from bot.settings import get_settings
from bot.text import as_plain_text

logger = logging.getLogger(__name__)

# Longest message read from the widget (its text box allows 500 characters).
MAX_MESSAGE_CHARS = 2000

_HEX_ID = re.compile(r"[0-9a-f]{32,128}")
_UUID4 = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")
# python-engineio's `transports`: long-polling is refused (see the module docstring).
TRANSPORTS = ["websocket"]


def is_random_session_id(value: Any) -> bool:
    """A session id that looks drawn at random: 32-128 lower-case hex digits, or a UUID4.

    Ids made of few distinct digits ("000…0", "abab…") are refused as well: a random id of 32 hex
    digits has fewer than 8 distinct digits with a probability below 1e-7.
    """
    if not isinstance(value, str):
        return False
    if _UUID4.fullmatch(value):
        return True
    return bool(_HEX_ID.fullmatch(value)) and len(set(value)) >= 8


def allowed_origins(origins: Iterable[str] | None = None) -> list[str] | Callable[[str], bool]:
    """What python-engineio's `cors_allowed_origins` should be.

    Never the empty list, which engineio reads as "any origin": no configured origin refuses
    every browser origin.
    """
    values = [o.strip().rstrip("/") for o in (origins or ()) if o and o.strip()]
    if not values:
        logger.warning("SOCKETIO_ALLOWED_ORIGINS is empty: every browser origin is refused")
        return lambda origin: False
    if "*" in values:
        logger.warning("SOCKETIO_ALLOWED_ORIGINS contains '*': every origin is accepted")
    return values


def requested_session_id(data: Any) -> str | None:
    """The session id a `session_request` asks for: a new random one when it asks for none,
    None (to be ignored) when the one it names is not well-formed, so that nobody picks an id
    that could be guessed or someone else's."""
    requested = data.get("session_id") if isinstance(data, dict) else None
    if requested is None:
        return uuid.uuid4().hex
    if not is_random_session_id(requested):
        return None
    return requested


def message_text(data: Any) -> str | None:
    """The text of a `user_uttered` payload as Rasa should read it (never an intent), or None
    when there is nothing to read (not an object, no text, longer than MAX_MESSAGE_CHARS)."""
    if not isinstance(data, dict):
        return None
    text = as_plain_text(data.get("message"))
    if not text or len(text) > MAX_MESSAGE_CHARS:
        return None
    return text


class RestrictedSocketIOInput(SocketIOInput):
    """Rasa's Socket.IO input, limited to the site's origins, to text, and to random ids."""

    @classmethod
    def name(cls) -> str:
        return "socketio"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        socketio_webhook = super().blueprint(on_new_message)
        sio = self.sio
        assert sio is not None  # set by super().blueprint()
        sio.eio.cors_allowed_origins = allowed_origins(get_settings().socketio_allowed_origins)
        # Rasa builds the AsyncServer itself; this is what its `transports=` argument sets.
        sio.eio.transports = list(TRANSPORTS)

        namespace = self.namespace or "/"
        rasa_handle_message = sio.handlers[namespace][self.user_message_evt]

        async def session_request(sid: str, data: Any) -> None:
            await self._session_request(sio, namespace, sid, data)

        async def handle_message(sid: str, data: Any) -> None:
            await self._handle_message(sio, namespace, rasa_handle_message, sid, data)

        sio.on("session_request", session_request, namespace=self.namespace)
        sio.on(self.user_message_evt, handle_message, namespace=self.namespace)
        return add_server_listeners(socketio_webhook)

    async def _session_request(self, sio: AsyncServer, namespace: str, sid: str, data: Any) -> None:
        """Confirm a well-formed session id to this connection (and, with session persistence,
        move the connection to that session's room); a malformed one is ignored."""
        requested = requested_session_id(data)
        if requested is None:
            logger.info("socketio: session_request with a malformed session id ignored")
            return
        session = await sio.get_session(sid, namespace=namespace)
        previous = session.get("session_id")
        if self.session_persistence:
            if previous and previous != requested:
                sio.leave_room(sid, previous, namespace=namespace)
            sio.enter_room(sid, requested, namespace=namespace)
        session["session_id"] = requested
        await sio.save_session(sid, session, namespace=namespace)
        await sio.emit("session_confirm", requested, room=sid, namespace=namespace)

    async def _handle_message(
        self,
        sio: AsyncServer,
        namespace: str,
        rasa_handle_message: Callable[[str, dict], Awaitable[Any]],
        sid: str,
        data: Any,
    ) -> None:
        """Pass a message on to Rasa's handler as plain text, without the browser's metadata,
        and only for the session id this connection was confirmed (with session persistence)."""
        text = message_text(data)
        if text is None:
            return
        session_id = data.get("session_id")
        if self.session_persistence and not await self._is_confirmed(
            sio, namespace, sid, session_id
        ):
            logger.info("socketio: message for an unconfirmed session ignored")
            return
        await rasa_handle_message(sid, {"message": text, "session_id": session_id})

    @staticmethod
    async def _is_confirmed(sio: AsyncServer, namespace: str, sid: str, session_id: Any) -> bool:
        """Whether `session_id` is the one this connection was confirmed."""
        confirmed = (await sio.get_session(sid, namespace=namespace)).get("session_id")
        return bool(confirmed) and session_id == confirmed
