"""A bounded, lighter SQL tracker store (Rasa's SQLTrackerStore, extension point `tracker_store`).

Rasa's SQLTrackerStore, at every message: opens a new SQLite connection (SQLAlchemy's NullPool
for a file database) for each of its three queries, reads back every event of the conversation
session, deserialises each one by walking the Event class tree again, counts the stored events
once more before saving, and commits with SQLite's rollback journal (several fsyncs). A
conversation of thousands of messages within the 60-minute session makes every one of its
messages slower, and the rule policy re-reads all of it twice per message.

This store keeps Rasa's table and its SQL dialects, and changes how it is used:
- SQLite: one connection kept open, write-ahead journal, `synchronous=NORMAL` (a commit no
  longer waits for the disk; an application crash loses nothing, a power cut may lose the last
  turns);
- reading: one query for the events since the last session start, newest first, at most
  `max_events` of them (default 60, about 15 turns), cut at a turn boundary; when older events
  of the session are left out, their last slot values (and loop / pause state) are restored in
  front, so that the conversation's state is the same; event classes looked up once;
- saving: only the events added since the tracker was read (known from the tracker itself, no
  count query), inserted in one statement.

- keeping: after a save, the tracker itself is kept in memory (a bounded LRU) together with the
  newest event id of its conversation in the database. The next `retrieve` of that conversation
  asks the database only for that id: if no other process wrote since (several Rasa workers
  share the database), and the tracker holds nothing unsaved, the kept tracker is handed back,
  without reading, decoding and replaying its events. A tracker is kept only when it is what a
  read would give back: one this store read, with no new session started since, none of its
  new events changed on its way to the database (masked identifiers, `stored_form`), and
  within twice the read window.

`retrieve_full_tracker` (the HTTP API, exports) still returns every event. Subclasses can
change what is written by overriding `stored_form`.
"""

from __future__ import annotations

import itertools
import json
import logging
import os
import sqlite3
import threading
import time
import weakref
from collections import OrderedDict
from typing import Any

import sqlalchemy as sa
from rasa.core.brokers.broker import EventBroker
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    ActiveLoop,
    ConversationPaused,
    ConversationResumed,
    Event,
    SessionStarted,
    SlotSet,
)
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT_NAME_KEY
from rasa.shared.utils.common import all_subclasses

from bot.db import apply_sqlite_pragmas

logger = logging.getLogger(__name__)

DEFAULT_MAX_EVENTS = 60
# a conversation found absent is taken as new for this long (Rasa creates it right away)
_NEW_TRACKER_SECONDS = 10.0
_REMEMBERED = 4096
# conversations whose tracker is kept in memory between two messages
DEFAULT_KEPT_TRACKERS = 512

# Events whose effect lasts beyond their turn: the last one of each key is kept when older
# events are left out (key: slot name, or the event type for loops and pause / resume).
_STATE_TYPES = (SlotSet.type_name, ActiveLoop.type_name)
_PAUSE_TYPES = (ConversationPaused.type_name, ConversationResumed.type_name)


class StoredTracker(DialogueStateTracker):
    """A tracker that knows how many of its events are already in the database."""

    stored_events: int = 0
    read_back: bool = False  # read from the database by `retrieve` (not made for a new one)


_event_classes: dict[str, type[Event]] = {}


def event_class(type_name: str) -> type[Event] | None:
    """Event.resolve_by_type, with the class tree walked once rather than for every event."""
    cls = _event_classes.get(type_name)
    if cls is None:
        for sub in all_subclasses(Event):
            _event_classes.setdefault(sub.type_name, sub)
        cls = _event_classes.get(type_name)
    return cls


def deserialise_event(data: dict[str, Any]) -> Event | None:
    cls = event_class(str(data.get("event")))
    if cls is None:  # unknown to this Rasa: let Rasa decide (warning, or None)
        return Event.from_parameters(data)
    return cls._from_parameters(data)


