"""A known day of conversations written into a Rasa `events` table, shared by the tests of the
figures (test_stats), their charts (test_charts) and their CSV (test_export)."""

from __future__ import annotations

import json
import sqlite3
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

BRUSSELS = ZoneInfo("Europe/Brussels")
DAY = date(2022, 5, 17)


def ts(hour: int, minute: int = 0, day: date = DAY) -> float:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=BRUSSELS).timestamp()


# (conversation, Belgian time, text, intent, answer the assistant gave)
CONVERSATIONS = [
    ("a", ts(8, 5), "les urgences sont ouvertes ?", "er_when", "utter_er_when"),
    ("a", ts(8, 6), "le parking est gratuit ?", "no_validated_info", "utter_no_validated_info"),
    ("b", ts(9, 0), "Les urgences sont ouvertes", "er_when", "utter_er_when"),
    ("b", ts(9, 1), "xqzt blorp", "nlu_fallback", "utter_fallback"),
    ("c", ts(9, 30), "LE PARKING est gratuit?", "no_validated_info", "utter_no_validated_info"),
    ("c", ts(9, 31), "ma ref C-22-004512 née le 14/02/1961, tel 0470 12 34 56, a@b.be ?",
     "no_validated_info", "utter_no_validated_info"),
    ("d", ts(14, 0), "/greet", "greet", "utter_greet"),  # a button payload, not a question
    ("d", ts(14, 1), "bonjour", "greet", "utter_greet"),
    # classified, but Rasa's policy fell back: unanswered all the same
    ("e", ts(14, 30), "je veux voir ma mère", "patient_privacy", "utter_fallback"),
    ("e", ts(23, 59), "=HYPERLINK(\"http://x\")", "out_of_scope", "utter_out_of_scope"),
    # other days
    ("f", ts(23, 59, date(2022, 5, 16)), "hier soir", "situation", "utter_situation"),
    ("f", ts(0, 0, date(2022, 5, 18)), "demain matin", "situation", "utter_situation"),
]  # fmt: skip


def write_events(path: Path, conversations=CONVERSATIONS) -> None:
    """Rasa's SQL tracker store table, with the events one turn writes."""
    db = sqlite3.connect(path)
    db.execute(
        "CREATE TABLE events (id INTEGER NOT NULL PRIMARY KEY, sender_id VARCHAR(255) NOT NULL, "
        "type_name VARCHAR(255) NOT NULL, timestamp FLOAT, intent_name VARCHAR(255), "
        "action_name VARCHAR(255), data TEXT)"
    )
    rows = []
    for sender, t, text, intent, answer in conversations:
        user = {"event": "user", "timestamp": t, "text": text,
                "parse_data": {"intent": {"name": intent, "confidence": 0.9}, "text": text}}  # fmt: skip
        rows += [
            (sender, "user", t, intent, None, json.dumps(user)),
            (sender, "user_featurization", t + 0.001, None, None, "{}"),
            (sender, "action", t + 0.002, None, answer, json.dumps({"name": answer})),
            (sender, "bot", t + 0.003, None, None, json.dumps({"text": "réponse"})),
            (sender, "action", t + 0.004, None, "action_listen", "{}"),
        ]
    db.executemany(
        "INSERT INTO events (sender_id, type_name, timestamp, intent_name, action_name, data) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        rows,
    )
    db.commit()
    db.close()


def filled_tracker(folder: Path, conversations=CONVERSATIONS) -> str:
    """A tracker store holding `conversations`, as the console opens it (read only)."""
    write_events(folder / "tracker.db", conversations)
    return f"sqlite:///file:{folder / 'tracker.db'}?mode=ro&uri=true"
