from __future__ import annotations

import subprocess
import sys
from datetime import date

import pytest

from bot.consultations.normalize import (
    find_birth_date,
    find_reference,
    find_references,
    is_findable_reference,
    looks_like_date,
    name_key,
    normalise_phone,
    normalise_reference,
    parse_birth_date,
)

TODAY = date(2026, 11, 29)
FEB14 = date(1961, 2, 14)


@pytest.mark.parametrize(
    "typed",
    ["C-22-004512", "c 22 004512", "C22004512", "c-22-004512", " C.22.004512 ", "c_22_004_512",
     "C\u00a022\u2013004512"],
)  # fmt: skip
def test_normalise_reference(typed: str) -> None:
    assert normalise_reference(typed) == "C22004512"


def test_findable_reference_shape() -> None:
    assert is_findable_reference("C22004512")
    assert is_findable_reference("C229100013")
    assert not is_findable_reference("C2212345")
    assert not is_findable_reference("X22004512")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("mon rdv C-22-004512 est maintenu", "C22004512"),
        ("c 22 9100013", "C229100013"),
        ("ref c22-9100013", "C229100013"),
        ("Référence : C 22 004 512.", "C22004512"),
        ("C229100013?", "C229100013"),
        ("(C-22-004512)", "C22004512"),
        ("mon rendez-vous C-22-004512 est-il maintenu ? née le 14/02/1961", "C22004512"),
    ],
)
def test_find_reference(text: str, expected: str) -> None:
    assert find_reference(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "avec 22 004512",  # the c ends a word
        "C22 12345678",  # too many digits
        "C22 12345",  # too few
        "né le 14/02/1961",
        "14021961",
        "appelez le 0800 14 02 19",
    ],
)
def test_no_reference(text: str) -> None:
    assert find_reference(text) is None


def test_find_references_in_order_without_repeats() -> None:
    text = "C-22-004512 et c22 9100013, encore C 22 004512"
    assert find_references(text) == ["C22004512", "C229100013"]


@pytest.mark.parametrize(
    "text",
    [
        "14/02/1961", "14-02-1961", "14.02.1961", "14 02 1961", "1961-02-14", "1961/02/14",
        "14/2/1961", "14/2/61", "14-2-61", "14 février 1961", "14 fevrier 1961", "14 Février 1961",
        "14 FÉVRIER 1961", "14 fév 1961", "14 fév. 1961", "14 fev 1961", "14 févr. 1961",
        "14-fév-1961", "né le 14/02/1961", "née le 14 février 1961", "Je suis née le 14/02/1961.",
        "date de naissance : 14.02.1961", "DDN 14/02/1961", "le 14/02/1961 !", "14021961",
        "19610214", "\u00a014/02/1961\u00a0",
    ],
)  # fmt: skip
def test_parse_birth_date_formats(text: str) -> None:
    assert parse_birth_date(text, today=TODAY) == FEB14


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("né le 1er mars 1950", date(1950, 3, 1)),
        ("premier mars 1950", date(1950, 3, 1)),
        ("1 mars 1950", date(1950, 3, 1)),
        ("31 décembre 1999", date(1999, 12, 31)),
        ("3 août 2001", date(2001, 8, 3)),
        ("3 aout 2001", date(2001, 8, 3)),
        ("9 sept 1980", date(1980, 9, 9)),
        ("29/02/2000", date(2000, 2, 29)),
        ("01/01/1900", date(1900, 1, 1)),
        ("29/11/2026", TODAY),  # born today
        ("31/12/27", date(1927, 12, 31)),  # 2027 is in the future: unambiguous
    ],
)
def test_parse_birth_date_values(text: str, expected: date) -> None:
    assert parse_birth_date(text, today=TODAY) == expected


@pytest.mark.parametrize(
    "text",
    [
        "31/02/1990",  # impossible
        "29/02/1999",  # not a leap year
        "00/01/1990",
        "14/13/1990",
        "32 janvier 1990",
        "31 juin 1990",
        "30/11/2026",  # tomorrow
        "01/01/2030",  # future
        "31/12/1899",  # before 1900
        "14/2/05",  # 1905 or 2005: ambiguous, ask again
        "14/2/26",
        "14/02",  # no year
        "14 février",
        "02/14/1961",  # month first is not French
        "C-22-004512",  # a reference is not a date
        "22004512",  # its digits neither
        "bonjour",
        "",
    ],
)
def test_parse_birth_date_refuses(text: str) -> None:
    assert parse_birth_date(text, today=TODAY) is None


