"""The SMS channel, served by a real Sanic server on the loopback interface.

The channel's blueprint is mounted as Rasa mounts it (`/webhooks/sms`), with a fake
`on_new_message` that records each UserMessage and answers through the output channel it was
given, the way Rasa's processor does (`send_response` with the NLG's message). Requests are
signed with twilio's own RequestValidator.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import socket
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import pytest
from rasa.core.channels.channel import UserMessage, register
from rasa.shared.utils.common import class_from_module_path
from sanic import Sanic
from twilio.request_validator import RequestValidator

from bot.channels.sms.input import (
    TEXT_EMPTY,
    TEXT_FAILURE,
    TEXT_MMS,
    TEXT_NO_ANSWER,
    TEXT_TOO_LONG,
    SmsInput,
    SmsOutput,
)
from bot.channels.sms.twiml import MAX_BODY_CHARS
from bot.content.gsm7 import is_gsm7, sms_segments
from bot.content.render import Button, Rendered, render_sms
from bot.privacy.hashing import hash_phone
from bot.settings import get_settings

TOKEN = "test-auth-token-0123456789abcdef"
PHONE = "+32470123456"
PUBLIC_URL = "https://sms.vivalia.example/webhooks/sms/webhook"

_app_ids = itertools.count()

Reply = Callable[[UserMessage], Awaitable[None]]


# -- settings ---------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def settings_env(isolated_settings, monkeypatch: pytest.MonkeyPatch):
    """The isolated settings of tests/conftest.py (secrets and databases, among them the one of
    the pending options, in tmp_path), with the SMS channel's own variables set, even to "", so
    that a developer's .env, loaded without overriding, changes nothing."""
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", TOKEN)
    monkeypatch.setenv("SMS_WEBHOOK_URL", "")
    get_settings.cache_clear()
    return monkeypatch


def set_env(monkeypatch: pytest.MonkeyPatch, name: str, value: str) -> None:
    monkeypatch.setenv(name, value)
    get_settings.cache_clear()


# -- a fake Rasa ------------------------------------------------------------------------------


@dataclass
class FakeRasa:
    """Records what reaches 'Rasa' and answers with `reply` (by default an echo)."""

    received: list[UserMessage] = field(default_factory=list)
    reply: Reply | None = None

    async def on_new_message(self, message: UserMessage) -> None:
        self.received.append(message)
        if self.reply is not None:
            await self.reply(message)
        else:
            await say(message, f"Vous avez écrit : {message.text}")

    @property
    def last(self) -> UserMessage:
        return self.received[-1]


async def say(message: UserMessage, text: str, **extra: Any) -> None:
    """What Rasa's processor does with one BotUttered event."""
    bot_message = {"text": text, "timestamp": 1_700_000_000.0, **extra}
    await message.output_channel.send_response(message.sender_id, bot_message)


async def say_rendered(message: UserMessage, answer: Rendered) -> None:
    """An answer as the project's NLG renders it for the "sms" output channel."""
    assert message.output_channel.name() == "sms"
    rendered = render_sms(answer)
    await say(message, rendered.pop("text"), **rendered)


MENU = Rendered(
    text="De quoi avez-vous besoin ?",
    buttons=(
        Button("Mes consultations", "/consultation_status"),
        Button("Les urgences", "/emergency_info"),
        Button("Parler à quelqu’un", "/call_centre"),
    ),
)


# -- the server -------------------------------------------------------------------------------


@dataclass
class Server:
    base: str
    rasa: FakeRasa
    channel: SmsInput
    session: aiohttp.ClientSession

    @property
    def webhook(self) -> str:
        return f"{self.base}/webhooks/sms/webhook"

    async def post(
        self,
        params: dict[str, str],
        *,
        token: str | None = TOKEN,
        sign_url: str | None = None,
        signature: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, str, str]:
        """POST a Twilio-shaped form, signed with `token` over `sign_url` (default: the URL
        posted to) unless `signature` is given or `token` is None (unsigned)."""
        all_headers = dict(headers or {})
        if signature is not None:
            all_headers["X-Twilio-Signature"] = signature
        elif token is not None:
            all_headers["X-Twilio-Signature"] = RequestValidator(token).compute_signature(
                sign_url or self.webhook, params
            )
        async with self.session.post(self.webhook, data=params, headers=all_headers) as resp:
            return resp.status, resp.headers.get("Content-Type", ""), await resp.text()

    async def sms(self, body: str, **extra: str) -> tuple[int, str, str]:
        return await self.post(twilio_form(body, **extra))


