"""bot.nlu.fast_predict gives the scikit-learn pipeline's probabilities, to rounding."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml

from bot.nlu.classifier import CrisisIntentClassifier, build_pipeline
from bot.nlu.fast_predict import FastIntentModel
from bot.settings import ROOT
from bot.text import normalize


def examples(path: Path) -> list[tuple[str, str]]:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    out = []
    for block in data.get("nlu") or []:
        for line in str(block.get("examples") or "").splitlines():
            line = line.strip()
            if "intent" in block and line.startswith("- "):
                out.append((normalize(line[2:]), block["intent"]))
    return out


@pytest.fixture(scope="module")
def pipeline():
    train = [e for f in sorted((ROOT / "data" / "nlu").glob("*.yml")) for e in examples(f)]
    pipe = build_pipeline(CrisisIntentClassifier.get_default_config())
    pipe.fit([t for t, _ in train], [i for _, i in train])
    return pipe


def test_same_probabilities_as_the_pipeline(pipeline):
    fast = FastIntentModel.from_pipeline(pipeline)
    assert fast is not None
    texts = [t for t, _ in examples(ROOT / "tests" / "nlu" / "heldout.yml")]
    texts += ["", "   ", "xqzt blorp wvvk", "112 112 112", normalize("Ça va ? j'ai 39° de fièvre")]
    expected = pipeline.predict_proba(texts)
    got = fast.predict_proba(texts)
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-12)
    assert (got.argmax(axis=1) == expected.argmax(axis=1)).all()
    assert list(fast.classes_) == list(pipeline.classes_)


def test_unknown_pipelines_are_left_to_scikit_learn(pipeline):
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline

    assert FastIntentModel.from_pipeline(object()) is None
    ovr = Pipeline(
        [
            ("features", pipeline.named_steps["features"]),
            ("model", LogisticRegression(multi_class="ovr")),
        ]
    )
    assert FastIntentModel.from_pipeline(ovr) is None
