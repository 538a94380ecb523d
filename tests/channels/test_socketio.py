"""The website's Socket.IO channel: only the site's origins, only text, only random session ids,
only WebSocket.

Each test runs the channel's blueprint in a real Sanic server on a free port and talks to it over
WebSocket, with a small Socket.IO client written on the `websockets` library (python-engineio
4.15's own WebSocket client needs aiohttp >= 3.10, Rasa pins 3.9), and checks that HTTP
long-polling is refused, python-socketio's own client included.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import uuid
from typing import Any

import aiohttp
import pytest
import socketio
import websockets
from websockets.legacy.client import connect as websocket_connect
from websockets.typing import Origin

from bot.channels.socketio import (
    RestrictedSocketIOInput,
    allowed_origins,
    is_random_session_id,
)
from bot.content.store import ContentStore
from bot.settings import ROOT
from bot.text import as_plain_text
from tests.web.fake_rasa import make_fake_rasa
from tests.web.servers import serving

SITE = "http://localhost:8080"
_names = itertools.count()


@pytest.fixture
def store() -> ContentStore:
    return ContentStore(ROOT / "locales" / "fr" / "answers.yml", ROOT / "locales" / "facts.yml")


@pytest.fixture
async def rasa(store):
    app, received = make_fake_rasa(
        f"fake_rasa_channel_{next(_names)}", store, (SITE, "http://127.0.0.1:8080")
    )
    async with serving(app) as url:
        yield url, received


def _ws_url(url: str) -> str:
    return url.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket"


class Client:
    """A Socket.IO client over WebSocket only (Engine.IO 4, Socket.IO 5, default namespace), as
    the widget connects, that keeps what the server sent."""

    def __init__(self) -> None:
        self.ws: Any = None
        self.confirmed: asyncio.Queue = asyncio.Queue()
        self.uttered: asyncio.Queue = asyncio.Queue()
        self._reader: asyncio.Task | None = None

    @property
    def connected(self) -> bool:
        return self.ws is not None and self.ws.open and self._reader is not None

    async def connect(self, url: str, origin: str | None) -> None:
        """Open the WebSocket and join the namespace; ConnectionError if the server refuses."""
        try:
            header = None if origin is None else Origin(origin)
            self.ws = await websocket_connect(_ws_url(url), origin=header, open_timeout=5)
        except websockets.exceptions.InvalidStatusCode as exc:
            raise ConnectionError(f"refused with HTTP {exc.status_code}") from exc
        opening = await asyncio.wait_for(self.ws.recv(), 5)
        assert opening.startswith("0{"), opening  # engine.io OPEN
        await self.ws.send("40")  # socket.io CONNECT to "/"
        joined = await asyncio.wait_for(self.ws.recv(), 5)
        if not joined.startswith("40"):
            raise ConnectionError(f"namespace refused: {joined}")
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        queues = {"session_confirm": self.confirmed, "bot_uttered": self.uttered}
        try:
            async for packet in self.ws:
                if packet == "2":  # engine.io PING
                    await self.ws.send("3")
                elif packet.startswith("42"):  # socket.io EVENT
                    event, *args = json.loads(packet[2:])
                    if event in queues:
                        queues[event].put_nowait(args[0] if args else None)
        except websockets.exceptions.ConnectionClosed:
            pass

    async def emit(self, event: str, data: Any) -> None:
        await self.ws.send("42" + json.dumps([event, data]))

    async def session(self, session_id: str | None) -> str:
        await self.emit("session_request", {"session_id": session_id})
        return await asyncio.wait_for(self.confirmed.get(), 5)

    async def ask(self, text: str, session_id: str) -> None:
        await self.emit("user_uttered", {"message": text, "session_id": session_id})

    async def replies(self, timeout: float = 5) -> list[dict]:
        first = await asyncio.wait_for(self.uttered.get(), timeout)
        out = [first]
        await asyncio.sleep(0.2)
        while not self.uttered.empty():
            out.append(self.uttered.get_nowait())
        return out

    async def close(self) -> None:
        if self.ws is not None:
            if self.ws.open:
                await self.ws.send("41")  # socket.io DISCONNECT
            await self.ws.close()
        if self._reader is not None:
            await self._reader


@pytest.fixture
async def client():
    c = Client()
    yield c
    await c.close()


# --- Pure functions --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [uuid.uuid4().hex, str(uuid.uuid4()), "0123456789abcdef" * 4, uuid.uuid4().hex * 4],
)
def test_random_ids_are_accepted(value):
    assert is_random_session_id(value)


@pytest.mark.parametrize(
    "value",
    [
        None,
        42,
        "",
        "1",
        "user-1",
        "0" * 32,
        "ab" * 16,
        uuid.uuid4().hex[:31],
        uuid.uuid4().hex.upper(),
        str(uuid.uuid1()),  # time-based, not random
        uuid.uuid4().hex + "g",
        uuid.uuid4().hex * 5,  # 160 digits: too long
    ],
)
def test_guessable_or_malformed_ids_are_refused(value):
    assert not is_random_session_id(value)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("/restart", "restart"),
        ("//greet", "greet"),
        (' / /emergency{"danger": "suicide"}', 'emergency{"danger": "suicide"}'),
        ("Bonjour /restart", "Bonjour /restart"),
        ("0800/35.168 ?", "0800/35.168 ?"),
        ("/", ""),
        (None, ""),
        (["/x"], ""),
    ],
)
def test_a_leading_slash_is_read_as_text(text, expected):
    assert as_plain_text(text) == expected


def test_no_configured_origin_refuses_every_origin_instead_of_accepting_all():
    check = allowed_origins(())
    assert check != []  # [] means "any origin" to python-engineio
    assert callable(check) and check("http://localhost:8080") is False
    assert allowed_origins([" http://a.example/ ", ""]) == ["http://a.example"]


def test_the_channel_keeps_rasas_name_and_credentials():
    channel = RestrictedSocketIOInput.from_credentials(
        {
            "user_message_evt": "user_uttered",
            "bot_message_evt": "bot_uttered",
            "session_persistence": True,
        }
    )
    assert isinstance(channel, RestrictedSocketIOInput)
    assert channel.name() == "socketio"
    assert channel.session_persistence is True


# --- Origins ---------------------------------------------------------------------------------


async def test_the_sites_origin_connects(rasa, client):
    url, _ = rasa
    await client.connect(url, SITE)
    assert client.connected


@pytest.mark.parametrize("origin", ["http://evil.example", "http://localhost:5005", "null"])
async def test_another_origin_is_refused(rasa, origin):
    url, _ = rasa
    c = Client()
    with pytest.raises(ConnectionError):
        await c.connect(url, origin)
    assert not c.connected


async def test_the_sites_origin_opens_a_websocket(rasa):
    url, _ = rasa
    async with websocket_connect(_ws_url(url), origin=Origin(SITE)) as ws:
        opening = await asyncio.wait_for(ws.recv(), 5)
    assert isinstance(opening, str) and opening.startswith("0{")  # engine.io "open" packet


@pytest.mark.parametrize("origin", ["http://evil.example", "http://127.0.0.1:5005"])
async def test_another_origin_cannot_open_a_websocket(rasa, origin):
    url, _ = rasa
    with pytest.raises(websockets.exceptions.InvalidStatusCode) as refused:
        async with websocket_connect(_ws_url(url), origin=origin):
            pass
    assert refused.value.status_code == 400


async def test_a_client_without_origin_header_is_not_a_browser_and_connects(rasa, client):
    url, _ = rasa
    await client.connect(url, None)
    assert client.connected


# --- WebSocket only --------------------------------------------------------------------------


def _polling_url(url: str, query: str = "EIO=4&transport=polling") -> str:
    return f"{url}/socket.io/?{query}"


@pytest.mark.parametrize("origin", [SITE, None])
@pytest.mark.parametrize("query", ["EIO=4&transport=polling", "EIO=4"])  # polling by default
async def test_a_long_polling_handshake_is_refused(rasa, origin, query):
    url, _ = rasa
    headers = {"Origin": origin} if origin else {}
    async with aiohttp.ClientSession() as http:
        async with http.get(_polling_url(url, query), headers=headers) as refused:
            assert refused.status == 400
            assert "Invalid transport" in await refused.text()
        async with http.post(_polling_url(url, query), headers=headers, data="40") as posted:
            assert posted.status == 400


async def test_python_socketios_own_client_cannot_connect_by_polling(rasa):
    url, received = rasa
    async with aiohttp.ClientSession() as http:
        sio = socketio.AsyncClient(reconnection=False, http_session=http)
        with pytest.raises(socketio.exceptions.ConnectionError):
            await sio.connect(url, headers={"Origin": SITE}, transports=["polling"], wait_timeout=5)
        assert not sio.connected
    assert received == []


async def test_another_origins_polling_request_gets_no_cors_header(rasa):
    url, _ = rasa
    async with aiohttp.ClientSession() as http:
        async with http.get(_polling_url(url), headers={"Origin": "http://evil.example"}) as bad:
            assert bad.status == 400
            assert "Access-Control-Allow-Origin" not in bad.headers


# --- Sessions and messages -------------------------------------------------------------------


async def test_a_question_gets_the_answer_in_the_sessions_room(rasa, client):
    url, received = rasa
    await client.connect(url, SITE)
    sid = uuid.uuid4().hex
    assert await client.session(sid) == sid
    await client.ask("Quand faut-il aller aux urgences ?", sid)
    replies = await client.replies()
    texts = [r["text"] for r in replies]
    assert any("1733" in t for t in texts)
    assert texts[-1].endswith("Information du 17 mai.")
    assert received[0].sender_id == sid
    assert received[0].input_channel == "socketio"


async def test_a_slash_command_reaches_rasa_as_plain_text(rasa, client):
    url, received = rasa
    await client.connect(url, SITE)
    sid = uuid.uuid4().hex
    await client.session(sid)
    await client.ask("/restart", sid)
    await client.ask('/emergency{"danger":"suicide"}', sid)
    await client.ask(" / ", sid)  # nothing left: not passed on
    await client.replies()
    await asyncio.sleep(0.3)
    assert [m.text for m in received] == ["restart", 'emergency{"danger":"suicide"}']


async def test_metadata_from_the_browser_is_dropped(rasa, client):
    url, received = rasa
    await client.connect(url, SITE)
    sid = uuid.uuid4().hex
    await client.session(sid)
    await client.emit(
        "user_uttered",
        {"message": "Bonjour", "session_id": sid, "metadata": {"agent": True}},
    )
    await client.replies()
    assert received[0].metadata == {}


async def test_a_buttons_answer_comes_as_quick_replies(rasa, client):
    url, _ = rasa
    await client.connect(url, SITE)
    sid = uuid.uuid4().hex
    await client.session(sid)
    await client.ask("blabla", sid)
    replies = await client.replies()
    with_buttons = [r for r in replies if r.get("quick_replies")]
    assert with_buttons and with_buttons[0]["quick_replies"][0]["title"] == "Aller aux urgences ?"


@pytest.mark.parametrize("bad_id", ["1", "user", "0" * 32, "ab" * 16, "../../x"])
async def test_a_guessable_session_id_is_ignored(rasa, client, bad_id):
    url, received = rasa
    await client.connect(url, SITE)
    await client.emit("session_request", {"session_id": bad_id})
    with pytest.raises(asyncio.TimeoutError):
        await asyncio.wait_for(client.confirmed.get(), 0.5)
    await client.ask("Bonjour", bad_id)
    await asyncio.sleep(0.3)
    assert received == []


async def test_no_session_id_gets_a_random_one_from_the_server(rasa, client):
    url, _ = rasa
    await client.connect(url, SITE)
    assert is_random_session_id(await client.session(None))


async def test_a_message_must_carry_the_session_id_confirmed_to_this_connection(rasa):
    url, received = rasa
    victim, intruder = Client(), Client()
    try:
        await victim.connect(url, SITE)
        await intruder.connect(url, SITE)
        victim_id = uuid.uuid4().hex
        await victim.session(victim_id)
        # Without a session_request, and with one for another id: both ignored.
        await intruder.ask("Bonjour", victim_id)
        await intruder.session(uuid.uuid4().hex)
        await intruder.ask("Bonjour", victim_id)
        await asyncio.sleep(0.3)
        assert received == []
        assert victim.uttered.empty()
    finally:
        await victim.close()
        await intruder.close()


async def test_a_new_conversation_leaves_the_old_room(rasa, client):
    url, received = rasa
    await client.connect(url, SITE)
    first, second = uuid.uuid4().hex, uuid.uuid4().hex
    await client.session(first)
    await client.session(second)
    await client.ask("Bonjour", second)
    await client.replies()
    assert received[-1].sender_id == second
    # An answer for the old conversation no longer reaches this connection.
    await received[-1].output_channel.send_text_message(first, "ancienne")
    await asyncio.sleep(0.3)
    assert client.uttered.empty()


async def test_an_oversized_or_non_text_message_is_ignored(rasa, client):
    url, received = rasa
    await client.connect(url, SITE)
    sid = uuid.uuid4().hex
    await client.session(sid)
    await client.ask("x" * 2001, sid)
    await client.emit("user_uttered", {"message": {"text": "hi"}, "session_id": sid})
    await client.emit("user_uttered", "Bonjour")
    await asyncio.sleep(0.3)
    assert received == []