def twilio_form(body: str, sender: str = PHONE, **extra: str) -> dict[str, str]:
    """The fields Twilio posts for an incoming SMS, blank ones included."""
    form = {
        "ToCountry": "BE",
        "ToState": "",
        "SmsMessageSid": "SM0123456789abcdef0123456789abcdef",
        "NumMedia": "0",
        "ToCity": "",
        "FromZip": "",
        "SmsSid": "SM0123456789abcdef0123456789abcdef",
        "FromState": "",
        "SmsStatus": "received",
        "FromCity": "",
        "Body": body,
        "FromCountry": "BE",
        "To": "+3261000000",
        "ToZip": "",
        "NumSegments": "1",
        "MessageSid": "SM0123456789abcdef0123456789abcdef",
        "AccountSid": "AC0123456789abcdef0123456789abcdef",
        "From": sender,
        "ApiVersion": "2010-04-01",
    }
    form.update(extra)
    return form


def messages(twiml: str) -> list[str]:
    root = ET.fromstring(twiml)
    assert root.tag == "Response"
    return [m.text or "" for m in root.findall("Message")]


@asynccontextmanager
async def serving(app: Sanic) -> AsyncIterator[str]:
    """Serve `app` on a free loopback port; yields its base URL."""
    # Sanic 21.12 rewrites its own protocol methods at each start-up ("touch-up"); a second app
    # started in one process fails unless test mode keeps the originals (as sanic-testing does).
    Sanic.test_mode = True
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    port = sock.getsockname()[1]
    sanic_server = await app.create_server(sock=sock, return_asyncio_server=True, access_log=False)
    assert sanic_server is not None
    await sanic_server.startup()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await sanic_server.before_stop()
        closing = sanic_server.close()
        if closing is not None:
            await closing
        await sanic_server.after_stop()
        sock.close()


@pytest.fixture
async def server() -> AsyncIterator[Server]:
    rasa = FakeRasa()
    channel = SmsInput(reply_timeout=2.0)
    app = Sanic(f"sms_test_{next(_app_ids)}")
    app.blueprint(channel.blueprint(rasa.on_new_message), url_prefix="/webhooks/sms")
    async with serving(app) as base, aiohttp.ClientSession() as session:
        yield Server(base, rasa, channel, session)


# -- signature --------------------------------------------------------------------------------


async def test_signed_sms_gets_twiml_with_the_answer(server: Server):
    status, content_type, body = await server.sms("Bonjour")

    assert status == 200
    assert content_type.startswith("text/xml")
    assert body.startswith('<?xml version="1.0" encoding="UTF-8"?><Response><Message>')
    assert messages(body) == ["Vous avez écrit : Bonjour"]
    assert len(server.rasa.received) == 1
    assert server.rasa.last.text == "Bonjour"
    assert server.rasa.last.input_channel == "sms"
    assert server.rasa.last.output_channel.name() == "sms"
    assert isinstance(server.rasa.last.output_channel, SmsOutput)
    assert server.rasa.last.message_id == "SM0123456789abcdef0123456789abcdef"


async def test_unsigned_sms_is_refused_and_reaches_nothing(server: Server):
    status, _, body = await server.post(twilio_form("Bonjour"), token=None)

    assert status == 403
    assert "Bonjour" not in body
    assert server.rasa.received == []


async def test_sms_signed_with_another_token_is_refused(server: Server):
    status, _, _ = await server.post(twilio_form("Bonjour"), token="not-the-token")

    assert status == 403
    assert server.rasa.received == []


async def test_tampered_sms_is_refused(server: Server):
    params = twilio_form("Bonjour")
    signature = RequestValidator(TOKEN).compute_signature(server.webhook, params)
    tampered = {**params, "Body": "Autre chose"}

    status, _, _ = await server.post(tampered, signature=signature)

    assert status == 403
    assert server.rasa.received == []


async def test_garbage_signature_is_refused(server: Server):
    status, _, _ = await server.post(twilio_form("Bonjour"), signature="AAAA")

    assert status == 403
    assert server.rasa.received == []


