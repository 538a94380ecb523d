"""Rasa's responses, taken from the live content file and rendered for the channel.

Configured in endpoints.yml as `nlg: type: bot.content.nlg.ContentNaturalLanguageGenerator`, Rasa's
extension point for a custom natural language generator. It runs inside the Rasa process:
no extra service, no HTTP hop per answer. The content file is re-read when it changes
(checked at most once a second), so an edit by the crisis cell is live within seconds, without
training or restarting; a bad edit is refused and the last good content keeps being served.

If the content cannot be served at all (file missing or broken at start-up, an answer that
cannot be filled in), the domain's own responses are used: each says "I cannot answer now, call
0800/35.168", and the emergency one says "call 112": the patient never gets silence.
"""

from __future__ import annotations

import logging
from typing import Any

from rasa.core.nlg.generator import NaturalLanguageGenerator
from rasa.core.nlg.response import TemplatedNaturalLanguageGenerator
from rasa.shared.core.domain import Domain
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig

from bot.content.catalog import settings_catalog
from bot.content.render import render_for_channel
from bot.safety import LANGUAGE_ENTITY

logger = logging.getLogger(__name__)


class ContentNaturalLanguageGenerator(NaturalLanguageGenerator):
    def __init__(self, endpoint_config: EndpointConfig | None = None, domain: Domain | None = None):
        self.domain = domain or Domain.empty()
        self.catalog = settings_catalog(set(self.domain.responses))
        self.fallback = TemplatedNaturalLanguageGenerator(self.domain.responses)
        for store in self.catalog.stores.values():
            store.current()  # load now: a broken file is reported at start-up

    async def generate(
        self,
        utter_action: str,
        tracker: DialogueStateTracker,
        output_channel: str,
        **kwargs: Any,
    ) -> dict[str, Any] | None:
        # the conversation's language (the `language` slot), French when unknown; an answer
        # that language does not have is said in French
        found = self.catalog.answer(utter_action, tracker.get_slot(LANGUAGE_ENTITY))
        if found is not None:
            answer, content = found
            try:
                data = answer.render_data(tracker.current_slot_values(), **kwargs)
                # Rasa's output channel name picks the rendering: "sms" for our SMS channel,
                # the web rendering for REST ("collector") and Socket.IO ("socketio").
                return render_for_channel(data, output_channel, content.language)
            except (KeyError, ValueError, IndexError) as exc:
                logger.error("answer %s could not be filled in: %s", utter_action, exc)
        else:
            logger.error("no content for %s; using the domain's safe response", utter_action)
        return await self.fallback.generate(utter_action, tracker, output_channel, **kwargs)
