"""The conversation store: Rasa's SQL tracker store, with patients' identifiers masked before
anything is written.

Configured in endpoints.yml as `tracker_store: type: bot.stores.tracker_store.RedactingTrackerStore`.
The database is `get_settings().tracker_database_url`: a SQLite file (var/tracker.db) by default,
PostgreSQL when `TRACKER_DATABASE_URL` says so. Every event goes through
`bot.privacy.redaction.redact_event` on its way to the database (and to an event broker, if one is ever
configured): references, dates of birth and phone numbers are stored as "[référence]",
"[date de naissance]", "[téléphone]". What the consultation form must remember between two
messages is sealed (`bot.privacy.sealing`) and stored as such.

It is the bounded store of `bot.stores.sql_tracker_store` (kept connection, WAL for SQLite, at most
`max_events` of the session read back, only new events written): this class only decides what
an event looks like once stored (`stored_form`). A tracker whose new events had something
masked is not kept in memory by that store: the next message reads the masked history back.

Starting the store also masks identifiers in the Rasa process's log output
(`bot.privacy.redaction.install_log_redaction`): Rasa logs the user's text when handling fails.
"""

from __future__ import annotations

from typing import Any

from rasa.core.brokers.broker import EventBroker
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import Event

from bot.privacy.redaction import install_log_redaction, redact_event
from bot.settings import get_settings
from bot.stores.sql_tracker_store import BoundedSQLTrackerStore


class RedactingTrackerStore(BoundedSQLTrackerStore):
    """`SQLTrackerStore` that persists every event redacted (see the module docstring)."""

    def __init__(
        self,
        domain: Domain | None = None,
        event_broker: EventBroker | None = None,
        **kwargs: Any,
    ) -> None:
        kwargs.pop("host", None)  # Rasa passes the endpoint's `url` (None): the settings decide
        super().__init__(
            domain=domain,
            host=get_settings().tracker_database_url,
            event_broker=event_broker,
            **kwargs,
        )
        install_log_redaction()

    def stored_form(self, data: dict[str, Any]) -> dict[str, Any]:
        """Every event is written redacted (`BoundedSQLTrackerStore.save` calls this)."""
        return redact_event(data)

    async def _stream_new_events(
        self, event_broker: EventBroker, new_events: list[Event], sender_id: str
    ) -> None:
        for event in new_events:
            event_broker.publish({"sender_id": sender_id, **redact_event(event.as_dict())})
