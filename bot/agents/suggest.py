"""A caller's question -> the answer the assistant would give, for the agent to read out.

1. Rasa classifies the question: `POST {RASA_URL}/webhooks/nlu/parse` with the bearer token
   RASA_TOKEN (bot/channels/nlu.py: the classification only, not Rasa's whole HTTP API). The
   result is the one the patients
   get: the same model, and its safety layer (bot.safety.guard) has already turned a
   danger to life into `emergency`, with the kind of danger as the `danger` entity.
2. The intent -> the answers the rules give it (data/rules/*.yml, read once).
3. The answers -> their text, the facts they rest on and the date the crisis cell validated
   them, from the live content file (`render_agent`), exactly as the patient would read them.

The two next-best answers come from the classifier's ranking, skipping intents that give no
answer or the same answer as one already shown.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import aiohttp
import yaml

from bot.content.facts import read_facts
from bot.content.render import Rendered, render_agent
from bot.content.store import Answer, Content
from bot.safety import DANGER_ENTITY, EMERGENCY_INTENT

logger = logging.getLogger(__name__)

FALLBACK = "nlu_fallback"
# What the supervisor's view counts as "the assistant could not answer".
UNANSWERED_INTENTS = frozenset({"nlu_fallback", "out_of_scope", "no_validated_info"})
UNANSWERED_ACTIONS = frozenset({"utter_fallback", "utter_out_of_scope", "utter_no_validated_info"})
ALTERNATIVES = 2
PARSE_TIMEOUT = 5.0
MAX_QUESTION = 1000

INTENT_LABELS = {
    EMERGENCY_INTENT: "Urgence vitale",
    "situation": "La situation (cyberattaque)",
    "recovery": "Retour à la normale",
    "medical_record": "Dossier médical",
    "er_when": "Quand aller aux urgences",
    "gp_oncall": "Médecin de garde (1733)",
    "medical_advice": "Conseil médical",
    "consultation_status": "Consultation maintenue ?",
    "pregnancy": "Grossesse",
    "essential_followup": "Suivis essentiels",
    "bertrix": "Hôpital psychiatrique de Bertrix",
    "operations": "Opérations",
    "radiology": "Radiologie et examens",
    "call_centre": "Centre d'appel",
    "human_handoff": "Parler à une personne",
    "no_validated_info": "Pas d'information validée",
    "patient_privacy": "Données d'un patient",
    "out_of_scope": "Hors sujet",
    "nlu_fallback": "Question non comprise",
    "greet": "Salutation",
    "goodbye": "Au revoir",
    "thank": "Remerciement",
    "bot_identity": "Qui répond ?",
    "consultation_lookup": "Vérifier son rendez-vous",
    "inform": "Référence ou date de naissance donnée",
}

# Intents the assistant answers with a conversation (the consultation form) rather than with an
# answer of the content file: what the agent should do instead.
LOOKUP_HINT = (
    "L'appelant veut savoir ce qu'il en est de son propre rendez-vous : une fois l'appelant "
    "identifié, utilisez « Retrouver une consultation » ci-dessous."
)
AGENT_HINTS = {"consultation_lookup": LOOKUP_HINT, "inform": LOOKUP_HINT}


def intent_label(intent: str | None) -> str:
    if not intent:
        return "Inconnu"
    return " + ".join(INTENT_LABELS.get(part, part) for part in intent.split("+"))


# --- the rules: intent -> answers -----------------------------------------------------------


def _rules_from(data: Any) -> list[list[dict[str, Any]]]:
    """The steps of each rule that applies whatever came before (no `condition`)."""
    rules = (data or {}).get("rules") or []
    return [r.get("steps") or [] for r in rules if isinstance(r, dict) and not r.get("condition")]


def _rule_answers(steps: list[Any]) -> list[tuple[str, tuple[str, ...]]]:
    """(intent, the `utter_*` answers that follow it) for each intent of one rule's steps."""
    found: list[tuple[str, tuple[str, ...]]] = []
    intent: str | None = None
    keys: list[str] = []
    for step in steps:
        if not isinstance(step, dict):
            continue
        if "intent" in step:
            if intent and keys:
                found.append((intent, tuple(keys)))
            intent, keys = str(step["intent"]), []
        elif "action" in step and intent and str(step["action"]).startswith("utter_"):
            keys.append(str(step["action"]))
    if intent and keys:
        found.append((intent, tuple(keys)))
    return found


