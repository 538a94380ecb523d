"""bot.content.gsm7: the SMS alphabet and what a text costs in segments."""

from __future__ import annotations

from bot.content.gsm7 import is_gsm7, sms_segments, to_gsm7


def test_gsm7_replaces_french_characters_outside_the_alphabet() -> None:
    assert (
        to_gsm7("être, âge, île, côte, sûr, garçon, cœur")
        == "etre, age, ile, cote, sur, garcon, coeur"
    )
    assert (
        to_gsm7("« guillemets » et l’apostrophe – tiret…")
        == '"guillemets" et l\'apostrophe - tiret...'
    )
    # é, è, à, ù are GSM-7 and stay as they are
    assert to_gsm7("été à où très") == "été à où très"
    assert is_gsm7(to_gsm7("Œuvre ÊTRE naïve ☺"))


def test_segments_gsm7_and_ucs2() -> None:
    assert sms_segments("a" * 160) == 1
    assert sms_segments("a" * 161) == 2
    assert sms_segments("a" * 459) == 3
    assert sms_segments("a" * 460) == 4
    assert sms_segments("€" * 80) == 1  # extension characters count twice
    assert sms_segments("€" * 81) == 2
    assert sms_segments("ê" * 70) == 1  # outside GSM-7: UCS-2, 70 per segment
    assert sms_segments("ê" * 71) == 2
