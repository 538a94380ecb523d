"""The SMS replies as Twilio reads them: GSM-7 text packed into message bodies, as TwiML.

Pure helpers of the SMS channel (`bot.channels.sms.input`), no Rasa import.
"""

from __future__ import annotations

import re

from sanic import response
from sanic.response import HTTPResponse
from twilio.twiml.messaging_response import MessagingResponse

from bot.content.gsm7 import to_gsm7

# Twilio's own limit for one message body, in and out.
MAX_BODY_CHARS = 1600
# Between two bot messages of one turn, inside one SMS.
MESSAGE_SEPARATOR = "\n\n"
# XML 1.0 forbids these control characters (GSM-7's form feed among them).
_XML_FORBIDDEN = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def sms_safe(text: str) -> str:
    """GSM-7, Unix line breaks, no character XML cannot carry, no blank edges."""
    text = to_gsm7(text.replace("\r\n", "\n").replace("\r", "\n"))
    return _XML_FORBIDDEN.sub("", text).strip()


def pack_messages(texts: list[str], max_chars: int = MAX_BODY_CHARS) -> list[str]:
    """The bot messages of one turn as few SMS bodies as possible: joined into one body, split
    between messages (or, for a single oversized one, between lines or words) only where a
    body would exceed Twilio's 1,600 characters. Nothing is ever dropped."""
    pieces: list[str] = []
    for text in texts:
        pieces.extend(_split_long(text, max_chars))
    bodies: list[str] = []
    current = ""
    for piece in pieces:
        candidate = f"{current}{MESSAGE_SEPARATOR}{piece}" if current else piece
        if len(candidate) <= max_chars:
            current = candidate
        else:
            bodies.append(current)
            current = piece
    if current:
        bodies.append(current)
    return bodies


def _split_long(text: str, max_chars: int) -> list[str]:
    if len(text) <= max_chars:
        return [text]
    parts: list[str] = []
    rest = text
    while len(rest) > max_chars:
        cut = rest.rfind("\n", 0, max_chars + 1)
        if cut <= 0:
            cut = rest.rfind(" ", 0, max_chars + 1)
        if cut <= 0:
            cut = max_chars
        parts.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest:
        parts.append(rest)
    return parts


def sms_bodies(texts: list[str]) -> list[str]:
    """The SMS bodies that carry these texts (GSM-7, XML-safe, packed)."""
    return pack_messages([t for t in (sms_safe(t) for t in texts) if t])


def twiml(texts: list[str]) -> str:
    """`<?xml ...?><Response><Message>...</Message></Response>`, the text XML-escaped."""
    reply = MessagingResponse()
    for body in sms_bodies(texts):
        reply.message(body)
    return str(reply)


def twiml_response(texts: list[str]) -> HTTPResponse:
    return response.text(twiml(texts), content_type="text/xml; charset=utf-8")
