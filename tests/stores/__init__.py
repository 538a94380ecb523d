"""What the tracker store tests share."""

from __future__ import annotations

from rasa.core.tracker_store import TrackerStore
from rasa.shared.core.trackers import DialogueStateTracker


async def read_back(store: TrackerStore, sender_id: str) -> DialogueStateTracker:
    """`store.retrieve(sender_id)` for a conversation the test has saved, so there is one: a
    missing conversation fails here, by its name, rather than as an attribute error on None."""
    tracker = await store.retrieve(sender_id)
    assert tracker is not None, f"no conversation {sender_id!r} in the store"
    return tracker
