"""The supervisor's figures of one day, from Rasa's tracker store (read only).

The figures only: their SVG charts are drawn by bot.agents.charts, their CSV by
bot.agents.export, the page by bot.agents.pages.

Rasa's SQL tracker store keeps every event of every conversation in its `events` table
(sender_id, type_name, timestamp, intent_name, action_name, data). A patient's message is a
`user` event (its text and its classification in `data`); the answer the assistant chose is the
first `utter_*` action after it. A question "the assistant could not answer" is one classified
`nlu_fallback`, `out_of_scope` or `no_validated_info`, or answered with the corresponding answer
(Rasa's own fallback when the dialogue policy is unsure).

No personal data leaves this module: conversation ids are never read out, and texts go through
`redact` (references, dates, phone and other long numbers, e-mail addresses masked) on top of
the masking the tracker store itself does.

Where the tracker store is: `get_settings().tracker_database_url` (TRACKER_DATABASE_URL, by
default var/tracker.db), the database bot.stores.tracker_store writes to. A SQLite file is opened
read-only; on PostgreSQL, give the console a role that may only SELECT.
"""

from __future__ import annotations

import json
import re
import threading
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import OperationalError, ProgrammingError

from bot.agents.suggest import UNANSWERED_ACTIONS, UNANSWERED_INTENTS, intent_label
from bot.privacy.redaction import redact_text
from bot.settings import LOCAL_TZ as LOCAL
from bot.text import strip_accents

TOP_WORDINGS = 15
MIN_REPEATS = 2  # a wording is listed among "the most asked" from this many askings on

# --- where the tracker store is ---------------------------------------------------------------


