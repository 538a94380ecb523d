"""The deterministic safety layer: 100 % recall on every emergency phrasing we know of."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bot.safety import GENERAL, POISON, SUICIDE
from bot.safety.patterns import detect_danger

CASES = yaml.safe_load((Path(__file__).parent / "emergencies.yml").read_text(encoding="utf-8"))


@pytest.mark.parametrize(
    ("kind", "text"),
    [(kind, text) for kind in (GENERAL, POISON, SUICIDE) for text in CASES[kind]],
)
def test_every_emergency_is_recognised(kind: str, text: str) -> None:
    danger = detect_danger(text)
    assert danger is not None, f"missed: {text!r}"


@pytest.mark.parametrize("text", CASES[SUICIDE])
def test_suicidal_intent_gets_the_suicide_words(text: str) -> None:
    danger = detect_danger(text)
    assert danger is not None and danger.kind == SUICIDE


@pytest.mark.parametrize("text", CASES[POISON])
def test_poisoning_gets_the_poison_centre(text: str) -> None:
    danger = detect_danger(text)
    assert danger is not None and danger.kind in {POISON, SUICIDE}


@pytest.mark.parametrize("text", CASES["not_emergencies"])
def test_ordinary_questions_are_not_emergencies(text: str) -> None:
    assert detect_danger(text) is None


def test_empty_and_punctuation_only_messages() -> None:
    assert detect_danger("") is None
    assert detect_danger("?!") is None


def test_every_pattern_is_written_as_normalize_writes_text():
    """The patterns run on `bot.text.normalize(text)`: lower case, no accents. An alternative
    written with an accent ("chuté") could never match, and would only look like coverage."""
    import re

    from bot.safety import patterns

    written = [p for kind in patterns.PATTERNS.values() for p in kind]
    written += [p.pattern for p in vars(patterns).values() if isinstance(p, re.Pattern)]
    for pattern in written:
        assert pattern.isascii(), pattern
