"""The training data, the rules and the held-out sets fit together."""

from __future__ import annotations

from pathlib import Path

import yaml

from bot.settings import ROOT
from bot.text import normalize


def nlu_examples(*paths: Path) -> dict[str, str]:
    examples: dict[str, str] = {}
    for path in paths:
        for item in yaml.safe_load(path.read_text(encoding="utf-8")).get("nlu", []):
            if "intent" not in item:
                continue
            for line in item["examples"].splitlines():
                line = line.strip()
                if line.startswith("- "):
                    examples[normalize(line[2:])] = item["intent"]
    return examples


def test_held_out_examples_are_never_training_examples() -> None:
    training = nlu_examples(*sorted((ROOT / "data" / "nlu").glob("*.yml")))
    heldout = nlu_examples(ROOT / "tests" / "nlu" / "heldout.yml")
    assert not set(training) & set(heldout)
    for path in sorted((ROOT / "tests" / "questions").glob("*.yml")):
        questions = yaml.safe_load(path.read_text(encoding="utf-8"))
        texts = {normalize(t) for case in questions["cases"].values() for t in case["texts"]}
        assert not set(training) & texts, path.name


def test_every_domain_intent_has_training_examples_and_a_rule_or_story() -> None:
    from rasa.shared.core.constants import DEFAULT_INTENTS
    from rasa.shared.core.domain import Domain

    domain = Domain.load(str(ROOT / "domain"))
    training_intents = set(nlu_examples(*sorted((ROOT / "data" / "nlu").glob("*.yml"))).values())
    used: set[str] = set()
    for path in (ROOT / "data").rglob("*.yml"):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for block in (data.get("rules") or []) + (data.get("stories") or []):
            used |= {step["intent"] for step in block.get("steps", []) if "intent" in step}
    for intent in domain.intents:
        if intent in DEFAULT_INTENTS:  # Rasa's own (restart, back, nlu_fallback...)
            continue
        assert intent in training_intents, f"{intent}: no training example"
        assert intent in used, f"{intent}: no rule or story answers it"