@lru_cache(maxsize=4)
def rules_answers(rules_dir: Path) -> dict[str, tuple[str, ...]]:
    """intent -> the `utter_*` answers a rule gives it, in order (first rule wins). Read once."""
    mapping: dict[str, tuple[str, ...]] = {}
    for file in sorted(rules_dir.glob("*.yml")):
        data = yaml.safe_load(file.read_text(encoding="utf-8"))
        for steps in _rules_from(data):  # rules with a condition answer in a context only
            for intent, keys in _rule_answers(steps):
                mapping.setdefault(intent, keys)
    return mapping


@lru_cache(maxsize=4)
def fact_summaries(path: Path) -> dict[str, str]:
    """Fact id -> its one-line summary (locales/facts.yml, through the one facts reader)."""
    return {fid: fact.summary for fid, fact in read_facts(path).items()}


# --- Rasa -------------------------------------------------------------------------------------


class RasaError(Exception):
    """Rasa could not classify the question; `message` is French, for the agent."""

    def __init__(self, message: str, status: int = 503) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


UNREACHABLE = (
    "L'assistant ne répond pas (Rasa injoignable). Réessayez dans un instant ; en attendant, "
    "répondez avec le communiqué en vigueur."
)


async def parse(
    session: aiohttp.ClientSession,
    text: str,
    *,
    rasa_url: str,
    token: str,
    timeout: float = PARSE_TIMEOUT,
) -> dict[str, Any]:
    """Rasa's NLU result for `text` (`POST /webhooks/nlu/parse`), or RasaError."""
    url = rasa_url.rstrip("/") + "/webhooks/nlu/parse"
    try:
        async with session.post(
            url,
            headers={"Authorization": f"Bearer {token}"},
            json={"text": text},
            timeout=aiohttp.ClientTimeout(total=timeout),
        ) as resp:
            if resp.status in (401, 403):
                raise RasaError(
                    "Rasa refuse la console : le jeton RASA_TOKEN de la console n'est pas celui "
                    "de Rasa. Prévenez l'administrateur.",
                    502,
                )
            if resp.status == 404:
                raise RasaError(
                    "Rasa ne propose pas la classification (le canal bot.channels.nlu."
                    "NluParseInput manque dans credentials.yml). Prévenez l'administrateur.",
                    502,
                )
            if resp.status >= 400:
                raise RasaError(
                    f"Rasa n'a pas pu classer la question (erreur {resp.status}). "
                    "Réessayez dans un instant.",
                    502,
                )
            result = await resp.json(content_type=None)
    except RasaError:
        raise
    except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
        logger.warning("Rasa /webhooks/nlu/parse failed: %s", type(exc).__name__)
        raise RasaError(UNREACHABLE) from exc
    if not isinstance(result, dict) or not isinstance(result.get("intent"), dict):
        raise RasaError("Rasa a renvoyé une réponse illisible. Réessayez dans un instant.", 502)
    return result


# --- answers ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Ranked:
    intent: str
    confidence: float


def ranking(parse_result: dict[str, Any]) -> list[Ranked]:
    """The intents by confidence, the chosen intent first (as Rasa decided it)."""
    top = parse_result.get("intent") or {}
    out: list[Ranked] = []
    if top.get("name"):
        out.append(Ranked(str(top["name"]), float(top.get("confidence") or 0.0)))
    for r in parse_result.get("intent_ranking") or []:
        name = r.get("name")
        if name and all(x.intent != name for x in out):
            out.append(Ranked(str(name), float(r.get("confidence") or 0.0)))
    return out


def _slots(parse_result: dict[str, Any]) -> dict[str, str]:
    """The slots the answers' variants depend on (the kind of danger)."""
    slots: dict[str, str] = {}
    for entity in parse_result.get("entities") or []:
        if entity.get("entity") == DANGER_ENTITY and entity.get("value"):
            slots[DANGER_ENTITY] = str(entity["value"])
    return slots


def _render(answer: Answer, slots: dict[str, str]) -> Rendered:
    try:
        return answer.render_data(slots)
    except (KeyError, ValueError, IndexError):
        # An answer with {placeholders} the assistant fills in a conversation: the agent gets
        # the text with its placeholders.
        return Rendered(
            text=answer.choose_text(slots),
            buttons=answer.buttons,
            facts=answer.facts,
            validated_on=answer.validated_on,
        )


