"""References, dates of birth, phone numbers and names as patients type them. Pure functions.

References
    Printed as ``C-22-004512``: the letter C, a 2-digit year, a 6- or 7-digit number. Patients
    type them in any case with or without spaces, dashes, dots or underscores. The canonical form
    (what is stored and compared) is upper case without separators: ``C22004512``.

Dates of birth
    ``14/02/1961``, ``14-02-1961``, ``14.02.1961``, ``14 02 1961``, ``1961-02-14``, ``14/2/1961``,
    ``14 février 1961``, ``14 fevrier 1961``, ``14 fév. 1961``, ``1er mars 1950``,
    ``premier mars 1950``; with a lead-in such as ``né le`` / ``née le`` / ``date de naissance :``.
    Always day before month (French usage). Refused (``None``): impossible dates (31/02/1990),
    dates after today, dates before 1900-01-01.

    Two-digit years are accepted only when unambiguous: ``14/2/61`` is 14 February 1961 because
    2061 is in the future; ``14/2/05`` could be 1905 or 2005, so it gives ``None`` and the
    assistant asks again with the full year. (In 2026: years 27-99 mean 19xx, 00-26 are refused.)

    ``parse_birth_date`` reads a message that *is* a date (the answer to "your date of birth?");
    it also takes 8 bare digits (``14021961`` or ``19610214``). ``find_birth_date`` looks for a
    date of birth inside a longer sentence. Both ignore the digits of an appointment reference, and
    the reference finder needs the letter C, so a date is never taken for a reference.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

from bot.text import fold

__all__ = [
    "E164_RE",
    "REFERENCE_RE",
    "find_birth_date",
    "find_reference",
    "find_references",
    "fold",
    "is_e164",
    "is_findable_reference",
    "looks_like_date",
    "name_key",
    "normalise_phone",
    "normalise_reference",
    "parse_birth_date",
]

MIN_BIRTH_DATE = date(1900, 1, 1)

# Whitespace (incl. no-break spaces), ASCII and Unicode dashes, the minus sign, dots, underscores.
_SEP_CHARS = r"\s._\-\u2010-\u2015\u2212"
_SEPARATORS = re.compile(f"[{_SEP_CHARS}]+")

# A reference inside free text: C, year, number, any separators between them, and at most one
# inside the number after its third digit ("C22 004 512"). The C must not end a word
# ("avec 22 ..."); the number must not run on into more digits.
REFERENCE_RE = re.compile(
    rf"(?<![^\W\d_])(?<!\d)[Cc][{_SEP_CHARS}]*(\d{{2}})[{_SEP_CHARS}]*"
    rf"(\d{{3}})[{_SEP_CHARS}]?(\d{{3,4}})(?!\d)"
)
_CANONICAL_REFERENCE = re.compile(r"C\d{8,9}")

E164_RE = re.compile(r"\+[1-9]\d{7,14}")


# --- references ---------------------------------------------------------------------------


def normalise_reference(text: str) -> str:
    """Canonical form of a reference: ``"c 22 004512"`` -> ``"C22004512"``.

    Upper case, separators (spaces, dashes, dots, underscores) removed. It does not check the
    shape: see `is_findable_reference`.
    """
    return _SEPARATORS.sub("", unicodedata.normalize("NFKC", text)).upper()


def is_findable_reference(canonical: str) -> bool:
    """True when a canonical reference has the printed shape (C, year, 6-7 digits), i.e. when
    `find_reference` can pick it out of a patient's sentence."""
    return _CANONICAL_REFERENCE.fullmatch(canonical) is not None


def find_references(text: str) -> list[str]:
    """Every reference in a text, canonical, in order, without repeats."""
    found: list[str] = []
    for m in REFERENCE_RE.finditer(unicodedata.normalize("NFKC", text)):
        ref = "C" + "".join(m.groups())
        if ref not in found:
            found.append(ref)
    return found


def find_reference(text: str) -> str | None:
    """The first reference in a text, canonical (``"mon rdv C-22-004512"`` -> ``"C22004512"``)."""
    refs = find_references(text)
    return refs[0] if refs else None


# --- phone numbers and names ---------------------------------------------------------------


def is_e164(text: str) -> bool:
    return E164_RE.fullmatch(text) is not None


