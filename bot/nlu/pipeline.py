"""The project's NLU steps, run in order inside one graph component.

Each step is its own component class, tested on its own (tests/nlu/test_components.py):

1. `CrisisIntentClassifier`: normalised French text -> TF-IDF -> logistic regression;
2. `TopicBooster`: words that settle the answer (MRI -> radiology), two topics -> multi-intent;
3. `ConsultationEntityExtractor`: appointment references and dates of birth;
4. Rasa's `FallbackClassifier`: below its threshold, "not understood";
5. `EmergencyGuard`: a danger to life makes the message `emergency`, whatever came before.

Why one graph node rather than five: Rasa runs its graph with Dask at every message, and each
node costs the scheduling of a task (about 40 microseconds here) whatever the node does; these
five steps do little each. Listed one by one in config.yml they gave the same results (the
same components in the same order) at seven graph nodes per message instead of three
(`make bench`, BENCHMARKS.md). Only the classifier learns; it keeps its model in this
component's resource.

Each step's options are set under its key in config.yml (`classifier`, `topic_booster`,
`consultation_entities`, `fallback`, `emergency_guard`).
"""

from __future__ import annotations

from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.nlu.classifiers.fallback_classifier import FallbackClassifier
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlu.classifier import CrisisIntentClassifier
from bot.nlu.consultation_entities import ConsultationEntityExtractor
from bot.nlu.topic_booster import TopicBooster
from bot.safety.guard import EmergencyGuard

STEPS = ("classifier", "topic_booster", "consultation_entities", "fallback", "emergency_guard")


@DefaultV1Recipe.register(
    [
        DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER,
        DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR,
    ],
    is_trainable=True,
)
class CrisisNLU(GraphComponent, IntentClassifier, EntityExtractorMixin):
    """The five NLU steps of the module docstring, in order, in one graph node."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {step: {} for step in STEPS}

    def __init__(
        self,
        config: dict[str, Any],
        classifier: CrisisIntentClassifier,
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> None:
        self._config = {**self.get_default_config(), **config}
        self.classifier = classifier

        def options(step: str) -> dict[str, Any]:
            return dict(self._config.get(step) or {})

        fallback_config = {**FallbackClassifier.get_default_config(), **options("fallback")}
        self.steps: list[Any] = [
            classifier,
            TopicBooster(options("topic_booster")),
            ConsultationEntityExtractor(options("consultation_entities")),
            FallbackClassifier(fallback_config),
            EmergencyGuard(options("emergency_guard")),
        ]

    @staticmethod
    def _classifier_config(config: dict[str, Any]) -> dict[str, Any]:
        return dict(config.get("classifier") or {})

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> CrisisNLU:
        classifier = CrisisIntentClassifier.create(
            cls._classifier_config(config), model_storage, resource, execution_context
        )
        return cls(config, classifier, model_storage, resource, execution_context)

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> CrisisNLU:
        classifier = CrisisIntentClassifier.load(
            cls._classifier_config(config), model_storage, resource, execution_context
        )
        return cls(config, classifier, model_storage, resource, execution_context)

    def train(self, training_data: TrainingData) -> Resource:
        """Only the classifier learns (into this component's resource)."""
        return self.classifier.train(training_data)

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data

    def process(self, messages: list[Message]) -> list[Message]:
        for step in self.steps:
            messages = step.process(messages)
        return messages
