"""The safety layer as the last word of the NLU pipeline.

Runs after the intent classifier and the FallbackClassifier: when `bot.safety.patterns.detect_danger`
recognises a life-threatening situation, the message's intent becomes `emergency` with full
confidence, whatever the classifier thought ("les urgences sont ouvertes ?" written by someone
with chest pain must get 112, not "ne venez pas aux urgences"). It also sets the `danger`
entity (suicide, poison, general) that picks the words of the 112 answer; when the classifier
alone recognised an emergency, the danger is `general`.
"""

from __future__ import annotations

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.nlu.constants import (
    ENTITIES,
    ENTITY_ATTRIBUTE_END,
    ENTITY_ATTRIBUTE_START,
    ENTITY_ATTRIBUTE_TYPE,
    ENTITY_ATTRIBUTE_VALUE,
    EXTRACTOR,
    INTENT,
    INTENT_NAME_KEY,
    INTENT_RANKING_KEY,
    PREDICTED_CONFIDENCE_KEY,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message

from bot.nlu.base import RuleComponent
from bot.safety import DANGER_ENTITY, EMERGENCY_INTENT, GENERAL
from bot.safety.patterns import detect_danger


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class EmergencyGuard(RuleComponent):
    """Overrides the intent with `emergency` when the message describes a danger to life."""

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            text = message.get(TEXT) or ""
            danger = detect_danger(text)
            intent = (message.get(INTENT) or {}).get(INTENT_NAME_KEY)
            if danger is None and intent != EMERGENCY_INTENT:
                continue
            kind = danger.kind if danger else GENERAL
            message.set(
                INTENT,
                {INTENT_NAME_KEY: EMERGENCY_INTENT, PREDICTED_CONFIDENCE_KEY: 1.0},
                add_to_output=True,
            )
            ranking = [
                r
                for r in (message.get(INTENT_RANKING_KEY) or [])
                if r.get(INTENT_NAME_KEY) != EMERGENCY_INTENT
            ]
            message.set(
                INTENT_RANKING_KEY,
                [{INTENT_NAME_KEY: EMERGENCY_INTENT, PREDICTED_CONFIDENCE_KEY: 1.0}, *ranking],
                add_to_output=True,
            )
            entities = [
                e
                for e in (message.get(ENTITIES) or [])
                if e.get(ENTITY_ATTRIBUTE_TYPE) != DANGER_ENTITY
            ]
            entities.append(
                {
                    ENTITY_ATTRIBUTE_TYPE: DANGER_ENTITY,
                    ENTITY_ATTRIBUTE_VALUE: kind,
                    ENTITY_ATTRIBUTE_START: 0,
                    ENTITY_ATTRIBUTE_END: len(text),
                    EXTRACTOR: self.__class__.__name__,
                }
            )
            message.set(ENTITIES, entities, add_to_output=True)
        return messages
