"""The safety corpus (corpus/safety/<lang>.yml, what the danger detector learns from) and its
held-out files (tests/safety/heldout_<lang>.yml, never in the corpus) fit together."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.safety import DANGER_KINDS
from bot.settings import ROOT
from bot.text import normalize

LANGUAGES = ("fr", "nl", "de", "en", "lb")
KINDS = {*DANGER_KINDS, "self_harm"}
WHO = {"self", "present", "far"}
SCOPES = {"negation", "past", "animal", "trivial", "question", "figurative"}


def load(path: Path) -> dict[str, Any]:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def texts(data: dict[str, Any]) -> set[str]:
    return {normalize(x["text"]) for part in ("danger", "not_danger") for x in data[part]}


@pytest.mark.parametrize("language", LANGUAGES)
def test_each_language_has_a_labelled_corpus_and_a_held_out_file(language: str) -> None:
    for path, at_least in (
        (ROOT / "corpus" / "safety" / f"{language}.yml", 300),
        (ROOT / "tests" / "safety" / f"heldout_{language}.yml", 40),
    ):
        data = load(path)
        assert data["language"] == language, path
        assert len(data["danger"]) >= at_least, path
        assert len(data["not_danger"]) >= at_least, path
        for item in data["danger"]:
            assert set(item) == {"text", "kind", "who"}, item
            assert item["kind"] in KINDS and item["who"] in WHO, item
        for item in data["not_danger"]:
            assert set(item) == {"text", "scope"}, item
            assert item["scope"] in SCOPES, item
        # every kind of danger and every kind of near-miss is there
        assert {x["kind"] for x in data["danger"]} == KINDS, path
        assert {x["scope"] for x in data["not_danger"]} == SCOPES, path


def test_held_out_messages_are_never_in_the_corpus() -> None:
    corpus: set[str] = set()
    for language in LANGUAGES:
        corpus |= texts(load(ROOT / "corpus" / "safety" / f"{language}.yml"))
    for language in LANGUAGES:
        heldout = texts(load(ROOT / "tests" / "safety" / f"heldout_{language}.yml"))
        assert not corpus & heldout, language


def test_no_message_is_labelled_twice() -> None:
    for language in LANGUAGES:
        data = load(ROOT / "corpus" / "safety" / f"{language}.yml")
        danger = {normalize(x["text"]) for x in data["danger"]}
        near_miss = {normalize(x["text"]) for x in data["not_danger"]}
        assert not danger & near_miss, language
