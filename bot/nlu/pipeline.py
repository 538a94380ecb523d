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
(`make bench`, BENCHMARKS.md). Two models learn, both kept in this component's resource: the
intent classifier, and the safety guard's danger detector (`bot.safety.detector`, trained on
corpus/safety/ and the NLU examples; `fingerprint_addon` makes Rasa retrain when the corpus
changes).

Each step's options are set under its key in config.yml (`classifier`, `topic_booster`,
`consultation_entities`, `fallback`, `emergency_guard`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import joblib
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.nlu.classifiers.fallback_classifier import FallbackClassifier
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.shared.nlu.constants import INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlu.classifier import CrisisIntentClassifier
from bot.nlu.consultation_entities import ConsultationEntityExtractor
from bot.nlu.topic_booster import TopicBooster
from bot.safety import detector
from bot.safety.detector import DangerModel
from bot.safety.guard import EmergencyGuard
from bot.settings import ROOT

DANGER_MODEL_FILE = "danger_model.joblib"
DEFAULT_CORPUS = "corpus/safety"

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
        danger_model: DangerModel | None = None,
    ) -> None:
        self._config = {**self.get_default_config(), **config}
        self.classifier = classifier
        self._model_storage = model_storage
        self._resource = resource

        def options(step: str) -> dict[str, Any]:
            return dict(self._config.get(step) or {})

        fallback_config = {**FallbackClassifier.get_default_config(), **options("fallback")}
        self.steps: list[Any] = [
            classifier,
            TopicBooster(options("topic_booster")),
            ConsultationEntityExtractor(options("consultation_entities")),
            FallbackClassifier(fallback_config),
            EmergencyGuard(self._guard_config(self._config), danger_model),
        ]
        self.guard: EmergencyGuard = self.steps[-1]

    @staticmethod
    def _guard_config(config: dict[str, Any]) -> dict[str, Any]:
        options = dict(config.get("emergency_guard") or {})
        options.pop("corpus", None)
        return options

    @staticmethod
    def _corpus_dir(config: dict[str, Any]) -> Path:
        corpus = (config.get("emergency_guard") or {}).get("corpus") or DEFAULT_CORPUS
        return ROOT / corpus

    @classmethod
    def fingerprint_addon(cls, config: dict[str, Any]) -> str | None:
        """The safety corpus is not training data Rasa sees: its hash joins the fingerprint."""
        return detector.corpus_fingerprint(cls._corpus_dir(config))

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
        danger_model = None
        try:
            with model_storage.read_from(resource) as directory:
                danger_model = DangerModel(joblib.load(directory / DANGER_MODEL_FILE))
        except (ValueError, FileNotFoundError):
            pass  # a model trained without the detector: the patterns alone guard it
        return cls(config, classifier, model_storage, resource, execution_context, danger_model)

    def train(self, training_data: TrainingData) -> Resource:
        """The intent classifier and the danger detector learn, into this component's
        resource."""
        resource = self.classifier.train(training_data)
        examples = [
            (m.get(TEXT), m.get(INTENT))
            for m in training_data.intent_examples
            if m.get(TEXT) and m.get(INTENT)
        ]
        model = detector.train(
            [
                *detector.corpus_examples(self._corpus_dir(self._config)),
                *detector.intent_examples(examples),
            ]
        )
        with self._model_storage.write_to(self._resource) as directory:
            joblib.dump(model.pipelines, directory / DANGER_MODEL_FILE)
        self.guard.model = model
        return resource

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data

    def process(self, messages: list[Message]) -> list[Message]:
        for step in self.steps:
            messages = step.process(messages)
        return messages
