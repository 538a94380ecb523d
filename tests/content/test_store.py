"""The content file: the real one is valid; each kind of bad edit is refused precisely; the
store serves the last good content and picks up a good edit."""

from __future__ import annotations

import os
import time
from datetime import date
from pathlib import Path

import pytest

from bot.content.check import main as content_check
from bot.content.gsm7 import sms_segments
from bot.content.render import Button, Rendered, sms_text
from bot.content.store import (
    Answer,
    Content,
    ContentError,
    ContentStore,
    domain_response_keys,
    load_content,
    parse_content,
    phone_problems,
    sms_problem,
)
from bot.settings import ROOT

ANSWERS = ROOT / "locales" / "fr" / "answers.yml"
FACTS = ROOT / "locales" / "facts.yml"
FACT_PHONES = {"F7": {"1733"}, "F12": {"080035168"}, "S1": {"112"}, "F11": set()}

GOOD = """\
language: fr
answers:
  utter_radiology:
    facts: [F11, F12]
    validated_on: 2022-05-17
    text: |-
      Les examens de radiologie sont suspendus.
      Une question : 0800/35.168.
  utter_er_when:
    facts: [F7, S1]
    validated_on: 2022-05-17
    text: Le soir, appelez le 1733. Danger de mort, appelez le 112.
"""


def problems(text: str, required: set[str] | None = None) -> list[str]:
    with pytest.raises(ContentError) as info:
        parse_content(text, Path("answers.yml"), FACT_PHONES, required)
    return info.value.problems


def test_the_real_content_file_is_valid_and_covers_the_domain() -> None:
    required = domain_response_keys(ROOT / "domain")
    content = load_content(ANSWERS, FACTS, required)
    assert required <= set(content.answers)
    assert content_check([]) == 0


def test_every_answer_fits_in_three_sms_segments() -> None:
    content = load_content(ANSWERS, FACTS)
    for answer in content.answers.values():
        for text in [answer.text] + [v.text for v in answer.variants]:
            data = Rendered(
                text=text.format(**answer.variables),
                buttons=answer.buttons,
                validated_on=answer.validated_on,
            )
            assert sms_segments(sms_text(data)) <= 3, answer.key


def test_a_good_file_parses() -> None:
    content = parse_content(GOOD, Path("answers.yml"), FACT_PHONES, {"utter_radiology"})
    assert answer(content, "utter_radiology").facts == ("F11", "F12")
    assert answer(content, "utter_er_when").line == 9


def test_broken_yaml_names_the_line() -> None:
    (problem,) = problems(GOOD + "  utter_x: [broken\n")
    assert problem.startswith("answers.yml:") and "not valid YAML" in problem


def test_a_missing_answer_the_domain_needs() -> None:
    (problem,) = problems(GOOD, required={"utter_radiology", "utter_bertrix"})
    assert "utter_bertrix" in problem and "needs this answer" in problem


def test_an_unknown_fact_id_names_file_line_and_key() -> None:
    found = problems(GOOD.replace("[F11, F12]", "[F11, F99]"))
    assert found[0] == (
        "answers.yml:3: utter_radiology: unknown fact id 'F99' (known: F7, F12, S1, F11)"
    )
    # and the call centre's number is no longer carried by a cited fact
    assert "080035168" in found[1]


def test_a_phone_number_not_in_the_facts_is_refused() -> None:
    (problem,) = problems(GOOD.replace("0800/35.168", "0800/12.345"))
    assert "utter_radiology" in problem and "080012345" in problem


def test_a_phone_number_of_a_fact_the_answer_does_not_cite_is_refused() -> None:
    (problem,) = problems(GOOD.replace("appelez le 1733", "appelez le 0800/35.168"))
    assert "utter_er_when" in problem and "080035168" in problem


def test_an_answer_too_long_for_three_sms_is_refused() -> None:
    long_text = "Une phrase beaucoup trop longue pour un SMS. " * 12
    (problem,) = problems(GOOD.replace("Les examens de radiologie sont suspendus.", long_text))
    assert "utter_radiology" in problem and "too long for SMS" in problem


