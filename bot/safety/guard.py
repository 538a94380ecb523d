"""The safety layer as the last word of the NLU pipeline.

Runs after the intent classifier and the FallbackClassifier. When the danger detector
(`bot.safety.detector`: the French patterns and a model of five languages) reads a danger to
life now, the message's intent becomes `emergency` with full confidence, whatever the
classifier thought ("les urgences sont ouvertes ?" written by someone with chest pain must get
112, not "ne venez pas aux urgences"), with entities that pick the words of the 112 answer:
`danger` (suicide, poison, general), `danger_who` (self, present, far) and `language`.

When danger words are there but not a danger now (a negation, the past, an animal, a trivial
complaint), the message keeps its intent and gets the `danger_scope` entity: its answer ends
with "si la situation est grave maintenant : 112" (bot/policies/safety_first.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.constants import DEFAULT_NLU_FALLBACK_INTENT_NAME
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
from bot.nlu.language import identify
from bot.safety import (
    DANGER_ENTITY,
    DANGER_WHO_ENTITY,
    EMERGENCY_INTENT,
    GENERAL,
    LANGUAGE_ENTITY,
    NEAR_MISS_ENTITY,
)
from bot.safety.detector import DEFAULT_THRESHOLD, Assessment, DangerModel
from bot.safety.patterns import detect_danger


@dataclass(frozen=True)
class Verdict:
    """What the guard decided about one message."""

    kind: str | None  # the danger's kind, or None: no danger now
    who: str | None = None  # who is in danger (with a learned model)
    near_miss: str | None = None  # no danger now, but danger words in a scope (its name)


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class EmergencyGuard(RuleComponent):
    """Overrides the intent with `emergency` when the message describes a danger to life, as
    the learned detector (`bot.safety.detector`, five languages, the French patterns among its
    inputs) reads it; marks a near-miss (danger words that are not a danger now) for the
    closing line of its answer."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        # `threshold`: P(danger) at or above which the message is a danger to life.
        # `veto`: a pattern's danger stands unless P(danger) is below this: the model saw a
        # negation, the past or an animal ("il n'a pas de douleur thoracique").
        # `confirm`: the bar when the intent classifier also said `emergency` (two signals
        # that agree); below it, the classifier's `emergency` alone is a false alarm (a mild
        # fever, a cut that stopped bleeding) and the message keeps its next intent.
        # `near_miss`: P(danger) from which a message that is not a danger still gets the
        # closing line "si la situation est grave maintenant : 112".
        # `fallback_threshold`: the next intent's confidence below which it is "not
        # understood" (Rasa's FallbackClassifier's threshold in config.yml).
        return {
            "threshold": DEFAULT_THRESHOLD,
            "veto": 0.1,
            "confirm": 0.4,
            "near_miss": 0.2,
            "fallback_threshold": 0.2,
        }

    def __init__(self, config: dict[str, Any] | None = None, model: DangerModel | None = None):
        super().__init__(config)
        self.model = model
        self.threshold = float(self.config["threshold"])
        self.veto = float(self.config["veto"])
        self.confirm = float(self.config["confirm"])
        self.near_miss = float(self.config["near_miss"])
        self.fallback_threshold = float(self.config["fallback_threshold"])

    def judge(self, text: str, classifier_says_emergency: bool = False) -> Verdict:
        """The guard's verdict on a message. Without a learned model (a model trained before
        it), the patterns and the classifier's `emergency` stand on their own."""
        if self.model is None or not text.strip():
            danger = detect_danger(text)
            if danger is not None:
                return Verdict(danger.kind)
            return Verdict(GENERAL if classifier_says_emergency else None)
        assessment = self.model.assess(text)
        if self._is_danger(assessment, classifier_says_emergency):
            return Verdict(assessment.kind, who=self.model.who(assessment))
        if (
            assessment.probability >= self.near_miss
            or assessment.pattern is not None
            or classifier_says_emergency
        ):
            return Verdict(None, near_miss=assessment.reason)
        return Verdict(None)

    def _is_danger(self, assessment: Assessment, classifier_says_emergency: bool) -> bool:
        p = assessment.probability
        if p >= self.threshold:
            return True
        if assessment.pattern is not None and p >= self.veto:
            return True
        return classifier_says_emergency and p >= self.confirm

    def danger_kind(self, text: str, classifier_says_emergency: bool = False) -> str | None:
        """The kind of danger the message describes, or None."""
        return self.judge(text, classifier_says_emergency).kind

    def _demote(self, message: Message) -> None:
        """The classifier's `emergency` was not confirmed: the next intent of its ranking."""
        ranking = [
            r
            for r in (message.get(INTENT_RANKING_KEY) or [])
            if r.get(INTENT_NAME_KEY) != EMERGENCY_INTENT
        ]
        if (
            not ranking
            or (ranking[0].get(PREDICTED_CONFIDENCE_KEY) or 0.0) < self.fallback_threshold
        ):
            top = {INTENT_NAME_KEY: DEFAULT_NLU_FALLBACK_INTENT_NAME, PREDICTED_CONFIDENCE_KEY: 1.0}
            ranking = [top, *ranking]
        message.set(INTENT, dict(ranking[0]), add_to_output=True)
        message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            text = message.get(TEXT) or ""
            intent = (message.get(INTENT) or {}).get(INTENT_NAME_KEY)
            verdict = self.judge(text, classifier_says_emergency=intent == EMERGENCY_INTENT)
            if verdict.kind is None:
                if intent == EMERGENCY_INTENT:
                    self._demote(message)
                if verdict.near_miss is not None:
                    self._add_entities(
                        message, {NEAR_MISS_ENTITY: verdict.near_miss, **self._language(text)}
                    )
                continue
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
            found = {DANGER_ENTITY: verdict.kind, **self._language(text)}
            if verdict.who:
                found[DANGER_WHO_ENTITY] = verdict.who
            self._add_entities(message, found)
        return messages

    @staticmethod
    def _language(text: str) -> dict[str, str]:
        """The message's language when it can be told (the answer's words); else nothing, and
        the conversation keeps the language it had."""
        language = identify(text)
        return {LANGUAGE_ENTITY: language} if language else {}

    def _add_entities(self, message: Message, values: dict[str, str]) -> None:
        """Sets these entities on the message (replacing any of the same type), each spanning
        the whole text."""
        text = message.get(TEXT) or ""
        entities = [
            e for e in (message.get(ENTITIES) or []) if e.get(ENTITY_ATTRIBUTE_TYPE) not in values
        ]
        entities += [
            {
                ENTITY_ATTRIBUTE_TYPE: entity,
                ENTITY_ATTRIBUTE_VALUE: value,
                ENTITY_ATTRIBUTE_START: 0,
                ENTITY_ATTRIBUTE_END: len(text),
                EXTRACTOR: self.__class__.__name__,
            }
            for entity, value in values.items()
        ]
        message.set(ENTITIES, entities, add_to_output=True)
