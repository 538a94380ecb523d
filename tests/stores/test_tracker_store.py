"""bot.stores.tracker_store.RedactingTrackerStore: a conversation saved with a reference, a date of
birth and a phone number is read back from the database with none of them in clear, and the
consultation form's sealed values survive the round trip."""

from __future__ import annotations

import logging
import sqlite3
import uuid
from pathlib import Path

import pytest
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    ActiveLoop,
    BotUttered,
    SlotSet,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker

from bot.privacy.redaction import BIRTH_DATE_MASK, REFERENCE_MASK, RedactingLogFilter
from bot.privacy.sealing import seal, unseal
from bot.settings import ROOT
from bot.stores.tracker_store import RedactingTrackerStore
from tests.backends import PG_DB, PG_HOST, PG_PORT, PG_USER, postgres_admin
from tests.stores import read_back

IDENTIFIERS = ("C-22-9100013", "c 22 9100013", "C229100013", "11/12/1999", "1999-12-11",
               "11 décembre 1999", "+32470123456", "0470 12 34 56")  # fmt: skip


@pytest.fixture
def rasa_domain() -> Domain:
    return Domain.load(str(ROOT / "domain"))


def conversation(sender_id: str) -> DialogueStateTracker:
    """Two turns of the consultation form, as Rasa records them."""
    entities = [{"entity": "reference", "value": "C229100013", "start": 0, "end": 12}]
    events = [
        ActionExecuted("action_listen"),
        UserUttered(
            "c 22 9100013",
            {"name": "inform", "confidence": 1.0},
            entities,
            parse_data={
                "text": "c 22 9100013",
                "intent": {"name": "inform", "confidence": 1.0},
                "entities": entities,
            },
            input_channel="rest",
        ),
        SlotSet("reference", "C229100013"),  # extracted from the message
        ActionExecuted("consultation_form"),
        ActiveLoop("consultation_form"),
        SlotSet("reference", seal("C229100013")),  # validated, sealed
        SlotSet("requested_slot", "birth_date"),
        BotUttered("Quelle est votre date de naissance ? Par exemple : 14/02/1961."),
        ActionExecuted("action_listen"),
        UserUttered(
            "je suis née le 11 décembre 1999, mon portable 0470 12 34 56 ou +32470123456",
            {"name": "inform", "confidence": 1.0},
            [{"entity": "birth_date", "value": "1999-12-11", "start": 15, "end": 31}],
            input_channel="rest",
        ),
        SlotSet("birth_date", "1999-12-11"),
    ]
    return DialogueStateTracker.from_events(sender_id, events)


def stored_rows(db: Path, sender_id: str) -> list[tuple[str, str]]:
    with sqlite3.connect(db) as con:
        return con.execute(
            "SELECT type_name, data FROM events WHERE sender_id = ? ORDER BY id", (sender_id,)
        ).fetchall()


async def test_nothing_in_clear_in_the_sqlite_file(isolated_settings, rasa_domain) -> None:
    db = isolated_settings.parent / "tracker.db"
    store = RedactingTrackerStore(domain=rasa_domain)
    tracker = conversation("conv-1")
    await store.save(tracker)

    rows = stored_rows(db, "conv-1")
    assert len(rows) == len(tracker.events)
    raw = "\n".join(data for _, data in rows)
    for identifier in IDENTIFIERS:
        assert identifier not in raw, identifier
    text = raw.encode().decode("unicode_escape")  # json.dumps escaped the accents
    assert REFERENCE_MASK in text and BIRTH_DATE_MASK in text and "[téléphone]" in text


async def test_the_sealed_value_survives_and_the_clear_one_does_not(isolated_settings, rasa_domain):
    store = RedactingTrackerStore(domain=rasa_domain)
    await store.save(conversation("conv-2"))
    restored = await store.retrieve("conv-2")
    assert restored is not None
    assert unseal(restored.get_slot("reference")) == "C229100013"  # the form still works
    assert restored.get_slot("birth_date") == BIRTH_DATE_MASK  # not yet validated: masked
    assert restored.latest_message.text.startswith(f"je suis née le {BIRTH_DATE_MASK}")
    assert restored.active_loop_name == "consultation_form"


async def test_saving_again_appends_only_the_new_events(isolated_settings, rasa_domain) -> None:
    db = isolated_settings.parent / "tracker.db"
    store = RedactingTrackerStore(domain=rasa_domain)
    tracker = conversation("conv-3")
    await store.save(tracker)
    tracker.update(SlotSet("birth_date", None))
    tracker.update(SlotSet("reference", None))
    await store.save(tracker)
    rows = stored_rows(db, "conv-3")
    assert len(rows) == len(tracker.events)
    restored = await store.retrieve("conv-3")
    assert restored is not None and restored.get_slot("reference") is None


async def test_a_tracker_with_identifiers_is_never_kept_in_clear(isolated_settings, rasa_domain):
    """The store keeps a tracker in memory between two messages only if it is what a read of
    the database gives back: never one whose new events had identifiers masked."""
    store = RedactingTrackerStore(domain=rasa_domain)
    await store.save(DialogueStateTracker.from_events("conv-4", [ActionExecuted("action_listen")]))
    plain = await read_back(store, "conv-4")
    plain.update(UserUttered("les urgences sont ouvertes ?", {"name": "er_when", "confidence": 1}))
    await store.save(plain)
    assert await read_back(store, "conv-4") is plain  # nothing masked: kept
    plain.update(UserUttered("ma référence C-22-9100013", {"name": "inform", "confidence": 1}))
    await store.save(plain)
    restored = await read_back(store, "conv-4")
    assert restored is not plain  # masked on its way to the database: read back, masked
    assert "C-22-9100013" not in restored.latest_message.text
    assert REFERENCE_MASK in restored.latest_message.text


async def test_starting_the_store_masks_identifiers_in_the_logs(isolated_settings, rasa_domain):
    handler = logging.StreamHandler()
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        RedactingTrackerStore(domain=rasa_domain)
        assert any(isinstance(f, RedactingLogFilter) for f in handler.filters)
    finally:
        root.removeHandler(handler)


@pytest.mark.postgres
async def test_postgresql_when_tracker_database_url_says_so(
    isolated_settings, rasa_domain, monkeypatch
):
    admin = postgres_admin()
    schema = f"test_tracker_{uuid.uuid4().hex[:12]}"
    with admin.cursor() as cur:
        cur.execute(f'CREATE SCHEMA "{schema}"')
    url = f"postgresql://{PG_USER}@{PG_HOST}:{PG_PORT}/{PG_DB}?options=-csearch_path%3D{schema}"
    monkeypatch.setenv("TRACKER_DATABASE_URL", url)
    from bot.settings import get_settings

    get_settings.cache_clear()
    try:
        store = RedactingTrackerStore(domain=rasa_domain)
        assert store.engine.dialect.name == "postgresql"
        await store.save(conversation("conv-pg"))
        with admin.cursor() as cur:
            cur.execute(f'SELECT data FROM "{schema}".events WHERE sender_id = %s', ("conv-pg",))
            raw = "\n".join(row[0] for row in cur.fetchall())
        assert raw
        for identifier in IDENTIFIERS:
            assert identifier not in raw, identifier
        store.engine.dispose()
    finally:
        with admin.cursor() as cur:
            cur.execute(f'DROP SCHEMA "{schema}" CASCADE')
        admin.close()