async def test_no_token_configured_refuses_everything(server: Server, settings_env):
    set_env(settings_env, "TWILIO_AUTH_TOKEN", "")

    # Even a request "signed" with the empty token.
    status, _, _ = await server.post(twilio_form("Bonjour"), token="")

    assert status == 403
    assert server.rasa.received == []


async def test_signature_is_checked_against_sms_webhook_url_when_set(server: Server, settings_env):
    set_env(settings_env, "SMS_WEBHOOK_URL", PUBLIC_URL)

    status, _, body = await server.post(twilio_form("Bonjour"), sign_url=PUBLIC_URL)
    assert status == 200
    assert messages(body) == ["Vous avez écrit : Bonjour"]

    # Signed for the URL the request reached, but the public URL is what Twilio signs.
    status, _, _ = await server.post(twilio_form("Bonjour"))
    assert status == 403
    assert len(server.rasa.received) == 1


async def test_signature_with_the_port_in_the_public_url_is_accepted(server: Server, settings_env):
    set_env(settings_env, "SMS_WEBHOOK_URL", PUBLIC_URL)
    with_port = PUBLIC_URL.replace("sms.vivalia.example", "sms.vivalia.example:443")

    status, _, _ = await server.post(twilio_form("Bonjour"), sign_url=with_port)

    assert status == 200


async def test_blank_twilio_fields_are_part_of_the_signature(server: Server):
    # Twilio signs FromCity=, ToZip= ... too; Sanic's request.form would drop them.
    params = twilio_form("Bonjour")
    assert any(value == "" for value in params.values())

    status, _, _ = await server.post(params)

    assert status == 200


async def test_refusal_logs_nothing_about_the_sender(server: Server, caplog):
    caplog.set_level(logging.DEBUG)

    await server.post(twilio_form("Bonjour"), token=None)
    await server.post(twilio_form("Bonjour"), token="not-the-token")

    assert PHONE not in caplog.text
    assert PHONE.lstrip("+") not in caplog.text


async def test_health(server: Server):
    async with server.session.get(f"{server.base}/webhooks/sms/") as resp:
        assert resp.status == 200
        assert await resp.json() == {"status": "ok"}


# -- privacy ----------------------------------------------------------------------------------


async def test_conversation_is_keyed_on_the_hash_of_the_number(server: Server, caplog):
    caplog.set_level(logging.DEBUG)

    status, _, body = await server.sms("Bonjour")

    assert status == 200
    message = server.rasa.last
    assert message.sender_id == hash_phone(PHONE)
    assert PHONE not in message.sender_id
    assert PHONE.lstrip("+") not in message.sender_id
    assert message.metadata == {"channel": "sms", "sender_phone_hash": hash_phone(PHONE)}
    assert PHONE not in caplog.text
    assert PHONE not in body


async def test_two_numbers_are_two_conversations(server: Server):
    await server.sms("Bonjour")
    await server.sms("Bonjour", sender="+32470999999")

    first, second = server.rasa.received
    assert first.sender_id != second.sender_id


# -- replies ----------------------------------------------------------------------------------


async def test_numbered_options_are_sent_and_a_digit_selects_one(server: Server):
    async def menu_then_echo(message: UserMessage) -> None:
        if message.text == "menu":
            await say_rendered(message, MENU)
        else:
            await say(message, f"Choix : {message.text}")

    server.rasa.reply = menu_then_echo

    _, _, body = await server.sms("menu")
    (text,) = messages(body)
    assert "1. Mes consultations" in text
    assert "3. Parler à quelqu'un" in text  # GSM-7 has "à" but not "’"

    _, _, body = await server.sms(" 2 ")
    assert server.rasa.last.text == "/emergency_info"
    assert messages(body) == ["Choix : /emergency_info"]

    # The options of the last message that offered some still hold.
    await server.sms("3")
    assert server.rasa.last.text == "/call_centre"


async def test_digit_out_of_range_or_without_options_is_passed_as_is(server: Server):
    await server.sms("1")
    assert server.rasa.last.text == "1"

    server.rasa.reply = lambda message: say_rendered(message, MENU)
    await server.sms("menu")
    await server.sms("7")
    assert server.rasa.last.text == "7"


