"""bot.stores.sql_tracker_store: the same conversations as Rasa's SQLTrackerStore, bounded and lighter."""

from __future__ import annotations

import sqlite3

import pytest
from rasa.core.tracker_store import FailSafeTrackerStore, SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    BotUttered,
    ConversationPaused,
    SessionStarted,
    SlotSet,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy import event as sa_event

from bot.stores.sql_tracker_store import BoundedSQLTrackerStore, StoredTracker, deserialise_event
from tests.stores import read_back

DOMAIN = Domain.from_yaml(
    """
version: "3.1"
intents: [greet, thank]
slots:
  danger:
    type: categorical
    values: [general, suicide, poison]
    influence_conversation: false
    mappings: [{type: custom}]
  topic:
    type: text
    influence_conversation: false
    mappings: [{type: custom}]
responses:
  utter_greet: [{text: "bonjour"}]
"""
)


def turn(text: str, intent: str = "greet") -> list:
    return [
        UserUttered(text, {"name": intent, "confidence": 1.0}),
        ActionExecuted("utter_greet"),
        BotUttered("bonjour"),
        ActionExecuted("action_listen"),
    ]


def session_start() -> list:
    return [
        ActionExecuted("action_session_start"),
        SessionStarted(),
        ActionExecuted("action_listen"),
    ]


@pytest.fixture
def db(tmp_path):
    return str(tmp_path / "tracker.db")


def store(db: str, **kwargs) -> BoundedSQLTrackerStore:
    return BoundedSQLTrackerStore(DOMAIN, dialect="sqlite", db=db, **kwargs)


def stock(db: str) -> SQLTrackerStore:
    return SQLTrackerStore(DOMAIN, dialect="sqlite", db=db)


async def add(s, sender: str, events: list) -> DialogueStateTracker:
    tracker = await s.get_or_create_tracker(sender, append_action_listen=False)
    for e in events:
        tracker.update(e)
    await s.save(tracker)
    return tracker


def dicts(tracker: DialogueStateTracker) -> list[dict]:
    return [e.as_dict() for e in tracker.events]


async def test_short_conversation_reads_back_as_rasa_reads_it(db):
    s = store(db)
    await add(s, "a", session_start() + turn("bonjour"))
    await add(s, "a", turn("merci", "thank"))
    ours, rasa = await s.retrieve("a"), await stock(db).retrieve("a")
    assert isinstance(ours, StoredTracker)
    assert dicts(ours) == dicts(rasa)
    assert ours.current_state() == rasa.current_state()
    assert await s.retrieve("nobody") is None


async def test_each_event_is_written_once(db):
    s = store(db)
    tracker = await add(s, "a", session_start() + turn("bonjour"))
    await s.save(tracker)  # nothing new
    tracker = await read_back(s, "a")
    for e in turn("encore"):
        tracker.update(e)
    await s.save(tracker)
    await s.save(tracker)
    rows = sqlite3.connect(db).execute("select count(*) from events").fetchone()[0]
    assert rows == len(session_start()) + 2 * len(turn("x"))
    assert dicts(await stock(db).retrieve("a")) == dicts(await s.retrieve("a"))


async def test_a_tracker_read_elsewhere_is_saved_as_rasa_saves_it(db):
    s = store(db)
    await add(s, "a", session_start())
    foreign = await stock(db).retrieve("a")
    assert not isinstance(foreign, StoredTracker)
    for e in turn("bonjour"):
        foreign.update(e)
    await s.save(foreign)
    assert dicts(await s.retrieve("a")) == dicts(foreign)


async def test_only_the_latest_session_is_read(db):
    s = store(db)
    await add(s, "a", session_start() + turn("bonjour") + [SlotSet("topic", "old")])
    await add(s, "a", session_start() + turn("re-bonjour"))
    tracker = await read_back(s, "a")
    assert [e.text for e in tracker.events if isinstance(e, UserUttered)] == ["re-bonjour"]
    assert tracker.get_slot("topic") is None
    assert dicts(tracker) == dicts(await stock(db).retrieve("a"))


async def test_a_long_session_is_bounded_and_keeps_its_state(db):
    s = store(db, max_events=20)
    events = [*session_start(), SlotSet("danger", "poison"), ConversationPaused()]
    for i in range(60):
        events += turn(f"message {i}")
        if i == 10:
            events.append(SlotSet("topic", "radiology"))
        if i == 20:
            events.append(SlotSet("topic", "maternity"))
    await add(s, "a", events)
    full = await stock(db).retrieve("a")
    tracker = await read_back(s, "a")
    assert len(tracker.events) <= 20 + 3
    # the slot values and the pause state of the whole session, restored in front
    assert tracker.get_slot("danger") == full.get_slot("danger") == "poison"
    assert tracker.get_slot("topic") == full.get_slot("topic") == "maternity"
    assert tracker.is_paused() == full.is_paused()
    # then whole turns, the latest ones, as Rasa has them
    kept = dicts(tracker)[3:]
    assert kept[0]["event"] == "action" and kept[0]["name"] == "action_listen"
    assert kept == dicts(full)[-len(kept) :]
    assert tracker.latest_message.text == "message 59"
    # a new turn is appended after the stored ones, once
    for e in turn("message 60"):
        tracker.update(e)
    await s.save(tracker)
    full = await stock(db).retrieve("a")
    assert [e.text for e in full.events if isinstance(e, UserUttered)][-2:] == [
        "message 59",
        "message 60",
    ]
    assert len(full.events) == len(events) - 1 + len(turn("x"))  # minus the older session start


