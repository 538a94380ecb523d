"""The danger detector, trained once per session as `make train` trains it (the corpus and the
NLU examples), for the detector's and the guard's tests."""

from __future__ import annotations

import pytest
import yaml

from bot.safety.detector import DangerModel, corpus_examples, intent_examples, train
from bot.settings import ROOT


def nlu_examples() -> list[tuple[str, str]]:
    examples = []
    for path in sorted((ROOT / "data" / "nlu").glob("*.yml")):
        for item in yaml.safe_load(path.read_text(encoding="utf-8")).get("nlu", []):
            if "intent" in item:
                for line in item["examples"].splitlines():
                    if line.strip().startswith("- "):
                        examples.append((line.strip()[2:], item["intent"]))
    return examples


@pytest.fixture(scope="session")
def danger_model() -> DangerModel:
    return train([*corpus_examples(ROOT / "corpus" / "safety"), *intent_examples(nlu_examples())])
