"""Corrects the classifier when the message names a topic of the communiqué outright.

Runs after the intent classifier, before the FallbackClassifier (bot/nlu/topics.py finds the
words):
- a message that names two topics for which a multi-intent exists ("mon plâtre et mon IRM")
  gets that multi-intent, so that both questions are answered;
- a message classified as the generic consultation question, or with a confidence too low to
  be trusted, that names exactly one topic ("mammo de dépistage, toujours d'actualité ?") gets that topic's intent.
Any other verdict of the classifier is left alone (for example "les résultats de mon scanner"
stays a question the communiqué does not answer).
"""

from __future__ import annotations

from typing import Any

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.nlu.constants import (
    INTENT,
    INTENT_NAME_KEY,
    INTENT_RANKING_KEY,
    PREDICTED_CONFIDENCE_KEY,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message

from bot.nlu.base import RuleComponent
from bot.nlu.ranking import promote
from bot.nlu.topics import detect_topics

MULTI_INTENTS = {
    frozenset({"essential_followup", "radiology"}): "essential_followup+radiology",
    frozenset({"pregnancy", "radiology"}): "pregnancy+radiology",
    frozenset({"operations", "radiology"}): "operations+radiology",
    frozenset({"essential_followup", "operations"}): "essential_followup+operations",
    frozenset({"consultation_status", "radiology"}): "consultation_status+radiology",
}
GENERIC_INTENTS = {"consultation_status", "nlu_fallback", None}


def corrected_intent(
    predicted: str | None, topics: set[str], known: set[str], unsure: bool = False
) -> str | None:
    """The intent the message should have, or None to keep the classifier's verdict.
    `unsure`: the classifier's confidence is too low to be trusted."""
    generic = unsure or predicted in GENERIC_INTENTS
    if len(topics) == 2:
        multi = MULTI_INTENTS.get(frozenset(topics))
        single_parts = set((predicted or "").split("+"))
        if multi in known and (generic or single_parts <= topics):
            return multi  # also when already predicted: its confidence is then made firm
    if len(topics) == 1 and generic:
        (topic,) = topics
        return topic if topic in known else None
    return None


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class TopicBooster(RuleComponent):
    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {
            # the confidence given to a corrected intent (above the fallback threshold)
            "confidence": 0.9,
            # below this, the classifier's verdict is not trusted over the topic words
            "unsure_below": 0.35,
        }

    def __init__(self, config: dict[str, Any] | None = None) -> None:
        super().__init__(config)
        self._confidence = float(self.config["confidence"])
        self._unsure_below = float(self.config["unsure_below"])

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            ranking = message.get(INTENT_RANKING_KEY) or []
            known = {r[INTENT_NAME_KEY] for r in ranking} | set(MULTI_INTENTS.values())
            verdict = message.get(INTENT) or {}
            predicted = verdict.get(INTENT_NAME_KEY)
            unsure = float(verdict.get(PREDICTED_CONFIDENCE_KEY) or 0.0) < self._unsure_below
            topics = detect_topics(message.get(TEXT) or "")
            intent = corrected_intent(predicted, topics, known, unsure)
            if intent is None:
                continue
            confidence = max(
                self._confidence,
                next(
                    (r[PREDICTED_CONFIDENCE_KEY] for r in ranking if r[INTENT_NAME_KEY] == intent),
                    0.0,
                ),
            )
            promote(message, intent, confidence)
        return messages