def test_missing_fields_and_bad_dates() -> None:
    assert (
        "validated_on"
        in problems(GOOD.replace("validated_on: 2022-05-17\n    text: |-", "text: |-", 1))[0]
    )
    assert "unknown field(s): texte" in problems(GOOD.replace("text: Le soir", "texte: Le soir"))[0]
    assert "'validated_on' must be a date" in problems(GOOD.replace("2022-05-17", "17 mai", 1))[0]


def answer(content: Content | None, key: str) -> Answer:
    """The answer `key` of `content`, which must be there."""
    assert content is not None
    found = content.get(key)
    assert found is not None, key
    return found


def served(store: ContentStore, key: str) -> Answer:
    """The answer `key` the store serves now."""
    return answer(store.current(), key)


def write(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8")
    # make sure the change is seen even within the same second on coarse file systems
    stamp = time.time() + 2
    os.utime(path, (stamp, stamp))


def test_store_picks_up_an_edit_and_keeps_the_last_good_content(tmp_path: Path) -> None:
    path = tmp_path / "answers.yml"
    load_content(ANSWERS, FACTS)  # the project's file is valid
    write(path, ANSWERS.read_text(encoding="utf-8"))
    store = ContentStore(path, FACTS, check_interval=0)
    assert "suspendus" in served(store, "utter_radiology").text

    write(path, ANSWERS.read_text(encoding="utf-8").replace("sont suspendus", "reprennent"))
    assert "reprennent" in served(store, "utter_radiology").text
    assert store.last_error is None

    write(path, "answers: [broken")
    assert "reprennent" in served(store, "utter_radiology").text
    assert store.last_error and "answers.yml" in store.last_error

    path.unlink()
    assert "reprennent" in served(store, "utter_radiology").text
    assert "missing" in store.last_error


def test_processes_share_the_last_good_content(tmp_path: Path) -> None:
    """Two processes' stores (Rasa workers): one saw a valid edit, the other did not before the
    file broke; both then serve the valid edit, not the older text."""
    import os
    import shutil

    from bot.content.store import ContentStore

    answers = tmp_path / "answers.yml"
    shutil.copyfile(ROOT / "locales" / "fr" / "answers.yml", answers)
    facts = ROOT / "locales" / "facts.yml"
    shared = tmp_path / "var" / "fr-last-good.yml"
    first = ContentStore(answers, facts, check_interval=0, shared_copy=shared)
    second = ContentStore(answers, facts, check_interval=0, shared_copy=shared)
    old = second.current()
    assert old is not None and first.current() is not None

    original = answers.read_text(encoding="utf-8")
    edited = original.replace("sont suspendus.", "reprennent progressivement.", 1)
    assert edited != original
    answers.write_text(edited, encoding="utf-8")
    os.utime(answers, (answers.stat().st_mtime + 5,) * 2)
    assert "reprennent progressivement." in str(first.current())  # only the first one looked
    answers.write_text(edited + "\n  utter_radiology: [broken\n", encoding="utf-8")
    os.utime(answers, (answers.stat().st_mtime + 10,) * 2)

    for store in (first, second):
        served = store.current()
        assert "reprennent progressivement." in str(served)
        assert store.last_error  # the broken edit is still reported
    # a store without the shared copy keeps what it had
    alone = ContentStore(answers, facts, check_interval=0)
    assert alone.current() is None


MANY_PROBLEMS = """\
language: fr
answers:
  utter_Bad: {}
  utter_no_body: just a string
  utter_typo:
    texte: x
    text: ''
  utter_facts:
    facts: F7
    text: Bonjour.
  utter_all:
    facts: [F7, F99]
    validated_on: 2022-05-17
    oops: 1
    text: Appelez le 0800/35.168 ou {who}.
    buttons:
      - {title: Oui}
      - {title: Non, payload: /deny}
    variables: [who]
    variants:
      - {when: {a: b}, text: 'Le 1733 {x'}
      - {when: {a: b}, text: 'Le 112 {who} {where}'}
      - nope
  utter_date:
    facts: []
    validated_on: hier
    text: Bonjour.
  utter_long:
    facts: []
    validated_on: 2022-05-17
    text: LONG
"""


def test_every_problem_of_a_file_in_order() -> None:
    """Each answer's problems in a fixed order (shape, fields, text, facts, date, buttons,
    variables, variants, then each text's placeholders, phone numbers and length); a missing
    essential stops that answer's checks; the answers the domain needs come last."""
    text = MANY_PROBLEMS.replace("LONG", "Une phrase beaucoup trop longue pour un SMS. " * 12)
    found = problems(text, required={"utter_all", "utter_date", "utter_zzz"})
    known = "(known: F7, F12, S1, F11)"
    assert found == [
        "answers.yml:3: utter_Bad: an answer key is 'utter_' followed by lower-case letters, "
        "digits or '_'",
        "answers.yml:4: utter_no_body: an answer needs 'text', 'facts' and 'validated_on'",
        "answers.yml:5: utter_typo: unknown field(s): texte",
        "answers.yml:5: utter_typo: 'text' is missing or empty",
        "answers.yml:8: utter_facts: 'facts' must be a list of fact ids, for example [F7, F12] "
        "(or [] for small talk)",
        "answers.yml:11: utter_all: unknown field(s): oops",
        f"answers.yml:11: utter_all: unknown fact id 'F99' {known}",
        "answers.yml:11: utter_all: button 1 needs a 'title' and a 'payload'",
        "answers.yml:11: utter_all: button 2: a payload is a question in plain words, "
        "not a '/command'",
        "answers.yml:11: utter_all: 'variables' maps each {placeholder} to an example value",
        "answers.yml:11: utter_all: variant 3 needs 'when' (slot: value) and 'text'",
        "answers.yml:11: utter_all: text: placeholder {who} has no example under 'variables'",
        "answers.yml:11: utter_all: text: phone number 080035168 is not carried by the facts "
        "it cites (F7, F99)",
        "answers.yml:11: utter_all: variant 1: braces { } are only for placeholders "
        "(expected '}' before end of string)",
        "answers.yml:11: utter_all: variant 2: placeholder {where} has no example under "
        "'variables'",
        "answers.yml:11: utter_all: variant 2: placeholder {who} has no example under 'variables'",
        "answers.yml:11: utter_all: variant 2: phone number 112 is not carried by the facts it "
        "cites (F7, F99)",
        "answers.yml:24: utter_date: 'validated_on' must be a date written YYYY-MM-DD",
        "answers.yml:28: utter_long: text: too long for SMS: 4 segments (at most 3); shorten "
        "the text or the buttons",
        "answers.yml: utter_date: the assistant needs this answer and the file has none",
        "answers.yml: utter_zzz: the assistant needs this answer and the file has none",
    ]


def test_a_file_without_answers_has_that_one_problem() -> None:
    for text in ("", "[1, 2]", "answers: 3", "language: fr\n"):
        assert problems(text) == ["answers.yml:1: the file must have an 'answers:' section"]


def test_phone_numbers_must_be_carried_by_the_cited_facts() -> None:
    text = "Appelez le 1733, le 112 ou le 0800/35.168."
    assert phone_problems("text", text, {"1733", "112", "080035168"}, ["F7", "S1", "F12"]) == []
    assert phone_problems("variant 1", text, {"1733"}, ["F7"]) == [
        # long numbers first, then the short codes
        "variant 1: phone number 080035168 is not carried by the facts it cites (F7)",
        "variant 1: phone number 112 is not carried by the facts it cites (F7)",
    ]
    assert phone_problems("text", "Le 1733.", set(), []) == [
        "text: phone number 1733 is not carried by the facts it cites (none)"
    ]


def test_the_sms_length_is_measured_with_the_buttons_and_the_date() -> None:
    day = date(2022, 5, 17)
    assert sms_problem("text", "Les urgences sont ouvertes.", (), day, "fr") is None
    text = "Une phrase pour un SMS, de taille moyenne. " * 10  # 2 segments alone
    assert sms_problem("text", text, (), day, "fr") is None
    buttons = tuple(Button(f"Une question possible numéro {i}", "x") for i in range(1, 5))
    problem = sms_problem("variant 2", text, buttons, day, "fr")
    assert problem == (
        "variant 2: too long for SMS: 4 segments (at most 3); shorten the text or the buttons"
    )
