"""bot.content.catalog: the answers of every language, checked against the French."""

from __future__ import annotations

from pathlib import Path

from bot.content.catalog import SAFETY_KEYS, Catalog, translation_problems
from bot.content.store import ContentStore, load_content
from bot.settings import ROOT

LOCALES = ROOT / "locales"
FACTS = LOCALES / "facts.yml"


def test_every_language_carries_the_safety_answers_and_says_what_the_french_says() -> None:
    french = load_content(LOCALES / "fr" / "answers.yml", FACTS)
    for language in ("nl", "de", "en", "lb"):
        content = load_content(LOCALES / language / "answers.yml", FACTS, set(SAFETY_KEYS))
        assert translation_problems(french, content) == [], language


def test_a_translation_with_another_number_is_refused(tmp_path: Path) -> None:
    french = load_content(LOCALES / "fr" / "answers.yml", FACTS)
    text = (LOCALES / "en" / "answers.yml").read_text(encoding="utf-8")
    wrong = tmp_path / "en" / "answers.yml"
    wrong.parent.mkdir()
    # 0800/35.168 is a number of the facts, but not one the French 112 answer gives
    wrong.write_text(
        text.replace("0800/32.123", "0800/35.168").replace(
            "facts: [S1, S2, S3, F7]", "facts: [S1, S2, S3, F7, F12]"
        ),
        encoding="utf-8",
    )
    problems = translation_problems(french, load_content(wrong, FACTS))
    assert any("not the phone numbers of the French" in p for p in problems)
    assert any("cites facts" in p for p in problems)


def test_an_answer_a_language_lacks_is_said_in_french() -> None:
    catalog = Catalog(
        {lang: ContentStore(LOCALES / lang / "answers.yml", FACTS) for lang in ("fr", "en")}
    )
    emergency = catalog.answer("utter_emergency", "en")
    assert emergency is not None and emergency[1].language == "en"
    situation = catalog.answer("utter_situation", "en")
    assert situation is not None and situation[1].language == "fr"
    assert catalog.answer("utter_emergency", None)[1].language == "fr"  # type: ignore[index]
