"""The answers in every language: one `ContentStore` per `locales/<lang>/answers.yml`.

French is the reference: it has every answer the assistant needs. Another language's file
may, for now, carry only some answers; it must carry the safety answers (`SAFETY_KEYS`: the
112 answer and the near-miss closing line), so that a person in danger is told what to do in
their language. An answer a language lacks is said in French rather than not at all.

`translation_problems` checks a translation against the French it translates: the same fact
ids, the same phone numbers, the same variants and placeholders (a translation says what the
French says, nothing more). `make content-check` runs it on every language.

No Rasa import.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bot.content.facts import find_phone_numbers
from bot.content.store import Answer, Content, ContentStore, placeholders, settings_store

REFERENCE_LANGUAGE = "fr"
SAFETY_KEYS = frozenset({"utter_emergency", "utter_if_serious_112"})


@dataclass
class Catalog:
    """The stores of the languages served; `answer(key, language)` with the French fallback."""

    stores: dict[str, ContentStore]
    reference: str = REFERENCE_LANGUAGE

    def content(self, language: str | None) -> Content | None:
        store = self.stores.get(language or self.reference)
        return store.current() if store else None

    def answer(self, key: str, language: str | None) -> tuple[Answer, Content] | None:
        """The answer in that language, else in the reference language, else None."""
        for lang in (language, self.reference):
            content = self.content(lang)
            answer = content.get(key) if content else None
            if answer is not None and content is not None:
                return answer, content
        return None


def language_files(content_dir: Path) -> dict[str, Path]:
    """locales/<lang>/answers.yml of every language present."""
    return {p.parent.name: p for p in sorted(content_dir.glob("*/answers.yml"))}


def required_keys(language: str, domain_keys: set[str]) -> set[str]:
    """What a language's file must carry: everything in French, the safety answers elsewhere."""
    return set(domain_keys) if language == REFERENCE_LANGUAGE else set(SAFETY_KEYS)


def settings_catalog(domain_keys: set[str] | None = None) -> Catalog:
    """The catalog of the configured content directory (bot/settings.py)."""
    from bot.settings import get_settings

    settings = get_settings()
    stores = {
        language: settings_store(required_keys(language, domain_keys or set()), language)
        for language in language_files(settings.content_dir)
    }
    return Catalog(stores, reference=settings.language)


def _texts(answer: Answer) -> list[str]:
    return [answer.text, *(v.text for v in answer.variants)]


def translation_problems(reference: Content, translation: Content) -> list[str]:
    """Each way `translation` says more or other than the French it translates."""
    problems = []
    for key, answer in translation.answers.items():
        where = f"{translation.path}:{answer.line}: {key}: "
        french = reference.get(key)
        if french is None:
            problems.append(where + "no French answer with this key to translate")
            continue
        if set(answer.facts) != set(french.facts):
            problems.append(
                where + f"cites facts {sorted(answer.facts)}, the French {sorted(french.facts)}"
            )
        if [v.when for v in answer.variants] != [v.when for v in french.variants]:
            problems.append(where + "its variants are not those of the French, in that order")
            continue
        for i, (mine, theirs) in enumerate(zip(_texts(answer), _texts(french))):
            label = "text" if i == 0 else f"variant {i}"
            if set(find_phone_numbers(mine)) != set(find_phone_numbers(theirs)):
                problems.append(where + f"{label}: not the phone numbers of the French")
            if placeholders(mine) != placeholders(theirs):
                problems.append(where + f"{label}: not the placeholders of the French")
    return problems
