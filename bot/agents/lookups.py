"""Consultation lookups by an agent: what was asked, checked; what was found, audited.

Both the console page (POST /agent/lookup) and the JSON API (GET /agent/api/consultations) go
through `lookup_query` (the French refusals of a badly asked search) and `run_lookup` (the search
and its audit entry, written together so that no lookup is ever shown without being recorded).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from bot.agents import models
from bot.agents.models import Action, Agent
from bot.content.render import format_appointment


def reference_display(reference: str) -> str:
    """C22004512 -> C-22-004512 (as printed on the letters)."""
    if len(reference) >= 4 and reference[0] == "C" and reference[1:].isdigit():
        return f"C-{reference[1:3]}-{reference[3:]}"
    return reference


def consultation_record(c: Any) -> dict[str, Any]:
    """The JSON of one consultation for the agent (bot.consultations.lookup.AgentConsultation)."""
    return {
        "reference": c.reference,
        "reference_display": reference_display(c.reference),
        "last_name": c.last_name,
        "first_name": c.first_name,
        "birth_date": c.birth_date.isoformat(),
        "birth_date_label": c.birth_date.strftime("%d/%m/%Y"),
        "starts_at": c.starts_at.isoformat(timespec="minutes"),
        "starts_at_label": format_appointment(c.starts_at),
        "site": c.site,
        "service": c.service,
        "status": c.status.value,
        "status_label": c.status.label,
        "new_starts_at": c.new_starts_at.isoformat(timespec="minutes") if c.new_starts_at else None,
        "new_starts_at_label": format_appointment(c.new_starts_at) if c.new_starts_at else None,
        "note": c.note,
        "phone_on_file": c.has_phone,
    }


def shown_summary(records: list[dict[str, Any]]) -> str:
    """What the agent was shown, for the audit trail: each consultation, briefly."""
    if not records:
        return "aucune consultation"
    parts = []
    for r in records:
        who = " ".join(x for x in (r.get("last_name"), r.get("first_name")) if x) or "sans nom"
        when = r["starts_at"].replace("T", " ")
        parts.append(
            f"{r['reference_display']} ({who}, {when}, {r['site']}, {r['service']}, "
            f"{r['status_label']})"
        )
    n = len(records)
    return f"{n} consultation{'s' if n > 1 else ''} : " + " ; ".join(parts)


class LookupInputError(ValueError):
    """The lookup was not asked properly; French message."""


@dataclass(frozen=True)
class LookupQuery:
    """One search: by reference (canonical form) or by last name and date of birth."""

    action: Action
    reference: str = ""
    last_name: str = ""
    birth_date: date | None = None

    @property
    def description(self) -> str:
        """What was searched, in French (for the page and the audit trail)."""
        if self.action is Action.LOOKUP_REFERENCE:
            return f"la référence {reference_display(self.reference)}"
        assert self.birth_date is not None
        return f"le nom « {self.last_name} » né(e) le {self.birth_date.strftime('%d/%m/%Y')}"


def lookup_query(
    reference: str | None, last_name: str | None, birth_date: str | None
) -> LookupQuery:
    """The search the agent asked for (raw form or query fields), or LookupInputError."""
    reference = (reference or "").strip()
    last_name = " ".join((last_name or "").split())
    birth_raw = (birth_date or "").strip()
    if reference and (last_name or birth_raw):
        raise LookupInputError(
            "Cherchez soit par référence, soit par nom et date de naissance, pas les deux."
        )
    if reference:
        return _by_reference(reference)
    if not last_name and not birth_raw:
        raise LookupInputError(
            "Donnez la référence du rendez-vous, ou le nom de famille et la date de naissance."
        )
    return _by_name(last_name, birth_raw)


def _by_reference(reference: str) -> LookupQuery:
    from bot.consultations.normalize import normalise_reference

    canonical = normalise_reference(reference)
    if not canonical or len(canonical) > 32 or not canonical.isalnum():
        raise LookupInputError("Cette référence n'a pas la bonne forme (par exemple C-22-004512).")
    return LookupQuery(Action.LOOKUP_REFERENCE, reference=canonical)


def _by_name(last_name: str, birth_raw: str) -> LookupQuery:
    from bot.consultations.normalize import name_key, parse_birth_date

    if not last_name or not name_key(last_name):
        raise LookupInputError("Donnez aussi le nom de famille.")
    if len(last_name) > 200:
        raise LookupInputError("Ce nom est trop long.")
    if not birth_raw:
        raise LookupInputError("Donnez aussi la date de naissance (JJ/MM/AAAA).")
    born = parse_birth_date(birth_raw)
    if born is None:
        raise LookupInputError(
            "Date de naissance non reconnue : écrivez-la JJ/MM/AAAA, avec l'année en 4 chiffres "
            "(par exemple 14/02/1961)."
        )
    return LookupQuery(Action.LOOKUP_NAME, last_name=last_name, birth_date=born)


def run_lookup(query: LookupQuery, agent: Agent, database_url: str | None) -> list[dict[str, Any]]:
    """Look up and write the audit entry (synchronous: called through a thread)."""
    from bot.consultations.lookup import find_by_name_and_birth_date, find_by_reference

    if query.action is Action.LOOKUP_REFERENCE:
        found = find_by_reference(query.reference, database_url=database_url)
        records = [consultation_record(found)] if found is not None else []
    else:
        assert query.birth_date is not None
        records = [
            consultation_record(c)
            for c in find_by_name_and_birth_date(
                query.last_name, query.birth_date, database_url=database_url
            )
        ]
    models.add_audit(
        agent,
        agent.role,
        query.action,
        query.description,
        shown_summary(records),
        database_url=database_url,
    )
    return records
