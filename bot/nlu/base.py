"""What the rule-based NLU components share: nothing to train, built from their config."""

from __future__ import annotations

from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage


class RuleComponent(GraphComponent):
    """A graph component that learns nothing: `self.config` is its defaults and config.yml's."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {}

    def __init__(self, config: dict[str, Any] | None = None) -> None:
        self.config = {**self.get_default_config(), **(config or {})}

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> RuleComponent:
        return cls(config)

    def process_training_data(self, training_data: Any) -> Any:
        return training_data