def test_parse_is_the_whole_message() -> None:
    text = "mon rdv du 18/05/2022 et je suis née le 14/02/1961"
    assert parse_birth_date(text, today=TODAY) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("mon rendez-vous C-22-004512 est-il maintenu ? née le 14/02/1961", FEB14),
        ("C 22 004512 14/02/1961", FEB14),
        ("c22 9100013 14 février 1961", FEB14),
        ("14/02/1961 C-22-004512", FEB14),
        ("rdv du 18/05/2022, je suis née le 14/02/1961", FEB14),  # the cue wins
        ("née le 14/02/1961, pour mon rdv du 18/05/2022", FEB14),
        ("ma date de naissance est le 1er mars 1950 merci", date(1950, 3, 1)),
        ("le 14.02.1961 et encore le 14.02.1961", FEB14),  # the same date twice
        ("C22 004512 1 mars 1961", date(1961, 3, 1)),
    ],
)
def test_find_birth_date(text: str, expected: date) -> None:
    assert find_birth_date(text, today=TODAY) == expected


@pytest.mark.parametrize(
    "text",
    [
        "mon rdv C-22-004512 est maintenu",  # the reference's digits are not a date
        "c 22 140261",
        "C-22-1402196",
        "C22 14021961",  # not a reference (8 digits) and not a date (no separators)
        "rdv du 18/05/2022 ou du 14/02/1961 ?",  # two dates, no cue: ask again
        "né le 31/02/1990",
        "1.2.3.4",
        "le 14/02/1961/5",
        "mon numéro est +32470123456",
        "je ne sais pas, rdv du 18/05/2022 et 14/02/1961",  # "ne" is not "né"
    ],
)
def test_find_birth_date_none(text: str) -> None:
    assert find_birth_date(text, today=TODAY) is None


def test_references_and_dates_do_not_mix() -> None:
    text = "c 22 004512 né le 14 02 1961"
    assert find_reference(text) == "C22004512"
    assert find_birth_date(text, today=TODAY) == FEB14


def test_looks_like_date() -> None:
    assert looks_like_date("31/02/1990")
    assert looks_like_date("le 14 février 1961")
    assert not looks_like_date("C-22-004512")
    assert not looks_like_date("bonjour")


def test_name_key() -> None:
    assert name_key("Van den Bossche") == name_key("vandenbossche")
    assert name_key("Maréchal") == name_key("MARECHAL") == "marechal"
    assert name_key("D'Hondt-Noël") == "dhondtnoel"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("+32470123456", "+32470123456"),
        ("+32 470 12 34 56", "+32470123456"),
        ("0032470123456", "+32470123456"),
        ("0470123456", None),
        ("+32", None),
        ("", None),
    ],
)
def test_normalise_phone(text: str, expected: str | None) -> None:
    assert normalise_phone(text) == expected


def test_package_imports_no_rasa() -> None:
    code = (
        "import sys, bot.consultations.cli, bot.consultations.lookup, bot.consultations.importer;"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('rasa', 'rasa_sdk')];"
        "print(bad); sys.exit(1 if bad else 0)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_normalize_imports_no_sqlalchemy() -> None:
    code = (
        "import sys, bot.consultations.normalize;sys.exit(1 if 'sqlalchemy' in sys.modules else 0)"
    )
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0


@pytest.mark.parametrize(
    "text",
    [
        "Mon rdv C-22-004512 du 18/05/2022 est maintenu ?",
        "ma consultation prévue le 20/05/2022 a lieu ?",
        "mon IRM de mardi 17/05/2022",
        "ma consultation du 18/05/2022, 14/02/1961",
    ],
)
def test_the_appointment_date_is_not_a_birth_date(text: str) -> None:
    assert find_birth_date(text, today=date(2026, 11, 29)) is None


@pytest.mark.parametrize(
    "text",
    [
        "mon rdv C-22-004512 14/02/1961",
        "consultation prévue le 20/05/2022, je suis née le 14/02/1961",
        "mon rendez-vous C-22-004512 est-il maintenu ? née le 14/02/1961",
    ],
)
def test_a_birth_date_next_to_an_appointment(text: str) -> None:
    assert find_birth_date(text, today=date(2026, 11, 29)) == date(1961, 2, 14)
