"""The live assistant with two Rasa worker processes on one port (the default on 2 cores).

Every request below opens its own connection, so that the messages of one conversation land on
either worker: what one worker keeps in memory (the tracker kept after its save, the rule
policy's states) must never hide what the other wrote, and one message of a conversation is
handled at a time across both (the lock file).
"""

from __future__ import annotations

import sqlite3
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.live.stack import LiveStack

QUESTIONS = {
    "les urgences sont ouvertes ?": "1733",
    "je veux parler au call center": "0800/35.168",
    "il y a une garde de médecin généraliste ?": "1733",
}


def _rasa_processes(port: int) -> int:
    """Processes whose command line is `... rasa run ... --port <port>`."""
    count = 0
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            argv = cmdline.read_bytes().split(b"\0")
        except OSError:
            continue
        if b"rasa" in argv and b"run" in argv and str(port).encode() in argv:
            count += 1
    return count


def _user_texts(stack: LiveStack, sender: str) -> list[str]:
    with sqlite3.connect(stack.workdir / "var" / "tracker.db") as db:
        rows = db.execute(
            "SELECT type_name FROM events WHERE sender_id = ? ORDER BY id", (sender,)
        ).fetchall()
    return [t for (t,) in rows]


def test_two_workers_serve_the_port(live_stack: LiveStack) -> None:
    # the Sanic main process and its two workers
    assert _rasa_processes(live_stack.rasa_port) == 3


def test_conversations_hopping_between_workers_stay_whole(live_stack: LiveStack) -> None:
    senders = [f"workers-{n}" for n in range(12)]
    questions = list(QUESTIONS)

    def converse(sender: str) -> list[str]:
        texts = []
        for turn in range(6):
            question = questions[(turn + len(sender)) % len(questions)]
            answer = " ".join(m.get("text", "") for m in live_stack.ask(question, sender))
            assert QUESTIONS[question] in answer, (sender, turn, question, answer)
            texts.append(question)
        return texts

    with ThreadPoolExecutor(max_workers=6) as pool:
        asked = dict(zip(senders, pool.map(converse, senders)))
    for sender in senders:
        kinds = _user_texts(live_stack, sender)
        # every message stored once, each followed by its answer before the next message
        assert kinds.count("user") == len(asked[sender]) == 6
        turns = "".join("u" if k == "user" else "b" if k == "bot" else "" for k in kinds)
        assert turns == "ub" * 6, turns


def test_two_messages_of_one_conversation_at_once_are_handled_one_after_the_other(
    live_stack: LiveStack,
) -> None:
    sender = "workers-same-time"
    messages = ["les urgences sont ouvertes ?", "je veux parler au call center"] * 3
    with ThreadPoolExecutor(max_workers=6) as pool:
        answers = list(pool.map(lambda m: live_stack.ask(m, sender), messages))
    assert all(answers), answers
    kinds = _user_texts(live_stack, sender)
    turns = "".join("u" if k == "user" else "b" if k == "bot" else "" for k in kinds)
    # six whole turns: no answer written in the middle of another message's turn
    assert turns == "ub" * 6, turns


@pytest.fixture(autouse=True)
def _two_workers(live_stack: LiveStack) -> None:
    if _rasa_processes(live_stack.rasa_port) < 3:
        pytest.skip("the live stack runs one Rasa worker on this machine (one core)")
