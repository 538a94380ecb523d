"""Setting a message's intent from a rule, the way a classifier would have."""

from __future__ import annotations

from rasa.shared.nlu.constants import (
    INTENT,
    INTENT_NAME_KEY,
    INTENT_RANKING_KEY,
    PREDICTED_CONFIDENCE_KEY,
)
from rasa.shared.nlu.training_data.message import Message


def promote(message: Message, intent: str, confidence: float) -> None:
    """Make `intent` the message's intent with `confidence`, first of the ranking.

    The other intents share what is left (1 - confidence), in their order, so that the ranking
    stays a distribution: otherwise a rule's verdict at 0.9 beside the classifier's own 0.85
    looks like a tie, and the FallbackClassifier's ambiguity check answers "not understood"."""
    others = [
        r for r in (message.get(INTENT_RANKING_KEY) or []) if r.get(INTENT_NAME_KEY) != intent
    ]
    total = sum(float(r.get(PREDICTED_CONFIDENCE_KEY) or 0.0) for r in others) or 1.0
    rest = max(0.0, 1.0 - confidence)
    message.set(
        INTENT, {INTENT_NAME_KEY: intent, PREDICTED_CONFIDENCE_KEY: confidence}, add_to_output=True
    )
    message.set(
        INTENT_RANKING_KEY,
        [{INTENT_NAME_KEY: intent, PREDICTED_CONFIDENCE_KEY: confidence}]
        + [
            {
                INTENT_NAME_KEY: r[INTENT_NAME_KEY],
                PREDICTED_CONFIDENCE_KEY: float(r.get(PREDICTED_CONFIDENCE_KEY) or 0.0)
                * rest
                / total,
            }
            for r in others
        ],
        add_to_output=True,
    )