def normalise_phone(text: str) -> str | None:
    """E.164 from what a channel gives (``"+32 470 12 34 56"``, ``"0032470123456"``), else None.

    National numbers (``0470...``) are refused: the country is not known for sure.
    """
    compact = re.sub(r"[\s.\-/()]", "", text)
    if compact.startswith("00"):
        compact = "+" + compact[2:]
    return compact if is_e164(compact) else None


def name_key(name: str) -> str:
    """Search key for a last name: no accents, no case, letters and digits only
    (``"Van den Bossche"`` == ``"vandenbossche"``, ``"Maréchal"`` == ``"MARECHAL"``)."""
    decomposed = unicodedata.normalize("NFKD", name)
    return "".join(ch for ch in decomposed if ch.isalnum()).casefold()


# --- dates of birth -----------------------------------------------------------------------

# French month names and the abbreviations patients write, folded (the one table of the project).
MONTHS = {
    "janvier": 1, "janv": 1, "jan": 1,
    "fevrier": 2, "fevr": 2, "fev": 2, "fevier": 2,
    "mars": 3, "mar": 3,
    "avril": 4, "avr": 4,
    "mai": 5,
    "juin": 6,
    "juillet": 7, "juill": 7, "juil": 7,
    "aout": 8,
    "septembre": 9, "sept": 9, "sep": 9,
    "octobre": 10, "oct": 10,
    "novembre": 11, "nov": 11,
    "decembre": 12, "dec": 12,
}  # fmt: skip
MONTH_ALT = "|".join(sorted(MONTHS, key=len, reverse=True))

# The date shapes, on folded (lower case, unaccented) text. Day before month.
_DMY = r"(?P<d>\d{1,2})(?P<s>[/.\-]|\s+)(?P<m>\d{1,2})(?P=s)(?P<y>\d{4}|\d{2})"
_YMD = r"(?P<y>\d{4})(?P<s>[/.\-])(?P<m>\d{1,2})(?P=s)(?P<d>\d{1,2})"
_TEXT = (
    rf"(?P<d>\d{{1,2}}|premier)(?:er|e|eme)?[\s,./\-]*(?:de\s+)?"
    rf"(?P<mn>{MONTH_ALT})(?![a-z])\.?[\s,./\-]*(?P<y>\d{{4}}|\d{{2}})"
)
_SHAPES = (_DMY, _YMD, _TEXT)
# Inside a sentence: not glued to other digits or to a date-like run ("1.2.3.4", "12/05/2022/3").
_BEFORE = r"(?<![\w])(?<!\d[/.\-])"
_AFTER = r"(?!\d)(?![/.\-]\d)"
_SEARCH = [re.compile(_BEFORE + shape + _AFTER) for shape in _SHAPES]
_FULL = [re.compile(shape) for shape in _SHAPES]
_COMPACT = re.compile(r"\d{8}")

_LEAD_IN = re.compile(
    r"""^(?:
        (?:je\s+suis\s+|suis\s+)?nee?s?(?:\s+le)?
      | (?:ma\s+|la\s+)?date\s+de\s+naissance(?:\s+est)?(?:\s+le)?
      | ddn
      | le
    )\s*[:\-]?\s*""",
    re.VERBOSE,
)
# "né le", "née le", "date de naissance :", "DDN" right before the date (only "le", "est", ":"
# between), so that "je ne sais pas ... 18/05/2022" is not taken for a cue.
_BIRTH_CUE = re.compile(
    r"(?<![a-z])(?:nee?s?|naissance|ddn)(?![a-z])[\s:,\-]*(?:(?:le|est|du)(?![a-z])[\s:,\-]*){0,2}$"
)
# "mon rdv du 18/05/2022", "consultation prévue le 20/05": the appointment's date, not a birth
# date (at least one linking word between the noun and the date).
_APPOINTMENT_CUE = re.compile(
    r"(?<![a-z])(?:rdv|rendez[\s-]*vous|consultations?|examens?|operations?|seances?|"
    r"convocations?|irm|scanner|radio|prevue?s?|programmee?s?|fixee?s?)(?![a-z])"
    r"(?:\s+(?:du|le|la|de|d|pour|ce|cette|au|a|fixee?|prevue?|programmee?|lundi|mardi|"
    r"mercredi|jeudi|vendredi|samedi|dimanche)(?![a-z]))+[\s,:]*$"
)