async def test_sqlite_uses_the_write_ahead_log(db):
    s = store(db)
    await add(s, "a", session_start())
    with s.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"


def test_events_deserialise_as_rasa_deserialises_them():
    for event in [*session_start(), *turn("bonjour"), SlotSet("topic", "x"), ConversationPaused()]:
        data = event.as_dict()
        decoded = deserialise_event(data)
        assert decoded == type(event)._from_parameters(data)
        assert decoded is not None and decoded.as_dict() == data
    assert deserialise_event({"event": "topic"}) is None


async def test_a_new_conversation_is_written_without_counting(db):
    s = store(db)
    statements: list[str] = []
    sa_event.listen(s.engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    served = FailSafeTrackerStore(s)  # as Rasa serves it: the tracker is made by Rasa
    tracker = await served.get_or_create_tracker("new", append_action_listen=False)
    assert not isinstance(tracker, StoredTracker)
    for e in session_start() + turn("bonjour"):
        tracker.update(e)
    await served.save(tracker)
    await served.save(tracker)
    assert not [q for q in statements if "count(" in q.lower()]
    assert dicts(await stock(db).retrieve("new")) == dicts(tracker)[1:]  # from SessionStarted
    # a conversation that exists is never taken for a new one
    foreign = await stock(db).retrieve("new")
    for e in turn("encore"):
        foreign.update(e)
    await store(db).save(foreign)
    assert dicts(await stock(db).retrieve("new")) == dicts(foreign)


def _statements(s: BoundedSQLTrackerStore) -> list[str]:
    seen: list[str] = []
    sa_event.listen(s.engine, "before_cursor_execute", lambda *a: seen.append(a[2]))
    return seen


async def test_the_next_message_gets_the_kept_tracker_without_reading_events(db):
    s = store(db)
    await add(s, "a", session_start() + turn("bonjour"))  # a new session: not kept
    first = await add(s, "a", turn("encore"))  # read back, then kept
    seen = _statements(s)
    again = await read_back(s, "a")
    assert again is first  # kept after its save: no events read, decoded or replayed
    assert seen == []  # one `SELECT max(id)` on the store's own sqlite3 connection, no read
    for e in turn("merci", "thank"):
        again.update(e)
    await s.save(again)
    # what it holds is what the database holds
    assert dicts(await s.retrieve("a")) == dicts(await stock(db).retrieve("a"))


async def test_a_write_by_another_process_is_seen(db):
    mine, other = store(db), store(db)  # two Rasa workers on one database
    await add(mine, "a", session_start() + turn("bonjour"))
    await add(mine, "a", turn("encore"))
    theirs = await read_back(other, "a")
    for e in turn("depuis l'autre processus"):
        theirs.update(e)
    await other.save(theirs)
    tracker = await read_back(mine, "a")
    assert tracker.latest_message.text == "depuis l'autre processus"
    assert dicts(tracker) == dicts(await stock(db).retrieve("a"))


async def test_a_tracker_changed_and_not_saved_is_read_again(db):
    s = store(db)
    await add(s, "a", session_start())
    tracker = await add(s, "a", turn("bonjour"))
    tracker.update(UserUttered("jamais enregistré", {"name": "greet", "confidence": 1.0}))
    again = await read_back(s, "a")
    assert again is not tracker
    assert again.latest_message.text == "bonjour"


async def test_a_tracker_is_handed_out_once(db):
    s = store(db)
    await add(s, "a", session_start())
    tracker = await add(s, "a", turn("bonjour"))
    assert await s.retrieve("a") is tracker
    second = await s.retrieve("a")  # a second reader before any save: its own copy
    assert second is not tracker and dicts(second) == dicts(tracker)


async def test_keeping_is_bounded_and_can_be_switched_off(db):
    s = store(db, kept_trackers=2)
    for sender in "abc":
        await add(s, sender, session_start())
        await add(s, sender, turn("bonjour"))
    assert list(s._kept) == ["b", "c"]
    # a new session is read back from its start
    tracker = await add(s, "c", session_start())
    assert await s.retrieve("c") is not tracker
    off = store(db, kept_trackers=0)
    await add(off, "d", session_start())
    tracker = await add(off, "d", turn("bonjour"))
    assert await off.retrieve("d") is not tracker
    # a conversation longer than twice the read window is read back, bounded
    small = store(db, max_events=10)
    await add(small, "e", session_start())
    tracker = await add(small, "e", turn("1") + turn("2"))
    assert await read_back(small, "e") is tracker
    for i in range(6):
        for e in turn(str(i)):
            tracker.update(e)
    await small.save(tracker)
    assert await small.retrieve("e") is not tracker
