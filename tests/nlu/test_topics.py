"""bot.nlu.topics: the words that settle which fact of the communiqué a message is about."""

from __future__ import annotations

import re

import pytest

from bot.nlu import topics
from bot.nlu.topics import detect_topics


@pytest.mark.parametrize(
    ("text", "topics"),
    [
        ("Mon IRM de demain est-elle maintenue ?", {"radiology"}),
        ("mammo de depistage", {"radiology"}),
        ("angioscanner jeudi", {"radiology"}),
        ("ma chimio et mon scanner", {"essential_followup", "radiology"}),
        ("je suis enceinte, j'ai une échographie", {"pregnancy"}),
        ("enceinte, échographie et radio du poignet", {"pregnancy", "radiology"}),
        ("mon opération de la hanche", {"operations"}),
        ("Bertrix, les consultations ont lieu ?", {"bertrix"}),
        ("rdv dermato + IRM", {"consultation_status", "radiology"}),
        ("ma consultation en oncologie", {"essential_followup"}),
        ("je l'ai entendu à la radio", set()),
        ("les urgences sont ouvertes ?", set()),
    ],
)
def test_topics(text: str, topics: set[str]) -> None:
    assert detect_topics(text) == topics


def test_every_topic_pattern_is_written_as_normalize_writes_text():
    """The topic words are matched on `bot.text.normalize(text)` (no accents): an alternative
    written with an accent ("platré") could never match."""
    for value in vars(topics).values():
        patterns = value.values() if isinstance(value, dict) else [value]
        for pattern in patterns:
            if isinstance(pattern, re.Pattern):
                assert pattern.pattern.isascii(), pattern.pattern