@dataclass(frozen=True)
class _Candidate:
    start: int
    end: int
    value: date | None  # None: date-shaped but impossible, future, too old or ambiguous


def _resolve_year(raw: str, month: int, day: int, today: date) -> int | None:
    year = int(raw)
    if len(raw) == 4:
        return year
    # Two digits: keep it only if exactly one of 19yy / 20yy gives a possible birth date.
    possible = [c for c in (1900 + year, 2000 + year) if _valid(c, month, day, today)]
    return possible[0] if len(possible) == 1 else None


def _valid(year: int, month: int, day: int, today: date) -> date | None:
    try:
        value = date(year, month, day)
    except ValueError:
        return None
    return value if MIN_BIRTH_DATE <= value <= today else None


def _from_match(m: re.Match[str], today: date) -> date | None:
    parts = m.groupdict()
    if parts.get("s") is not None and parts["s"].isspace() and len(parts["y"]) != 4:
        return None  # "12 3 45" is too loose to be a date
    day = 1 if parts["d"] == "premier" else int(parts["d"])
    month = MONTHS[parts["mn"]] if parts.get("mn") else int(parts["m"])
    year = _resolve_year(parts["y"], month, day, today)
    return None if year is None else _valid(year, month, day, today)


def _mask_references(text: str) -> str:
    return REFERENCE_RE.sub(lambda m: " " * len(m.group(0)), text)


def _candidates(folded: str, today: date) -> Iterator[_Candidate]:
    taken: list[tuple[int, int]] = []
    for pattern in _SEARCH:
        for m in pattern.finditer(folded):
            if any(m.start() < end and start < m.end() for start, end in taken):
                continue
            taken.append(m.span())
            yield _Candidate(m.start(), m.end(), _from_match(m, today))


def _prepare(text: str) -> str:
    # NFKC first (no-break spaces, full-width digits), then fold; references blanked out.
    return _mask_references(fold(unicodedata.normalize("NFKC", text)))


def parse_birth_date(text: str, *, today: date | None = None) -> date | None:
    """A message that is a date of birth (optionally "né le ...", "date de naissance : ...").

    Returns None for anything else, for impossible or future dates, before 1900, and for
    ambiguous two-digit years.
    """
    today = today or date.today()
    body = _prepare(text).strip().rstrip(".!?,; ").strip()
    body = _LEAD_IN.sub("", body, count=1).strip()
    if _COMPACT.fullmatch(body):
        return _valid(int(body[4:]), int(body[2:4]), int(body[:2]), today) or _valid(
            int(body[:4]), int(body[4:6]), int(body[6:]), today
        )
    for pattern in _FULL:
        m = pattern.fullmatch(body)
        if m:
            return _from_match(m, today)
    return None


def find_birth_date(text: str, *, today: date | None = None) -> date | None:
    """The date of birth inside a sentence ("mon rdv C-22-004512, née le 14/02/1961").

    A date introduced by "né(e) le", "naissance" or "DDN" wins. A sentence that gives the
    appointment's date ("mon rdv du 18/05/2022") has no birth date unless one is introduced so.
    Otherwise the sentence must hold exactly one possible date; several different ones give None (the form asks again), as do
    impossible, future or pre-1900 dates.
    """
    today = today or date.today()
    folded = _prepare(text)
    candidates = sorted(_candidates(folded, today), key=lambda c: c.start)
    valid = [c for c in candidates if c.value is not None]
    cued = [c for c in valid if _BIRTH_CUE.search(folded[max(0, c.start - 40) : c.start])]
    if cued:
        return cued[0].value
    if any(_APPOINTMENT_CUE.search(folded[max(0, c.start - 60) : c.start]) for c in valid):
        return None  # the appointment's date is there: any other date is a guess
    distinct = {c.value for c in valid}
    return distinct.pop() if len(distinct) == 1 else None


def looks_like_date(text: str) -> bool:
    """True when the text holds something date-shaped, possible or not ("31/02/1990"): lets
    the assistant say "cette date n'est pas valide" rather than "je n'ai pas compris"."""
    return any(True for _ in _candidates(_prepare(text), date.today()))