class BoundedSQLTrackerStore(SQLTrackerStore):
    """SQLTrackerStore that reads a bounded window of the session and writes only what is new."""

    def __init__(
        self,
        domain: Domain | None = None,
        dialect: str = "sqlite",
        host: str | None = None,
        port: int | None = None,
        db: str = "rasa.db",
        username: str | None = None,
        password: str | None = None,
        event_broker: EventBroker | None = None,
        login_db: str | None = None,
        query: dict | None = None,
        max_events: int = DEFAULT_MAX_EVENTS,
        kept_trackers: int = DEFAULT_KEPT_TRACKERS,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            domain, dialect, host, port, db, username, password, event_broker, login_db, query,
            **kwargs,
        )  # fmt: skip
        self.max_events = max(int(max_events), 8)
        engine: sa.engine.Engine = self.engine  # type: ignore[has-type]
        url = engine.url
        if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
            # One pooled connection instead of a new one per query; WAL journal.
            engine.dispose()
            self.engine = sa.create_engine(
                url,
                poolclass=sa.pool.QueuePool,
                pool_size=2,
                max_overflow=4,
                connect_args={"check_same_thread": False},
            )
            sa.event.listen(self.engine, "connect", apply_sqlite_pragmas)
            self.sessionmaker = sa.orm.session.sessionmaker(bind=self.engine)
            self._sqlite_path: str | None = str(url.database)
        else:
            self._sqlite_path = None
        # SQLite: the two statements of every message (is the kept tracker current? insert the
        # new events) on a plain sqlite3 connection of this process, without SQLAlchemy's
        # per-statement work; opened on first use, in the process that uses it
        self._raw: sqlite3.Connection | None = None
        self._raw_pid = 0
        self._raw_lock = threading.Lock()
        self._statements()
        # new conversations: found absent by `retrieve`, then created by Rasa (_stored_count)
        self._absent: OrderedDict[str, float] = OrderedDict()
        self._created: OrderedDict[str, tuple[Any, int]] = OrderedDict()
        # trackers kept after their save: sender id -> (tracker, newest event id in the database)
        self.kept_trackers = max(int(kept_trackers), 0)
        self._kept: OrderedDict[str, tuple[DialogueStateTracker, int, int]] = OrderedDict()

    # -- reading -------------------------------------------------------------------------

    def init_tracker(self, sender_id: str) -> DialogueStateTracker:
        return StoredTracker(sender_id, self.domain.slots, max_event_history=self.max_event_history)

    async def retrieve(self, sender_id: str) -> DialogueStateTracker | None:
        """The latest session's events, at most `max_events` of them (see the module doc)."""
        kept = self._take_kept(sender_id)
        if kept is not None:
            return kept
        events = self._read_session(sender_id)
        if not events:
            self._remember(self._absent, sender_id, time.monotonic())
            return None
        tracker = StoredTracker.from_events(
            sender_id, events, self.domain.slots, self.max_event_history
        )
        tracker.stored_events = len(tracker.events)
        tracker.read_back = True
        return tracker

    def _statements(self) -> None:
        """The reading statements, built once (SQLAlchemy then reuses their compiled form)."""
        c = self.SQLEvent.__table__.c
        sender = sa.bindparam("sender_id")
        session_start = (
            sa.select(sa.func.max(c.id))
            .where(c.sender_id == sender, c.type_name == SessionStarted.type_name)
            .scalar_subquery()
        )
        since_start = sa.or_(session_start.is_(None), c.id >= session_start)
        self._window_query = (
            sa.select(c.id, c.type_name, c.action_name, c.data)
            .where(c.sender_id == sender, since_start)
            .order_by(c.id.desc())
            .limit(self.max_events + 1)
        )
        self._state_query = (
            sa.select(c.id, c.type_name, c.data)
            .where(
                c.sender_id == sender,
                since_start,
                c.id < sa.bindparam("before_id"),
                c.type_name.in_(_STATE_TYPES + _PAUSE_TYPES),
            )
            .order_by(c.id)
        )
        self._insert = self.SQLEvent.__table__.insert()
        self._newest_id_query = sa.select(sa.func.max(c.id)).where(c.sender_id == sender)
        table = self.SQLEvent.__table__.name
        self._raw_newest_id = f"SELECT max(id) FROM {table} WHERE sender_id = ?"  # noqa: S608
        self._raw_insert = (
            f"INSERT INTO {table} (sender_id, type_name, timestamp, intent_name, action_name, "  # noqa: S608
            "data) VALUES (:sender_id, :type_name, :timestamp, :intent_name, :action_name, :data)"
        )

    def _raw_connection(self) -> sqlite3.Connection | None:
        """This process's plain sqlite3 connection (None when the store is not a SQLite file)."""
        if self._sqlite_path is None:
            return None
        if self._raw is None or self._raw_pid != os.getpid():
            conn = sqlite3.connect(
                self._sqlite_path, timeout=10.0, isolation_level=None, check_same_thread=False
            )
            apply_sqlite_pragmas(conn)
            self._raw, self._raw_pid = conn, os.getpid()
        return self._raw

    def _newest_id(self, sender_id: str) -> int | None:
        """The id of the conversation's newest event in the database."""
        raw = self._raw_connection()
        if raw is not None:
            with self._raw_lock:
                row = raw.execute(self._raw_newest_id, (sender_id,)).fetchone()
            return row[0] if row else None
        with self.engine.connect() as conn:
            return conn.execute(self._newest_id_query, {"sender_id": sender_id}).scalar()

    def _insert_rows(self, sender_id: str, rows: list[dict[str, Any]], newest: bool) -> int | None:
        """Insert the rows in one transaction; the id of the conversation's newest event then,
        when `newest` (None otherwise)."""
        raw = self._raw_connection()
        if raw is None:
            with self.engine.begin() as conn:
                conn.execute(self._insert, rows)
                if newest:
                    return conn.execute(self._newest_id_query, {"sender_id": sender_id}).scalar()
            return None
        with self._raw_lock:
            raw.execute("BEGIN IMMEDIATE")
            try:
                last = None
                for row in rows:
                    last = raw.execute(self._raw_insert, row).lastrowid
                raw.execute("COMMIT")
            except BaseException:
                raw.execute("ROLLBACK")
                raise
        # inside the write transaction the ids follow each other: the last one is the newest
        return last if newest else None

    def _take_kept(self, sender_id: str) -> DialogueStateTracker | None:
        """The tracker kept after its last save, if the database has nothing newer for it.

        Taken out of the cache: it goes back at its next save. A reader that does not save
        (or fails before saving) leaves the next `retrieve` to read the database."""
        kept = self._kept.pop(sender_id, None)
        if kept is None:
            return None
        tracker, newest_id, stored = kept
        if len(tracker.events) != stored:
            return None  # changed since its save, and not saved
        return tracker if self._newest_id(sender_id) == newest_id else None

    def _read_session(self, sender_id: str) -> list[Event]:
        with self.engine.connect() as conn:
            rows = conn.execute(self._window_query, {"sender_id": sender_id}).all()
            rows.reverse()
            restored: list[Any] = []
            if len(rows) > self.max_events:
                rows = self._from_turn_start(rows[1:])
                restored = self._lasting_state(conn, sender_id, rows[0].id)
        events = []
        for row in itertools.chain(restored, rows):
            event = deserialise_event(json.loads(row.data))
            if event is not None:
                events.append(event)
        return events

    @staticmethod
    def _from_turn_start(rows: list[Any]) -> list[Any]:
        """The rows from the first `action_listen` on, so that no turn is cut in half."""
        for i, row in enumerate(rows):
            if row.type_name == ActionExecuted.type_name and row.action_name == ACTION_LISTEN_NAME:
                return rows[i:]
        return rows

    def _lasting_state(self, conn: Any, sender_id: str, before_id: int) -> list[Any]:
        """The last slot value of each slot, active loop and pause state, before `before_id`."""
        rows = conn.execute(
            self._state_query, {"sender_id": sender_id, "before_id": before_id}
        ).all()
        last: dict[str, Any] = {}
        for row in rows:
            if row.type_name == SlotSet.type_name:
                key = "slot:" + str(json.loads(row.data).get("name"))
            elif row.type_name in _PAUSE_TYPES:
                key = "pause"
            else:
                key = row.type_name
            last.pop(key, None)  # keep the original order of the last values
            last[key] = row
        return list(last.values())

    # -- writing -------------------------------------------------------------------------

    def serialise_event(self, event: Event) -> dict[str, Any]:
        """The event as stored."""
        return self.stored_form(event.as_dict())

    def stored_form(self, data: dict[str, Any]) -> dict[str, Any]:
        """What is written of an event's dict (a subclass may mask what must not be kept);
        returning `data` itself means "stored unchanged"."""
        return data

    async def save(self, tracker: DialogueStateTracker) -> None:
        """Insert the events added since the tracker was read, in one statement."""
        stored = self._stored_count(tracker)
        known = stored is not None and stored <= len(tracker.events)
        if not known:
            # a tracker this store did not read: Rasa's way (count what is stored)
            with self.session_scope() as session:
                new_events = list(self._additional_events(session, tracker))
        else:
            new_events = list(itertools.islice(tracker.events, stored, None))
        sender_id = tracker.sender_id
        self._kept.pop(sender_id, None)
        as_read = True  # what a read of the database would give back
        newest_id = None
        if new_events:
            rows = []
            for event in new_events:
                row, unchanged = self._row_and_check(sender_id, event)
                rows.append(row)
                as_read = as_read and unchanged
        keep = (
            as_read
            and self.kept_trackers > 0
            # a tracker read by this store (a read starts at the session's start): not one
            # made by Rasa for a new conversation, nor one where a new session just started
            and known
            and isinstance(tracker, StoredTracker)
            and tracker.read_back
            and not any(e.type_name == SessionStarted.type_name for e in new_events)
            # a read gives at most `max_events`: kept up to twice that, then read back
            and len(tracker.events) <= 2 * self.max_events
        )
        if new_events:
            newest_id = self._insert_rows(sender_id, rows, newest=keep)
        elif keep:
            newest_id = self._newest_id(sender_id)
        if keep and newest_id is not None:
            self._remember(
                self._kept, sender_id, (tracker, newest_id, len(tracker.events)), self.kept_trackers
            )
        if isinstance(tracker, StoredTracker):
            tracker.stored_events = len(tracker.events)
        else:
            self._remember(
                self._created, tracker.sender_id, (weakref.ref(tracker), len(tracker.events))
            )
        if self.event_broker is not None and new_events:
            await self._stream_new_events(self.event_broker, new_events, tracker.sender_id)

    def _stored_count(self, tracker: DialogueStateTracker) -> int | None:
        """How many of the tracker's events are in the database (None: unknown, count them).

        A tracker this store read knows it. A new conversation's tracker is made by Rasa
        (`create_tracker`), not read: it is new if `retrieve` found nothing for it a moment
        ago, and after its first save this store remembers how much of it was written."""
        if isinstance(tracker, StoredTracker):
            return tracker.stored_events
        sender_id = tracker.sender_id
        created = self._created.get(sender_id)
        if created is not None and created[0]() is tracker:
            return int(created[1])
        absent_since = self._absent.pop(sender_id, None)
        if absent_since is not None and time.monotonic() - absent_since < _NEW_TRACKER_SECONDS:
            return 0
        return None

    @staticmethod
    def _remember(cache: OrderedDict, key: str, value: Any, size: int = _REMEMBERED) -> None:
        cache[key] = value
        cache.move_to_end(key)
        while len(cache) > size:
            cache.popitem(last=False)

    def _row_and_check(self, sender_id: str, event: Event) -> tuple[dict[str, Any], bool]:
        """The database row of an event, and whether it stores the event unchanged."""
        raw = event.as_dict()
        data = self.stored_form(raw)
        unchanged = data is raw or data == raw
        parse_data = data.get("parse_data") or {}
        return {
            "sender_id": sender_id,
            "type_name": event.type_name,
            "timestamp": data.get("timestamp"),
            "intent_name": (parse_data.get("intent") or {}).get(INTENT_NAME_KEY),
            "action_name": data.get("name"),
            "data": json.dumps(data),
        }, unchanged
