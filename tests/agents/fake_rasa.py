"""A stand-in for Rasa's classification channel: `POST /webhooks/nlu/parse` (bearer token) only, answering with canned
classifications shaped like Rasa 3.6's (intent, intent_ranking, entities), including what the
safety layer and the FallbackClassifier put there."""

from __future__ import annotations

import itertools
from typing import Any

from sanic import Request, Sanic, response
from sanic.response import HTTPResponse

TOKEN = "test-rasa-token"
_names = itertools.count()


def ranked(*pairs: tuple[str, float]) -> list[dict[str, Any]]:
    return [{"name": name, "confidence": conf} for name, conf in pairs]


def classify(text: str) -> dict[str, Any]:
    """Keyword rules good enough for the tests; the confidences are the ones the tests expect."""
    lowered = text.lower()
    entities: list[dict[str, Any]] = []
    if "thoracique" in lowered or "respire plus" in lowered:
        # The safety layer: emergency at 1.0 first, the classifier's ranking after it.
        ranking = ranked(("emergency", 1.0), ("er_when", 0.61), ("gp_oncall", 0.2), ("greet", 0.1))
        entities = [{"entity": "danger", "value": "general", "start": 0, "end": len(text)}]
    elif "suicid" in lowered:
        ranking = ranked(("emergency", 1.0), ("medical_advice", 0.3), ("human_handoff", 0.2))
        entities = [{"entity": "danger", "value": "suicide", "start": 0, "end": len(text)}]
    elif "urgences" in lowered:
        ranking = ranked(
            ("er_when", 0.874), ("gp_oncall", 0.061), ("medical_advice", 0.03), ("situation", 0.02)
        )
    elif "grossesse" in lowered and "radio" in lowered:
        ranking = ranked(
            ("pregnancy+radiology", 0.71), ("pregnancy", 0.12), ("radiology", 0.09),
            ("essential_followup", 0.04),
        )  # fmt: skip
    elif "parking" in lowered:
        ranking = ranked(("no_validated_info", 0.66), ("call_centre", 0.2), ("situation", 0.1))
    else:
        # FallbackClassifier (threshold 0.2): nlu_fallback first, at the threshold.
        ranking = ranked(
            ("nlu_fallback", 0.2), ("out_of_scope", 0.18), ("situation", 0.11),
            ("consultation_status", 0.09), ("er_when", 0.05),
        )  # fmt: skip
    return {
        "text": text,
        "intent": dict(ranking[0]),
        "entities": entities,
        "intent_ranking": ranking,
    }


def make_fake_rasa(token: str = TOKEN) -> tuple[Sanic, list[str]]:
    """The app, and the texts it was asked to classify."""
    app = Sanic(f"fake_rasa_api_{next(_names)}")
    asked: list[str] = []

    @app.post("/webhooks/nlu/parse")
    async def parse(request: Request) -> HTTPResponse:
        if request.headers.get("Authorization") != f"Bearer {token}":
            return response.json({"status": "failure", "reason": "NotAuthenticated"}, status=401)
        text = (request.json or {}).get("text", "")
        asked.append(text)
        return response.json(classify(text))

    return app, asked
