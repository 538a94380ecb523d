"""The SMS channel: Twilio's messaging webhook, answered in the same HTTP response with TwiML.

Configured in credentials.yml as `bot.channels.sms.input.SmsInput:`; Rasa then serves

- `POST /webhooks/sms/webhook`: Twilio's form (From, To, Body, MessageSid, NumMedia, ...),
  answered with `<Response><Message>...</Message></Response>`, so no outbound API call (and no
  Twilio account SID) is needed;
- `GET /webhooks/sms/`: health.

Security and privacy:

- every request must carry a valid `X-Twilio-Signature`, computed with `TWILIO_AUTH_TOKEN`
  (environment / `.env`, never credentials.yml) over `SMS_WEBHOOK_URL` when set (the public
  URL, behind a proxy) or else the URL the request reached; otherwise 403 before anything else
  is read, and nothing about the sender is logged. No token configured: every request is 403;
- the conversation id is the keyed hash of the sender's number (`bot.privacy.hashing.hash_phone`); the
  number itself goes nowhere (not Rasa, not the logs, not the metadata). The metadata carries
  `{"channel": "sms", "sender_phone_hash": <hash>}` for the consultation lookup;
- a message starting with "/" is read as text: nobody triggers an intent directly.

Replies are the project's SMS rendering (the NLG renders for the output channel named "sms":
GSM-7 text, buttons written out as a numbered list, `custom.sms_options` listing them). A digit
reply selects the option of the last message that offered options. Those options are kept for
an hour per hashed number in the database (`bot.channels.sms.options`, the consultations'
database), so that every Rasa process (Sanic worker) sees them, whichever one sent them; if the
database cannot be reached, a digit is passed on as it is. Empty messages, MMS without text and
messages over 1,600 characters get a short polite answer without reaching Rasa; if Rasa fails or
is too slow for Twilio's 15 s, the patient still gets the call centre's number and 112.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any, Protocol
from urllib.parse import parse_qs

from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from twilio.request_validator import RequestValidator

from bot.channels.sms.options import DEFAULT_OPTIONS_TTL_SECONDS, DatabaseOptionStore, Option
from bot.channels.sms.twiml import MAX_BODY_CHARS, sms_bodies, sms_safe, twiml_response
from bot.content.gsm7 import sms_segments, to_gsm7
from bot.content.i18n import _
from bot.content.render import SMS_MAX_SEGMENTS, Button, Rendered, sms_text
from bot.privacy.hashing import hash_phone
from bot.runtime import add_server_listeners
from bot.settings import get_settings
from bot.text import as_plain_text

logger = logging.getLogger(__name__)

CHANNEL_NAME = "sms"

# Twilio gives up on a webhook after 15 s; answer before that, whatever Rasa is doing.
DEFAULT_REPLY_TIMEOUT = 12.0
# Reading or keeping the pending options (a database round trip) never holds the answer longer.
OPTIONS_TIMEOUT = 2.0

TEXT_EMPTY = to_gsm7(
    _("Your message is empty. Write your question in a few words. Life-threatening emergency: 112.")
)
TEXT_MMS = to_gsm7(
    _(
        "Photos and files are not read. Write your question in a few words. "
        "Life-threatening emergency: 112."
    )
)
TEXT_TOO_LONG = to_gsm7(
    _(
        "Your message is too long ({max_chars} characters at most). Ask your question in a few "
        "words. Life-threatening emergency: 112."
    ).format(max_chars=MAX_BODY_CHARS)
)
TEXT_FAILURE = to_gsm7(
    _(
        "Sorry, I cannot answer right now. Call the Vivalia call centre: 0800/35.168, free, "
        "24/7. If a life is in danger, call 112."
    )
)
TEXT_NO_ANSWER = to_gsm7(
    _(
        "I have no answer to this message. Rephrase your question or call 0800/35.168. "
        "If a life is in danger, call 112."
    )
)

FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"
SIGNATURE_HEADER = "X-Twilio-Signature"

# "2", " 2 ", "2." or "2)": the patient picks option 2.
_DIGIT_REPLY = re.compile(r"^\s*(\d{1,2})\s*[.)]?\s*$")


class OptionStore(Protocol):
    """Where the options last offered to each conversation are kept (keys: hashed numbers)."""

    def get(self, key: str) -> list[Option] | None: ...

    def put(self, key: str, options: list[Option]) -> None: ...

    def discard(self, key: str) -> None: ...


def _clean_options(raw: Any) -> list[Option]:
    """Buttons or `sms_options` as [{title, payload}]; anything malformed is left out."""
    options: list[Option] = []
    if not isinstance(raw, list):
        return options
    for item in raw:
        if not isinstance(item, dict):
            continue
        title = item.get("title")
        payload = item.get("payload")
        if not isinstance(payload, str) or not payload.strip():
            payload = title
        if isinstance(payload, str) and payload.strip():
            options.append({"title": str(title or payload), "payload": payload})
    return options


class SmsOutput(CollectingOutputChannel):
    """Collects the bot's messages of one turn, as SMS text.

    Named "sms" so that the project's NLG renders for SMS. Each collected message is
    `{"recipient_id", "text"}` plus, when it offers options, `{"custom": {"sms_options": [...]}}`.
    The text is always GSM-7: an answer that did not come through the SMS rendering (the domain's
    fallback responses, a custom action's buttons) is converted here."""

    @classmethod
    def name(cls) -> str:
        return CHANNEL_NAME

    async def send_response(self, recipient_id: str, message: dict[str, Any]) -> None:
        text = message.get("text") or ""
        custom = message.get("custom")
        options = _clean_options(custom.get("sms_options")) if isinstance(custom, dict) else []
        if options:
            # Already written out as a numbered list by the SMS rendering.
            await self._collect(recipient_id, str(text), options)
        else:
            buttons = _clean_options(message.get("buttons") or message.get("quick_replies"))
            if buttons:
                await self.send_text_with_buttons(recipient_id, str(text), buttons)
            elif text:
                await self.send_text_message(recipient_id, str(text))
        for key in ("image", "attachment"):
            link = message.get(key)
            if isinstance(link, str) and link.strip():
                await self.send_text_message(recipient_id, link)
        # Other custom payloads and carousels mean nothing on a phone: left out.

    async def _collect(self, recipient_id: str, text: str, options: list[Option]) -> None:
        text = sms_safe(text)
        if not text and not options:
            return
        custom = {"sms_options": options} if options else None
        await self._persist_message(self._message(recipient_id, text=text, custom=custom))

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        await self._collect(recipient_id, text, [])

    async def send_text_with_buttons(
        self,
        recipient_id: str,
        text: str,
        buttons: list[dict[str, Any]],
        **kwargs: Any,
    ) -> None:
        options = _clean_options(buttons)
        rendered = Rendered(
            text=text or "",
            buttons=tuple(Button(title=o["title"], payload=o["payload"]) for o in options),
        )
        await self._collect(recipient_id, sms_text(rendered), options)

    async def send_custom_json(
        self, recipient_id: str, json_message: dict[str, Any], **kwargs: Any
    ) -> None:
        options = _clean_options(json_message.get("sms_options"))
        if options:
            await self._collect(recipient_id, "", options)

    async def send_image_url(self, recipient_id: str, image: str, **kwargs: Any) -> None:
        await self.send_text_message(recipient_id, image)

    async def send_attachment(self, recipient_id: str, attachment: str, **kwargs: Any) -> None:
        await self.send_text_message(recipient_id, attachment)

    def texts(self) -> list[str]:
        return [m["text"] for m in self.messages if m.get("text")]

    def last_options(self) -> list[Option]:
        """The options of the last message of this turn that offered some ([] if none)."""
        for m in reversed(self.messages):
            options = (m.get("custom") or {}).get("sms_options")
            if options:
                return list(options)
        return []


def _forbidden() -> HTTPResponse:
    return response.text("Forbidden", status=403)


def _form_params(request: Request) -> dict[str, list[str]]:
    """The POST parameters as Twilio signed them. Sanic's `request.form` drops blank values,
    and Twilio sends (and signs) many blank ones (FromCity=, Body= for an MMS ...)."""
    content_type = request.headers.get("content-type", "")
    if content_type.split(";")[0].strip().lower() != FORM_CONTENT_TYPE:
        return {}
    try:
        body = request.body.decode("utf-8")
    except UnicodeDecodeError:
        return {}
    return parse_qs(body, keep_blank_values=True)


class _Params(dict):
    """`parse_qs` output with the `getlist` that twilio's RequestValidator looks for."""

    def getlist(self, key: str) -> list[str]:
        return list(self[key])


def _first(params: dict[str, list[str]], key: str) -> str | None:
    values = params.get(key)
    return values[0] if values else None


def _num_media(params: dict[str, list[str]]) -> int:
    """How many pictures or files came with the message (0 when the field is missing or not a
    number: it only chooses which reply an empty message gets)."""
    try:
        return int(_first(params, "NumMedia") or "0")
    except ValueError:
        return 0


def body_refusal(body: str, num_media: int) -> str | None:
    """The reply to a message Rasa is not given, or None when it is: an empty body (a photo
    alone is told that photos are not read) or one longer than MAX_BODY_CHARS."""
    if not body:
        return TEXT_MMS if num_media > 0 else TEXT_EMPTY
    if len(body) > MAX_BODY_CHARS:
        return TEXT_TOO_LONG
    return None


class SmsInput(InputChannel):
    """Twilio SMS webhook, answered with TwiML. See the module docstring."""

    @classmethod
    def name(cls) -> str:
        return CHANNEL_NAME

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        """Optional overrides: `reply_timeout` (seconds), `options_ttl_seconds`. The auth token
        is read from TWILIO_AUTH_TOKEN only."""
        credentials = dict(credentials or {})
        for secret in ("auth_token", "account_sid"):
            if credentials.pop(secret, None):
                logger.warning(
                    "sms channel: %s in credentials.yml is ignored; "
                    "set TWILIO_AUTH_TOKEN in the environment (.env)",
                    secret,
                )
        if "options_max_entries" in credentials:
            logger.warning(
                "sms channel: options_max_entries in credentials.yml is ignored; pending options "
                "are kept in the database until they expire (options_ttl_seconds)"
            )
        return cls(
            reply_timeout=float(credentials.get("reply_timeout", DEFAULT_REPLY_TIMEOUT)),
            options_ttl_seconds=float(
                credentials.get("options_ttl_seconds", DEFAULT_OPTIONS_TTL_SECONDS)
            ),
        )

    def __init__(
        self,
        reply_timeout: float = DEFAULT_REPLY_TIMEOUT,
        options_ttl_seconds: float = DEFAULT_OPTIONS_TTL_SECONDS,
        options: OptionStore | None = None,
    ) -> None:
        self.reply_timeout = reply_timeout
        # Nothing touches the database before the first SMS with options (or digit reply).
        self.options: OptionStore = (
            options if options is not None else DatabaseOptionStore(options_ttl_seconds)
        )

    def get_output_channel(self) -> SmsOutput:
        return SmsOutput()

    # -- signature ------------------------------------------------------------------------

    def is_signed(self, request: Request, params: dict[str, list[str]]) -> bool:
        """True only if a token is configured and X-Twilio-Signature matches it, over
        SMS_WEBHOOK_URL when set, else the URL the request reached."""
        try:
            settings = get_settings()
        except Exception as exc:
            logger.error("sms webhook refused: settings cannot be read (%s)", exc)
            return False
        token = settings.twilio_auth_token
        if not token:
            logger.warning("sms webhook refused: TWILIO_AUTH_TOKEN is not set")
            return False
        signature = request.headers.get(SIGNATURE_HEADER)
        if not signature:
            logger.warning("sms webhook refused: no %s header", SIGNATURE_HEADER)
            return False
        url = settings.sms_webhook_url or request.url
        if not RequestValidator(token).validate(url, _Params(params), signature):
            logger.warning(
                "sms webhook refused: bad signature (checked against %s)",
                "SMS_WEBHOOK_URL" if settings.sms_webhook_url else "the request URL",
            )
            return False
        return True

    # -- one message ----------------------------------------------------------------------

    async def _text_for_rasa(self, body: str, sender_hash: str) -> str:
        """The patient's text as Rasa should read it: never an intent ("/greet" is "greet"),
        and a digit answering a numbered list is the chosen option's payload."""
        text = as_plain_text(body.replace("¡", "@"))  # some carriers garble '@' as '¡'
        match = _DIGIT_REPLY.match(text)
        if match:
            options = await self._pending_options(sender_hash)
            index = int(match.group(1))
            if options and 1 <= index <= len(options):
                return options[index - 1]["payload"]
        return text

    async def _pending_options(self, sender_hash: str) -> list[Option] | None:
        try:
            return await asyncio.wait_for(
                asyncio.to_thread(self.options.get, sender_hash), timeout=OPTIONS_TIMEOUT
            )
        except Exception as exc:
            # The digit then goes to Rasa as it is: the patient still gets an answer.
            logger.error("sms: pending options cannot be read (%s)", type(exc).__name__)
            logger.debug("sms: pending options cannot be read", exc_info=True)
            return None

    async def _keep_options(self, sender_hash: str, options: list[Option]) -> None:
        try:
            await asyncio.wait_for(
                asyncio.to_thread(self.options.put, sender_hash, options), timeout=OPTIONS_TIMEOUT
            )
        except Exception as exc:
            # The answer is sent all the same; a digit reply will be passed on as it is.
            logger.error("sms: options cannot be kept (%s)", type(exc).__name__)
            logger.debug("sms: options cannot be kept", exc_info=True)

    async def handle(
        self,
        request: Request,
        on_new_message: Callable[[UserMessage], Awaitable[Any]],
    ) -> HTTPResponse:
        try:
            params = _form_params(request)
            signed = self.is_signed(request, params)
        except Exception as exc:
            logger.error("sms webhook refused: signature check failed (%s)", type(exc).__name__)
            signed = False
        if not signed:
            return _forbidden()
        try:
            return await self._answer(params, on_new_message)
        except Exception as exc:
            # Past the signature, whatever breaks, the patient still gets the call centre.
            logger.error("sms: answering failed (%s)", type(exc).__name__)
            logger.debug("sms: answering failed", exc_info=True)
            return twiml_response([TEXT_FAILURE])

    async def _answer(
        self,
        params: dict[str, list[str]],
        on_new_message: Callable[[UserMessage], Awaitable[Any]],
    ) -> HTTPResponse:
        sender = (_first(params, "From") or "").strip()
        if not sender:
            return response.text("Bad Request: no sender", status=400)
        sender_hash = hash_phone(sender)
        del sender  # from here on, only the hash

        body = (_first(params, "Body") or "").strip()
        refusal = body_refusal(body, _num_media(params))
        if refusal is not None:
            return twiml_response([refusal])
        text = await self._text_for_rasa(body, sender_hash)
        if not text:
            return twiml_response([TEXT_EMPTY])

        collector = self.get_output_channel()
        message = UserMessage(
            text,
            collector,
            sender_hash,
            input_channel=self.name(),
            message_id=_first(params, "MessageSid") or None,
            metadata={"channel": CHANNEL_NAME, "sender_phone_hash": sender_hash},
        )
        if not await self._handled(message, on_new_message):
            return twiml_response([TEXT_FAILURE])
        return await self._reply(collector, sender_hash)

    async def _handled(
        self, message: UserMessage, on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> bool:
        """Whether Rasa handled the message in time; if not, why is logged (never the text nor
        the number) and the patient is to be sent the call centre."""
        try:
            await asyncio.wait_for(on_new_message(message), timeout=self.reply_timeout)
        except asyncio.TimeoutError:
            logger.error("sms: no answer within %.0f s; sent the call centre", self.reply_timeout)
            return False
        except Exception as exc:
            # Neither the text nor the number: the type is enough to look for the cause.
            logger.error("sms: handling the message failed (%s)", type(exc).__name__)
            logger.debug("sms: handling the message failed", exc_info=True)
            return False
        return True

    async def _reply(self, collector: SmsOutput, sender_hash: str) -> HTTPResponse:
        """The TwiML of what Rasa answered; its numbered options are kept first, so that the
        patient's digit reply can be read back as the option's payload."""
        options = collector.last_options()
        if options:
            await self._keep_options(sender_hash, options)
        texts = collector.texts()
        if not texts:
            return twiml_response([TEXT_NO_ANSWER])
        segments = sum(sms_segments(b) for b in sms_bodies(texts))
        if segments > SMS_MAX_SEGMENTS:
            logger.warning("sms: answer of %d segments (more than %d)", segments, SMS_MAX_SEGMENTS)
        return twiml_response(texts)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        sms_webhook = Blueprint("sms_webhook", __name__)

        @sms_webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @sms_webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            return await self.handle(request, on_new_message)

        return add_server_listeners(sms_webhook)