def compose(
    keys: Sequence[str], content: Content, slots: dict[str, str], facts: dict[str, str]
) -> dict[str, Any] | None:
    """One or more answers (a message that asks two things gets two) as one agent rendering:
    texts one after the other, every fact they rest on, the oldest validation date."""
    parts = []
    for key in keys:
        answer = content.get(key)
        if answer is None:
            logger.error("the rules give %s but the content has no such answer", key)
            continue
        parts.append(render_agent(_render(answer, slots), content.language))
    if not parts:
        return None
    sources: list[str] = []
    for part in parts:
        sources += [s for s in part["sources"] if s not in sources]
    dated = [p for p in parts if p["validated_on"]]
    oldest = min(dated, key=lambda p: p["validated_on"]) if dated else None
    return {
        "text": "\n\n".join(p["text"] for p in parts),
        "sources": sources,
        "validated_on": oldest["validated_on"] if oldest else None,
        "validated_on_label": oldest["validated_on_label"] if oldest else None,
        "facts": [{"id": s, "summary": facts.get(s, "")} for s in sources],
        "answer_keys": list(keys),
        "buttons": [b for p in parts for b in p["buttons"]],
    }


def _no_answer() -> dict[str, Any]:
    """What the agent sees when not even the fallback answer can be rendered."""
    return {
        "text": "",
        "sources": [],
        "validated_on": None,
        "validated_on_label": None,
        "facts": [],
        "answer_keys": [],
        "buttons": [],
    }


def _main_answer(
    ranked: list[Ranked],
    content: Content,
    rules: dict[str, tuple[str, ...]],
    slots: dict[str, str],
    facts: dict[str, str],
) -> tuple[dict[str, Any], Ranked]:
    """The answer of the best-ranked intent that has one; else the fallback answer, under the
    intent Rasa chose."""
    for r in ranked:
        keys = rules.get(r.intent)
        rendered = compose(keys, content, slots, facts) if keys else None
        if rendered is not None:
            return rendered, r
    fallback = compose(("utter_fallback",), content, slots, facts)
    return fallback or _no_answer(), ranked[0] if ranked else Ranked(FALLBACK, 0.0)


def _alternatives(
    ranked: list[Ranked],
    main: dict[str, Any],
    main_intent: Ranked,
    content: Content,
    rules: dict[str, tuple[str, ...]],
    slots: dict[str, str],
    facts: dict[str, str],
) -> list[dict[str, Any]]:
    """The next `ALTERNATIVES` answers by rank, each different from those already shown."""
    alternatives: list[dict[str, Any]] = []
    seen = {tuple(main["answer_keys"])}
    for r in ranked:
        if len(alternatives) >= ALTERNATIVES:
            break
        keys = rules.get(r.intent)
        if r.intent in (main_intent.intent, FALLBACK) or not keys or tuple(keys) in seen:
            continue
        rendered = compose(keys, content, slots, facts)
        if rendered is None:
            continue
        seen.add(tuple(keys))
        alternatives.append(
            {
                "intent": r.intent,
                "intent_label": intent_label(r.intent),
                "confidence": round(r.confidence, 3),
                "text": rendered["text"],
                "sources": rendered["sources"],
                "validated_on": rendered["validated_on"],
                "validated_on_label": rendered["validated_on_label"],
                "facts": rendered["facts"],
            }
        )
    return alternatives


def build_suggestion(
    question: str,
    parse_result: dict[str, Any],
    content: Content,
    rules: dict[str, tuple[str, ...]],
    facts: dict[str, str],
) -> dict[str, Any]:
    """The JSON of `GET /agent/api/suggest`."""
    slots = _slots(parse_result)
    ranked = ranking(parse_result)
    main, main_intent = _main_answer(ranked, content, rules, slots, facts)
    alternatives = _alternatives(ranked, main, main_intent, content, rules, slots, facts)
    top = ranked[0].intent if ranked else None
    return {
        "question": question,
        "hint": AGENT_HINTS.get(top or ""),
        "intent": main_intent.intent,
        "intent_label": intent_label(main_intent.intent),
        "confidence": round(main_intent.confidence, 3),
        "emergency": main_intent.intent == EMERGENCY_INTENT,
        "danger": slots.get(DANGER_ENTITY),
        "understood": main_intent.intent not in UNANSWERED_INTENTS,
        "answer": main["text"],
        "sources": main["sources"],
        "validated_on": main["validated_on"],
        "validated_on_label": main["validated_on_label"],
        "facts": main["facts"],
        "answer_keys": main["answer_keys"],
        "alternatives": alternatives,
    }