def tracker_url(database_url: str, root: Path) -> str:
    """The tracker store's SQLAlchemy URL (`get_settings().tracker_database_url`, the one the
    tracker store writes to), opened read-only when it is a SQLite file."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite":
        return database_url
    path = Path(url.database or "")
    if not path.is_absolute():
        path = root / path
    return f"sqlite:///file:{path}?mode=ro&uri=true"


_engines: dict[str, Engine] = {}
_lock = threading.Lock()


def tracker_engine(url: str) -> Engine:
    """One cached engine per tracker store URL.

    Not bot.db's engines: they are for the application's database and write to it (migrations,
    the WAL journal mode, the file's folder made); the tracker store is Rasa's, opened through
    a read-only `file:` URI, and the console only ever reads it."""
    with _lock:
        engine = _engines.get(url)
        if engine is None:
            kwargs: dict[str, Any] = {"future": True, "hide_parameters": True}
            if url.startswith("sqlite"):
                kwargs["connect_args"] = {"check_same_thread": False, "timeout": 10}
            else:
                kwargs["pool_pre_ping"] = True
            engine = create_engine(url, **kwargs)
            _engines[url] = engine
        return engine


def sqlite_path(url: str) -> Path | None:
    m = re.match(r"sqlite:///file:(.*)\?mode=ro", url)
    return Path(m.group(1)) if m else None


# --- grouping ---------------------------------------------------------------------------------


def _grouping_key(text_: str) -> str:
    """Two askings of the same question group together whatever their case, accents and
    punctuation; the masks ([référence], ...) stay distinct words."""
    folded = strip_accents(text_.casefold())
    return " ".join(re.sub(r"[^\w\[\]]+", " ", folded).split())


# --- the figures ------------------------------------------------------------------------------


@dataclass
class Question:
    at: datetime  # local time (naive)
    intent: str | None
    confidence: float | None
    text: str  # redacted
    answer: str | None = None  # the first utter_* action after it

    @property
    def unanswered(self) -> bool:
        return (self.intent in UNANSWERED_INTENTS) or (self.answer in UNANSWERED_ACTIONS)


@dataclass(frozen=True)
class Topic:
    intent: str
    label: str
    count: int
    unanswered: int


@dataclass(frozen=True)
class Wording:
    text: str
    count: int
    first_at: datetime
    last_at: datetime


@dataclass
class DayReport:
    day: date
    total: int = 0
    unanswered: int = 0
    conversations: int = 0
    topics: list[Topic] = field(default_factory=list)
    hours: list[tuple[int, int, int]] = field(default_factory=list)  # (hour, total, unanswered)
    top_wordings: list[Wording] = field(default_factory=list)
    unanswered_questions: list[Wording] = field(default_factory=list)
    source_error: str | None = None  # French: why there are no figures

    @property
    def rate(self) -> float | None:
        return self.unanswered / self.total if self.total else None


def day_bounds(day: date) -> tuple[float, float]:
    """The Unix times at which the Belgian day starts and ends."""
    start = datetime.combine(day, time(), LOCAL)
    end = datetime.combine(day + timedelta(days=1), time(), LOCAL)
    return start.timestamp(), end.timestamp()


def today() -> date:
    return datetime.now(LOCAL).date()


def _local(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, timezone.utc).astimezone(LOCAL).replace(tzinfo=None)


_QUESTIONS = text(
    "SELECT sender_id, type_name, timestamp, intent_name, action_name, data FROM events "
    "WHERE timestamp >= :start AND timestamp < :end AND type_name IN ('user', 'action') "
    "ORDER BY sender_id, id"
)


def _question(row: Any) -> Question | None:
    """The question of a `user` event, or None: no text, or an intent sent as "/intent"."""
    try:
        data = json.loads(row.data or "{}")
    except ValueError:
        data = {}
    raw = str(data.get("text") or "").strip()
    if not raw or raw.startswith("/"):
        return None
    parsed = (data.get("parse_data") or {}).get("intent") or {}
    return Question(
        at=_local(float(row.timestamp)),
        intent=row.intent_name or parsed.get("name"),
        confidence=parsed.get("confidence"),
        text=redact_text(raw),
    )


def read_questions(engine: Engine, day: date) -> tuple[list[Question], int]:
    """The day's questions (every `user` event with a text) and the number of conversations.

    Events come ordered by conversation, so the answer to a question is the first `utter_*`
    action that follows it in the same conversation."""
    start, end = day_bounds(day)
    questions: list[Question] = []
    senders: set[str] = set()  # counted, never shown
    pending: Question | None = None
    current: str | None = None
    with engine.connect() as conn:
        for row in conn.execute(_QUESTIONS, {"start": start, "end": end}):
            if row.sender_id != current:
                current, pending = row.sender_id, None
            if row.type_name == "user":
                pending = _question(row)
                if pending is not None:
                    questions.append(pending)
                    senders.add(row.sender_id)
            elif pending is not None and pending.answer is None:
                name = row.action_name or ""
                if name.startswith("utter_"):
                    pending.answer = name
    return questions, len(senders)


def _wordings(questions: list[Question]) -> list[Wording]:
    groups: dict[str, list[Question]] = defaultdict(list)
    for q in questions:
        groups[_grouping_key(q.text)].append(q)
    out = []
    for items in groups.values():
        shown = Counter(q.text for q in items).most_common(1)[0][0]
        times = [q.at for q in items]
        out.append(Wording(shown, len(items), min(times), max(times)))
    out.sort(key=lambda w: (-w.count, w.first_at))
    return out


def summarise(questions: list[Question], day: date, conversations: int = 0) -> DayReport:
    report = DayReport(day=day, conversations=conversations)
    report.total = len(questions)
    report.unanswered = sum(1 for q in questions if q.unanswered)
    by_topic: dict[str, list[Question]] = defaultdict(list)
    for q in questions:
        by_topic[q.intent or "inconnu"].append(q)
    report.topics = sorted(
        (
            Topic(intent, intent_label(intent), len(items), sum(1 for q in items if q.unanswered))
            for intent, items in by_topic.items()
        ),
        key=lambda t: (-t.count, t.label),
    )
    hours = [[h, 0, 0] for h in range(24)]
    for q in questions:
        hours[q.at.hour][1] += 1
        hours[q.at.hour][2] += int(q.unanswered)
    report.hours = [(h, n, u) for h, n, u in hours]
    report.top_wordings = [w for w in _wordings(questions) if w.count >= MIN_REPEATS][:TOP_WORDINGS]
    report.unanswered_questions = _wordings([q for q in questions if q.unanswered])
    return report


def day_report(url: str, day: date) -> DayReport:
    """The figures of `day` (Belgian time) from the tracker store at `url`."""
    path = sqlite_path(url)
    if path is not None and not path.exists():
        return DayReport(day=day, source_error="Aucune conversation enregistrée pour l'instant.")
    try:
        questions, conversations = read_questions(tracker_engine(url), day)
    except (OperationalError, ProgrammingError) as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()
        if reason and "no such table" in reason[0]:
            return DayReport(
                day=day, source_error="Aucune conversation enregistrée pour l'instant."
            )
        return DayReport(
            day=day,
            source_error="Les conversations ne peuvent pas être lues : "
            f"{reason[0] if reason else type(exc).__name__}",
        )
    return summarise(questions, day, conversations)


def percent(rate: float | None) -> str:
    """A rate the French way: "66,7 %" (or "—" when there is nothing to divide)."""
    return "—" if rate is None else f"{rate * 100:.1f}".replace(".", ",") + " %"
