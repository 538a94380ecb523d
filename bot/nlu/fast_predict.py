"""The intent model's probabilities for a few texts, without scikit-learn's per-call overhead.

`Pipeline(FeatureUnion([TfidfVectorizer, ...]), LogisticRegression).predict_proba` on one
short message spends most of its time building, stacking, scaling and normalising tiny sparse
matrices (and in joblib's FeatureUnion machinery), not in the model. This computes the same
thing directly: the vectorizers' own analyzers, vocabulary look-ups, sublinear TF x IDF, L2
norm per vectorizer, then the linear scores of the n-grams present and a softmax. The result
equals the pipeline's to floating-point rounding (tests/nlu/test_fast_predict.py); any pipeline
this does not know how to reproduce exactly is left to scikit-learn (`from_pipeline` -> None).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class _Part:
    analyze: Callable[[str], list[str]]
    vocabulary: dict[str, int]
    idf: np.ndarray
    sublinear_tf: bool
    offset: int


class FastIntentModel:
    """predict_proba of a TF-IDF feature union + multinomial logistic regression."""

    def __init__(
        self, parts: list[_Part], coef: np.ndarray, intercept: np.ndarray, classes: Any
    ) -> None:
        self.parts = parts
        self.coef = np.ascontiguousarray(coef)
        # one row per feature: the columns a message uses are gathered as contiguous rows
        self.coef_by_feature = np.ascontiguousarray(coef.T)
        self.intercept = intercept
        self.classes_ = classes

    @classmethod
    def from_pipeline(cls, pipeline: Any) -> FastIntentModel | None:
        """The fast model of a fitted pipeline, or None when its exact result is not assured."""
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import FeatureUnion

        try:
            features, model = pipeline.named_steps["features"], pipeline.named_steps["model"]
        except (AttributeError, KeyError):
            return None
        if not isinstance(features, FeatureUnion) or not isinstance(model, LogisticRegression):
            return None
        multinomial = model.multi_class == "multinomial" or (
            model.multi_class == "auto" and model.solver != "liblinear" and len(model.classes_) > 2
        )
        if not multinomial or features.transformer_weights:
            return None
        parts, offset = [], 0
        for _name, vectorizer in features.transformer_list:
            if not (
                type(vectorizer) is TfidfVectorizer
                and vectorizer.norm == "l2"
                and vectorizer.use_idf
                and not vectorizer.binary
                and vectorizer.vocabulary_ is not None
            ):
                return None
            parts.append(
                _Part(
                    analyze=vectorizer.build_analyzer(),
                    vocabulary=dict(vectorizer.vocabulary_),
                    idf=np.asarray(vectorizer.idf_, dtype=np.float64),
                    sublinear_tf=bool(vectorizer.sublinear_tf),
                    offset=offset,
                )
            )
            offset += len(vectorizer.vocabulary_)
        if offset != model.coef_.shape[1]:
            return None
        return cls(parts, model.coef_, model.intercept_, model.classes_)

    def features(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """The columns of the n-grams of `text` the model knows, and their TF-IDF weights
        (L2-normalised per vectorizer, as scikit-learn does)."""
        columns: list[np.ndarray] = []
        values: list[np.ndarray] = []
        for part in self.parts:
            vocabulary = part.vocabulary
            # n-grams counted in C, then looked up once each (distinct n-grams map to
            # distinct columns)
            grams = Counter(part.analyze(text))
            known = [
                (j, n) for j, n in zip(map(vocabulary.get, grams), grams.values()) if j is not None
            ]
            if not known:
                continue
            idx = np.fromiter((j for j, _ in known), dtype=np.intp, count=len(known))
            tf = np.fromiter((n for _, n in known), dtype=np.float64, count=len(known))
            if part.sublinear_tf:
                tf = np.log(tf) + 1.0
            weights = tf * part.idf[idx]
            norm = np.sqrt(np.dot(weights, weights))
            if norm > 0.0:
                weights /= norm
            columns.append(idx + part.offset)
            values.append(weights)
        if not columns:
            return np.empty(0, dtype=np.intp), np.empty(0, dtype=np.float64)
        # every part's features together, for one gather and one product
        return np.concatenate(columns), np.concatenate(values)

    def scores_of(self, columns: np.ndarray, values: np.ndarray) -> np.ndarray:
        """The linear scores of each class for these features (`features`)."""
        scores = self.intercept.astype(np.float64, copy=True)
        if len(columns):
            scores += values @ self.coef_by_feature[columns]
        return scores

    def scores(self, text: str) -> np.ndarray:
        return self.scores_of(*self.features(text))

    @staticmethod
    def softmax(scores: np.ndarray) -> np.ndarray:
        s = scores - scores.max()
        np.exp(s, out=s)
        return s / s.sum()

    def predict_proba(self, texts: list[str]) -> np.ndarray:
        out = np.empty((len(texts), len(self.classes_)), dtype=np.float64)
        for i, text in enumerate(texts):
            out[i] = self.softmax(self.scores(text))
        return out
