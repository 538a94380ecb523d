"""End-to-end over SMS: a Twilio-signed request to the running assistant gets TwiML."""

from __future__ import annotations

import re
import urllib.error
import urllib.parse
import urllib.request
import uuid
from xml.etree import ElementTree

import pytest
from twilio.request_validator import RequestValidator

from bot.content.gsm7 import is_gsm7, sms_segments
from tests.live.stack import LiveStack


def sms(
    stack: LiveStack, body: str, sender: str, signature: str | None = "valid"
) -> tuple[int, str]:
    url = f"{stack.rasa_url}/webhooks/sms/webhook"
    params = {
        "From": sender,
        "To": "+3280000000",
        "Body": body,
        "MessageSid": "SM" + uuid.uuid4().hex,
        "NumMedia": "0",
    }
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    if signature == "valid":
        headers["X-Twilio-Signature"] = RequestValidator(stack.twilio_token).compute_signature(
            url, params
        )
    elif signature is not None:
        headers["X-Twilio-Signature"] = signature
    request = urllib.request.Request(
        url, data=urllib.parse.urlencode(params).encode(), headers=headers
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode(errors="replace")


def texts(twiml: str) -> list[str]:
    return [m.text or "" for m in ElementTree.fromstring(twiml).iter("Message")]


def a_number() -> str:
    return "+3247" + str(uuid.uuid4().int)[:7]


def test_a_signed_sms_gets_the_answer_in_twiml(live_stack: LiveStack) -> None:
    status, body = sms(live_stack, "Mon IRM de jeudi est maintenue ?", a_number())
    assert status == 200
    (text,) = texts(body)
    assert "suspendu" in text and is_gsm7(text) and sms_segments(text) <= 3


def test_an_emergency_by_sms_gets_112_first(live_stack: LiveStack) -> None:
    status, body = sms(live_stack, "mon fils a avale des piles", a_number())
    assert status == 200
    (text,) = texts(body)
    assert re.match(r"Appelez le 112", text) and "070/245.245" in text


@pytest.mark.parametrize("signature", [None, "bm90IGEgc2lnbmF0dXJl"])
def test_unsigned_or_badly_signed_sms_are_refused(live_stack: LiveStack, signature) -> None:
    status, _ = sms(live_stack, "bonjour", a_number(), signature=signature)
    assert status == 403


def test_a_digit_reply_picks_the_numbered_option(live_stack: LiveStack) -> None:
    sender = a_number()
    _, body = sms(live_stack, "xqzt blorp wvvk", sender)
    (text,) = texts(body)
    assert "1. " in text  # the "not understood" answer numbers its topics
    _, body = sms(live_stack, "1", sender)
    (text,) = texts(body)
    assert "1733" in text  # option 1: when to go to the emergency department