async def test_options_are_per_conversation(server: Server):
    server.rasa.reply = lambda message: say_rendered(message, MENU)
    await server.sms("menu")

    await server.sms("1", sender="+32470999999")

    assert server.rasa.last.text == "1"


async def test_plain_buttons_are_numbered_and_selectable(server: Server):
    # A response that did not come through the SMS rendering (domain fallback, custom action).
    async def buttons(message: UserMessage) -> None:
        await say(
            message,
            "Voulez-vous être rappelé ?",
            buttons=[{"title": "Oui", "payload": "/affirm"}, {"title": "Non", "payload": "/deny"}],
        )

    server.rasa.reply = buttons
    _, _, body = await server.sms("rappel")
    (text,) = messages(body)
    assert "1. Oui" in text and "2. Non" in text
    assert is_gsm7(text)

    await server.sms("2")
    assert server.rasa.received[-1].text == "/deny"


async def test_several_bot_messages_make_one_sms(server: Server):
    async def two(message: UserMessage) -> None:
        await say(message, "Première partie.")
        await say(message, "Seconde partie.")

    server.rasa.reply = two
    _, _, body = await server.sms("Bonjour")

    assert messages(body) == ["Première partie.\n\nSeconde partie."]


async def test_answer_is_gsm7_and_xml_escaped(server: Server):
    async def tricky(message: UserMessage) -> None:
        await say(message, "A < B & C > D — « vrai » œuvre </Message><Message>x")

    server.rasa.reply = tricky
    status, _, body = await server.sms("Bonjour")

    assert status == 200
    assert "&lt;/Message&gt;" in body
    assert "&amp;" in body
    (text,) = messages(body)
    assert text == 'A < B & C > D - "vrai" oeuvre </Message><Message>x'
    assert is_gsm7(text)


async def test_no_answer_from_rasa_still_answers(server: Server):
    async def silent(message: UserMessage) -> None:
        return None

    server.rasa.reply = silent
    _, _, body = await server.sms("Bonjour")

    assert messages(body) == [TEXT_NO_ANSWER]


async def test_longest_answer_fits_three_segments(server: Server):
    long_answer = Rendered(text="Information importante. " * 14, buttons=MENU.buttons)
    server.rasa.reply = lambda message: say_rendered(message, long_answer)

    _, _, body = await server.sms("Bonjour")

    (text,) = messages(body)
    assert sms_segments(text) <= 3


# -- messages that never reach Rasa -----------------------------------------------------------


@pytest.mark.parametrize("body", ["", "   ", "\n"])
async def test_empty_sms_gets_a_polite_answer(server: Server, body: str):
    status, content_type, twiml = await server.sms(body)

    assert status == 200
    assert content_type.startswith("text/xml")
    assert messages(twiml) == [TEXT_EMPTY]
    assert "112" in TEXT_EMPTY
    assert server.rasa.received == []


async def test_mms_without_text_gets_a_polite_answer(server: Server):
    status, _, twiml = await server.post(
        twilio_form(
            "",
            NumMedia="1",
            MediaUrl0="https://api.twilio.example/media/ME0",
            MediaContentType0="image/jpeg",
        )
    )

    assert status == 200
    assert messages(twiml) == [TEXT_MMS]
    assert server.rasa.received == []


async def test_mms_with_text_reads_the_text(server: Server):
    status, _, _ = await server.post(twilio_form("Ma convocation", NumMedia="1"))

    assert status == 200
    assert server.rasa.last.text == "Ma convocation"


async def test_too_long_sms_gets_a_polite_answer(server: Server):
    status, _, twiml = await server.sms("a" * (MAX_BODY_CHARS + 1))

    assert status == 200
    assert messages(twiml) == [TEXT_TOO_LONG]
    assert server.rasa.received == []


async def test_sms_of_exactly_the_limit_is_read(server: Server):
    status, _, _ = await server.sms("a" * MAX_BODY_CHARS)

    assert status == 200
    assert len(server.rasa.received) == 1


@pytest.mark.parametrize(
    ("body", "text"), [("/greet", "greet"), ("//restart", "restart"), (" / stop", "stop")]
)
async def test_slash_commands_are_read_as_text(server: Server, body: str, text: str):
    await server.sms(body)

    assert server.rasa.last.text == text


