"""The content NLG that Rasa calls for every response."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import Event, SlotSet
from rasa.shared.core.trackers import DialogueStateTracker

from bot.content.gsm7 import is_gsm7
from bot.content.nlg import ContentNaturalLanguageGenerator
from bot.settings import ROOT, get_settings


@pytest.fixture
def domain() -> Domain:
    return Domain.load(str(ROOT / "domain"))


@pytest.fixture
def content_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    target = tmp_path / "locales"
    shutil.copytree(ROOT / "locales", target)
    monkeypatch.setenv("CONTENT_DIR", str(target))
    monkeypatch.setenv("VAR_DIR", str(tmp_path / "var"))
    get_settings.cache_clear()
    yield target
    get_settings.cache_clear()


def tracker(domain: Domain, *events: Event) -> DialogueStateTracker:
    return DialogueStateTracker.from_events("test", list(events), slots=domain.slots)


async def generate(
    nlg: ContentNaturalLanguageGenerator,
    utter_action: str,
    state: DialogueStateTracker,
    output_channel: str,
) -> dict[str, Any]:
    """`nlg.generate`, which answers None only for a response the domain does not have: every
    response asked for here is in the domain."""
    message = await nlg.generate(utter_action, state, output_channel)
    assert message is not None, f"no message for {utter_action}"
    return message


async def test_web_answer_from_the_content_file(domain: Domain, content_dir: Path) -> None:
    nlg = ContentNaturalLanguageGenerator(domain=domain)
    message = await generate(nlg, "utter_er_when", tracker(domain), "collector")
    assert "1733" in message["text"] and message["text"].endswith("Information du 17 mai.")


async def test_sms_answer_is_gsm7(domain: Domain, content_dir: Path) -> None:
    nlg = ContentNaturalLanguageGenerator(domain=domain)
    message = await generate(nlg, "utter_fallback", tracker(domain), "sms")
    assert is_gsm7(message["text"]) and "1. " in message["text"]
    assert message["custom"]["sms_options"]


async def test_the_danger_slot_chooses_the_words_of_the_112_answer(
    domain: Domain, content_dir: Path
) -> None:
    nlg = ContentNaturalLanguageGenerator(domain=domain)
    suicide = await generate(
        nlg, "utter_emergency", tracker(domain, SlotSet("danger", "suicide")), "collector"
    )
    poison = await generate(
        nlg, "utter_emergency", tracker(domain, SlotSet("danger", "poison")), "collector"
    )
    general = await generate(nlg, "utter_emergency", tracker(domain), "collector")
    for message in (suicide, poison, general):
        assert message["text"].startswith("Appelez le 112")
    assert "0800/32.123" in suicide["text"]
    assert "070/245.245" in poison["text"]
    assert "0800/32.123" not in general["text"] and "070/245.245" not in general["text"]


async def test_without_content_the_domain_safe_answers_are_used(
    domain: Domain, content_dir: Path
) -> None:
    (content_dir / "fr" / "answers.yml").unlink()
    nlg = ContentNaturalLanguageGenerator(domain=domain)
    message = await generate(nlg, "utter_radiology", tracker(domain), "collector")
    assert "0800/35.168" in message["text"]
    emergency = await generate(nlg, "utter_emergency", tracker(domain), "collector")
    assert emergency["text"].startswith("Appelez le 112")
