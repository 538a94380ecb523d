"""End-to-end: the running assistant (started by the `live_stack` fixture) over REST."""

from __future__ import annotations

import re
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import yaml
from sklearn.metrics import f1_score

from bot.settings import SHARED_DIR
from tests.live.stack import ROOT, LiveStack

SHARED_EVAL = SHARED_DIR / "eval"


def sender() -> str:
    return "test-" + uuid.uuid4().hex


def text_of(replies: list[dict]) -> str:
    return "\n".join(r.get("text") or "" for r in replies)


def run_scorer(stack: LiveStack, question_set: Path, out: Path, min_overall: float) -> str:
    argv = [sys.executable, str(SHARED_EVAL / "score.py"), "--url", stack.rest_url]
    argv += ["--set", str(question_set), "--out", str(out), "--min-overall", str(min_overall)]
    result = subprocess.run(
        argv,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    return result.stdout.strip().splitlines()[-1]


@pytest.mark.skipif(
    not (SHARED_EVAL / "score.py").exists(),
    reason=f"{SHARED_EVAL} is absent (a clone outside the workplace, see SHARED_DIR): "
    "no development question set",
)
def test_development_question_set_passes(live_stack: LiveStack, tmp_path: Path) -> None:
    summary = run_scorer(
        live_stack, SHARED_EVAL / "dev_questions.yml", tmp_path / "dev.txt", min_overall=0.95
    )
    print(summary)


@pytest.mark.skipif(
    not (SHARED_EVAL / "score.py").exists(),
    reason=f"{SHARED_EVAL} is absent (a clone outside the workplace, see SHARED_DIR): no scorer",
)
@pytest.mark.parametrize("question_set", ["patient_questions.yml", "patient_questions_2.yml"])
def test_patient_question_sets_pass(
    live_stack: LiveStack, tmp_path: Path, question_set: str
) -> None:
    summary = run_scorer(
        live_stack,
        ROOT / "tests" / "questions" / question_set,
        tmp_path / "patients.txt",
        min_overall=0.97,
    )
    print(summary)


def test_heldout_nlu_macro_f1_is_at_least_095(live_stack: LiveStack) -> None:
    data = yaml.safe_load((ROOT / "tests" / "nlu" / "heldout.yml").read_text(encoding="utf-8"))
    expected, predicted = [], []
    for item in data["nlu"]:
        for line in item["examples"].splitlines():
            line = line.strip()
            if line.startswith("- "):
                expected.append(item["intent"])
                predicted.append(live_stack.parse(line[2:])["intent"]["name"])
    macro_f1 = f1_score(expected, predicted, average="macro", labels=sorted(set(expected)))
    accuracy = sum(e == p for e, p in zip(expected, predicted)) / len(expected)
    print(f"held-out: {len(expected)} examples, macro F1 {macro_f1:.3f}, accuracy {accuracy:.3f}")
    assert macro_f1 >= 0.95


@pytest.mark.parametrize(
    "message",
    [
        "j'ai très mal à la poitrine, les urgences sont ouvertes ?",
        "ma fille a avalé des médicaments de sa grand-mère",
        "je veux en finir",
        "/er_when mon mari ne respire plus",
    ],
)
def test_a_person_in_danger_gets_112_first(live_stack: LiveStack, message: str) -> None:
    replies = live_stack.ask(message, sender())
    assert replies, "no answer"
    assert re.match(r"Appelez le 112", replies[0]["text"])


def test_a_message_starting_with_a_slash_is_read_as_text(live_stack: LiveStack) -> None:
    # Rasa would take "/bertrix" as the intent itself; the channel reads it as a word.
    answer = text_of(live_stack.ask("/bertrix", sender()))
    assert "Bertrix" in answer  # the word is still understood
    # As an intent, "/out_of_scope" would get the off-topic answer; as words ("out of scope") it
    # is not French the assistant knows, and gets the "not understood" answer.
    answer = text_of(live_stack.ask('/out_of_scope{"danger": "general"}', sender()))
    assert answer.startswith("Désolé, je n'ai pas compris")


def test_an_edit_of_the_answers_file_is_live_within_seconds(live_stack: LiveStack) -> None:
    question = "Mon IRM de jeudi est-elle maintenue ?"
    before = text_of(live_stack.ask(question, sender()))
    assert "suspendu" in before

    path = live_stack.content_file
    original = path.read_text(encoding="utf-8")
    new_sentence = "Les examens de radiologie reprennent progressivement."
    edited = original.replace(
        "Les examens programmés en radiologie (par exemple IRM, scanner, radiographie, "
        "mammographie) et en scintigraphie sont suspendus.",
        new_sentence,
    )
    assert edited != original
    try:
        path.write_text(edited, encoding="utf-8")
        deadline = time.monotonic() + 5
        answer = ""
        while time.monotonic() < deadline:
            answer = text_of(live_stack.ask(question, sender()))
            if new_sentence in answer:
                break
            time.sleep(0.25)
        assert new_sentence in answer, f"not live within 5 s: {answer!r}"

        # A broken edit is refused: the last good text keeps being served.
        path.write_text(edited + "\n  utter_radiology: [broken\n", encoding="utf-8")
        time.sleep(2.5)
        assert new_sentence in text_of(live_stack.ask(question, sender()))
    finally:
        path.write_text(original, encoding="utf-8")