async def test_only_slashes_is_an_empty_message(server: Server):
    _, _, twiml = await server.sms("///")

    assert messages(twiml) == [TEXT_EMPTY]
    assert server.rasa.received == []


def test_polite_texts_are_gsm7_and_short():
    for text in (TEXT_EMPTY, TEXT_MMS, TEXT_TOO_LONG, TEXT_FAILURE, TEXT_NO_ANSWER):
        assert is_gsm7(text)
        assert sms_segments(text) <= 2
        assert "112" in text
    assert "0800/35.168" in TEXT_FAILURE


# -- failures ---------------------------------------------------------------------------------


async def test_rasa_failure_gets_the_call_centre_not_a_500(server: Server, caplog):
    async def broken(message: UserMessage) -> None:
        raise RuntimeError(f"tracker store down for {message.text}")

    server.rasa.reply = broken
    caplog.set_level(logging.DEBUG)
    status, content_type, twiml = await server.sms("Ma consultation de demain")

    assert status == 200
    assert content_type.startswith("text/xml")
    (text,) = messages(twiml)
    assert "0800/35.168" in text and "112" in text
    assert PHONE not in caplog.text


async def test_slow_rasa_gets_the_call_centre_before_twilio_gives_up(server: Server):
    async def slow(message: UserMessage) -> None:
        await asyncio.sleep(5)

    server.rasa.reply = slow
    server.channel.reply_timeout = 0.2
    status, _, twiml = await server.sms("Bonjour")

    assert status == 200
    assert messages(twiml) == [TEXT_FAILURE]


async def test_crash_in_the_signature_check_is_a_refusal(server: Server, monkeypatch):
    def explode(*args: Any, **kwargs: Any) -> bool:
        raise ValueError("boom")

    monkeypatch.setattr(RequestValidator, "validate", explode)
    status, _, _ = await server.sms("Bonjour")

    assert status == 403
    assert server.rasa.received == []


async def test_crash_after_the_signature_still_answers(server: Server, monkeypatch):
    def explode(e164: str) -> str:
        raise RuntimeError("no key")

    monkeypatch.setattr("bot.channels.sms.input.hash_phone", explode)
    status, _, twiml = await server.sms("Bonjour")

    assert status == 200
    assert messages(twiml) == [TEXT_FAILURE]


async def test_missing_sender_is_a_bad_request(server: Server):
    params = twilio_form("Bonjour")
    del params["From"]

    status, _, _ = await server.post(params)

    assert status == 400
    assert server.rasa.received == []


# -- configuration ----------------------------------------------------------------------------


def test_channel_name_and_route():
    channel = SmsInput.from_credentials(None)
    assert channel.name() == "sms"
    assert channel.url_prefix() == "sms"
    assert SmsOutput.name() == "sms"


async def test_mounted_as_rasa_mounts_it_from_credentials_yml():
    """`bot.channels.sms.input.SmsInput:` in credentials.yml: Rasa loads the class by its path, calls
    from_credentials(None) and registers it under /webhooks/ with agent.handle_message."""
    rasa = FakeRasa()
    channel_class = class_from_module_path("bot.channels.sms.input.SmsInput")
    channel = channel_class.from_credentials(None)
    app = Sanic(f"sms_test_{next(_app_ids)}")
    app.ctx.agent = type("Agent", (), {"handle_message": staticmethod(rasa.on_new_message)})()
    register([channel], app, route="/webhooks/")

    async with serving(app) as base, aiohttp.ClientSession() as session:
        url = f"{base}/webhooks/sms/webhook"
        params = twilio_form("Bonjour")
        signature = RequestValidator(TOKEN).compute_signature(url, params)
        async with session.post(url, data=params, headers={"X-Twilio-Signature": signature}) as r:
            assert r.status == 200
            assert messages(await r.text()) == ["Vous avez écrit : Bonjour"]
        async with session.get(f"{base}/webhooks/sms/") as r:
            assert r.status == 200


def test_token_in_credentials_is_ignored(caplog):
    caplog.set_level(logging.WARNING)
    channel = SmsInput.from_credentials({"auth_token": "from-yaml", "reply_timeout": 5})

    assert isinstance(channel, SmsInput)
    assert channel.reply_timeout == 5.0
    assert "from-yaml" not in repr(vars(channel))
    assert "ignored" in caplog.text
