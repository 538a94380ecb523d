"""bot.nlu.language: the language of a message among the five the province's public writes in,
or no answer when a message is too short or unclear to tell."""

from __future__ import annotations

import pytest
import yaml

from bot.nlu.language import LANGUAGES, identify
from bot.settings import ROOT

# Measured on the safety corpus when this test was written (right / no answer / wrong):
# fr 1393/27/6 of 1426, nl 1264/8/2 of 1274, de 1348/12/2 of 1362, en 1322/22/2 of 1346,
# lb 1224/59/47 of 1330 (Luxembourgish is taken for German now and then).
RIGHT_AT_LEAST = {"fr": 0.97, "nl": 0.98, "de": 0.98, "en": 0.97, "lb": 0.91}
WRONG_AT_MOST = {"fr": 0.01, "nl": 0.01, "de": 0.01, "en": 0.01, "lb": 0.04}


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_language_of_the_corpus_messages_is_told(language: str) -> None:
    data = yaml.safe_load((ROOT / "corpus" / "safety" / f"{language}.yml").read_text("utf-8"))
    texts = [x["text"] for part in ("danger", "not_danger") for x in data[part]]
    found = [identify(t) for t in texts]
    right = sum(f == language for f in found) / len(texts)
    wrong = sum(f not in (language, None) for f in found) / len(texts)
    assert right >= RIGHT_AT_LEAST[language], right
    assert wrong <= WRONG_AT_MOST[language], wrong


@pytest.mark.parametrize(
    "text", ["ok", "merci", "bonjour", "hallo", "dank u", "danke schön", "help", "C18100145"]
)
def test_a_message_too_short_to_tell_has_no_language(text: str) -> None:
    assert identify(text) is None


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("/er_when mon mari ne respire plus", "fr"),  # a "/command" is not English
        ("is mijn afspraak van dinsdag geannuleerd", "nl"),
        ("ist mein Termin am Dienstag abgesagt", "de"),
        ("is my appointment on Tuesday cancelled", "en"),
    ],
)
def test_codes_and_commands_do_not_sway_the_language(text: str, language: str) -> None:
    assert identify(text) == language
