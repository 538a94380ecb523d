"""SMS bodies: packed within Twilio's limit, nothing dropped."""

from bot.channels.sms.twiml import MAX_BODY_CHARS, pack_messages


def test_pack_messages_never_drops_text_and_respects_twilio_limit():
    texts = ["a" * 900, "b" * 900, "c " * 1000]
    bodies = pack_messages(texts)

    assert all(len(body) <= MAX_BODY_CHARS for body in bodies)
    joined = "".join(bodies).replace("\n", "").replace(" ", "")
    assert joined == ("a" * 900 + "b" * 900 + "c" * 1000)


def test_pack_messages_joins_what_fits():
    assert pack_messages(["Un.", "Deux."]) == ["Un.\n\nDeux."]
