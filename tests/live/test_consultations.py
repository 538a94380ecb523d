"""End-to-end over REST: "is my consultation maintained?" against the imported sample list."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import uuid

import pytest

from tests.live.stack import ROOT, LiveStack

SAMPLE = ROOT / "tests" / "consultations" / "data" / "consultations-sample.csv"


@pytest.fixture(scope="module")
def stack(live_stack: LiveStack) -> LiveStack:
    env = {
        **os.environ,
        "VAR_DIR": str(live_stack.workdir / "var"),
        "DATABASE_URL": f"sqlite:///{live_stack.workdir / 'var' / 'crisis.db'}",
    }
    result = subprocess.run(
        [sys.executable, "-m", "bot", "import-consultations", str(SAMPLE)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return live_stack


def new_sender() -> str:
    return "live-" + uuid.uuid4().hex


def say(stack: LiveStack, sender: str, text: str) -> str:
    return "\n".join(m.get("text") or "" for m in stack.ask(text, sender))


def lookup(stack: LiveStack, reference: str, birth_date: str) -> str:
    sender = new_sender()
    assert "référence" in say(stack, sender, "je voudrais vérifier mon rendez-vous")
    assert "date de naissance" in say(stack, sender, reference)
    return say(stack, sender, birth_date)


def test_maintained(stack: LiveStack) -> None:
    answer = lookup(stack, "C-22-9100013", "11/12/1999")
    assert "jeudi 19 mai 2022 à 17 h est maintenue" in answer
    assert "Hôpital psychiatrique de Bertrix" in answer and "0800/35.168" in answer


def test_maintained_with_the_service_note(stack: LiveStack) -> None:
    answer = lookup(stack, "C-22-9100109", "14/06/2007")
    assert "est maintenue" in answer and "carnet de grossesse" in answer


def test_cancelled(stack: LiveStack) -> None:
    answer = lookup(stack, "C-22-9100001", "28/04/1941")
    assert "mercredi 18 mai 2022 à 9 h 45" in answer and "est annulée" in answer


def test_moved(stack: LiveStack) -> None:
    answer = lookup(stack, "C-22-9100130", "13/04/1975")
    assert "est reportée" in answer and "samedi 18 juin 2022 à 8 h" in answer


@pytest.mark.parametrize(
    "birth_date",
    [
        "11-12-1999",
        "11.12.1999",
        "1999-12-11",
        "11 décembre 1999",
        "11 decembre 1999",
        "née le 11/12/1999",
    ],
)
def test_every_usual_date_format(stack: LiveStack, birth_date: str) -> None:
    assert "est maintenue" in lookup(stack, "C-22-9100013", birth_date)


def test_both_in_one_message_and_a_lower_case_spaced_reference(stack: LiveStack) -> None:
    answer = say(
        stack, new_sender(), "mon rendez-vous c 22 9100013 est-il maintenu ? née le 11/12/1999"
    )
    assert "est maintenue" in answer


def test_unknown_reference_and_wrong_birth_date_get_the_same_words(stack: LiveStack) -> None:
    wrong_date = lookup(stack, "C-22-9100034", "01/01/1950")
    unknown = lookup(stack, "C-22-9999999", "11/12/1947")
    assert wrong_date == unknown
    assert "si Vivalia ne vous a pas contacté, votre consultation est annulée" in unknown


def test_three_failures_on_a_reference_lock_it_for_every_conversation(stack: LiveStack) -> None:
    for day in ("01", "02", "03"):
        assert "Je ne trouve pas" in lookup(stack, "C-22-9100044", f"{day}/01/1980")
    # a fresh conversation, with the right date of birth: refused, call centre
    answer = lookup(stack, "C-22-9100044", "26/03/1997")
    assert "Trop d'essais" in answer and "0800/35.168" in answer


def test_a_verification_is_worth_one_answer(stack: LiveStack) -> None:
    sender = new_sender()
    assert "est maintenue" in say(stack, sender, "C-22-9100014 né le 02/01/1934")
    # the next lookup in the same conversation needs the date of birth again
    assert "date de naissance" in say(stack, sender, "et le rendez-vous C-22-9100090 ?")


def test_the_stored_conversation_holds_no_identifier(stack: LiveStack) -> None:
    sender = new_sender()
    say(stack, sender, "mon rendez-vous C-22-9100013, je suis née le 11/12/1999")
    with sqlite3.connect(stack.workdir / "var" / "tracker.db") as db:
        rows = db.execute("SELECT data FROM events WHERE sender_id = ?", (sender,)).fetchall()
    stored = "\n".join(r[0] for r in rows)
    assert rows and "maintenue" in stored
    for identifier in ("9100013", "C-22", "11/12/1999", "1999-12-11"):
        assert identifier not in stored
