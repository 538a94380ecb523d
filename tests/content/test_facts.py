"""bot.content.facts: the one reader of locales/facts.yml, and phone numbers in a text."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from bot.content.facts import Fact, find_phone_numbers, load_facts, read_facts
from bot.settings import ROOT

FACTS = ROOT / "locales" / "facts.yml"


def test_phone_numbers_are_told_from_counts() -> None:
    assert find_phone_numbers("200 serveurs, 1 500 PC, 6 349 consultations, 24 h/24, 7 j/7") == []
    assert find_phone_numbers("appelez le 1733 ou le 112, ou le 0800/35.168") == [
        "080035168",
        "1733",
        "112",
    ]


def test_the_project_facts_with_their_numbers_as_written() -> None:
    facts = load_facts(FACTS)
    assert list(facts)[:2] == ["F1", "F2"]
    assert facts["F12"].phones == ("0800/35.168",)
    assert facts["F12"].phone_digits == {"080035168"}
    assert facts["S3"].phones == ("112", "070/245.245")
    assert facts["F11"] == Fact("F11", facts["F11"].summary)
    assert "radiologie" in facts["F11"].summary


def test_read_facts_follows_an_edit_and_survives_a_broken_file(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "facts.yml"
    path.write_text('facts:\n  F1: {summary: "Un.", phones: ["1733"]}\n', encoding="utf-8")
    assert read_facts(path)["F1"].phones == ("1733",)

    path.write_text('facts:\n  F1: {summary: "Deux."}\n  F2: {summary: "Trois."}\n', "utf-8")
    assert [f.summary for f in read_facts(path).values()] == ["Deux.", "Trois."]

    path.write_text("facts: [unclosed\n", encoding="utf-8")
    with caplog.at_level(logging.ERROR):
        assert read_facts(path) == {}
    assert "cannot read the facts" in caplog.text
    assert read_facts(tmp_path / "missing.yml") == {}
