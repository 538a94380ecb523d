"""Import the hospital's consultation list (format: shared/data/CONSULTATIONS.md).

All or nothing. The whole file is decoded, parsed and validated first, collecting *every*
problem as ``line N, column C: reason`` (N is the physical line in the file, the header is
line 1). Any problem raises `ConsultationImportError` and the database is not touched.
Otherwise the previous list is replaced in one transaction (DELETE + executemany INSERT).

Error messages never quote a date of birth, a phone number, a name or a reference: the line
number and the column are enough to find the cell, and the output may end up in a log.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine

from bot.consultations.models import (
    NAME_MAX,
    NOTE_MAX,
    REFERENCE_MAX,
    Status,
    consultations_table,
    failures_table,
    imports_table,
)
from bot.consultations.normalize import (
    MIN_BIRTH_DATE,
    fold,
    is_e164,
    is_findable_reference,
    name_key,
    normalise_reference,
)
from bot.db import resolve_engine, utcnow

REQUIRED_COLUMNS = ("reference", "birth_date", "starts_at", "site", "service", "status")
OPTIONAL_COLUMNS = ("new_starts_at", "phone", "last_name", "first_name", "note")
KNOWN_COLUMNS = REQUIRED_COLUMNS + OPTIONAL_COLUMNS
_COLUMN_ORDER = {name: i for i, name in enumerate(KNOWN_COLUMNS)}

# Folded (lower case, unaccented) status -> Status. The masculine forms are tolerated.
STATUS_WORDS = {
    "maintenue": Status.MAINTENUE,
    "maintenu": Status.MAINTENUE,
    "annulee": Status.ANNULEE,
    "annule": Status.ANNULEE,
    "reportee": Status.REPORTEE,
    "reporte": Status.REPORTEE,
}

INSERT_CHUNK = 1000
FAILURES_KEPT = timedelta(days=1)  # older lookup failures cannot matter any more (lock: 1 hour)
MAX_ENCODING_LINES = 20

_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
_DATETIME = re.compile(r"(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2}))?")
_REFERENCE_CHARS = re.compile(r"[A-Z0-9]+")

Progress = Callable[[str, int, int], None]  # (phase, done, total)


class ConsultationImportError(Exception):
    """The file was refused; `errors` lists every problem, one ``line N, column C: reason`` each."""

    def __init__(self, errors: Sequence[str]) -> None:
        self.errors: tuple[str, ...] = tuple(errors)
        super().__init__(f"{len(self.errors)} erreur(s) dans le fichier")


@dataclass(frozen=True)
class ParsedList:
    rows: list[dict[str, Any]]  # ready for `consultations_table.insert()`
    warnings: tuple[str, ...]
    sha256: str

    @property
    def by_status(self) -> dict[Status, int]:
        counts = Counter(row["status"] for row in self.rows)
        return {status: counts.get(status, 0) for status in Status}


@dataclass(frozen=True)
class ImportResult:
    rows: int
    duration: float  # seconds, reading the file to commit
    by_status: dict[Status, int]
    file_sha256: str
    warnings: tuple[str, ...] = field(default_factory=tuple)


# --- decoding ---------------------------------------------------------------------------------


def _decode(data: bytes) -> str:
    if data.startswith(b"PK\x03\x04"):
        raise ConsultationImportError(
            ["line 1: c'est un classeur Excel (.xlsx), pas un CSV : "
             "« Enregistrer sous » > « CSV UTF-8 (délimité par des virgules) »"]
        )  # fmt: skip
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ConsultationImportError(
            ["line 1: fichier en UTF-16 ; le format demande de l'UTF-8 : "
             "réenregistrez-le en « CSV UTF-8 »"]
        )  # fmt: skip
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise ConsultationImportError(_encoding_errors(data)) from None
    if "\x00" in text:
        line = text.count("\n", 0, text.index("\x00")) + 1
        raise ConsultationImportError([f"line {line}: octet nul : ce n'est pas un fichier texte"])
    return text


def _encoding_errors(data: bytes) -> list[str]:
    """Every line that is not UTF-8, with the column when the line can be split."""
    lines = data.split(b"\n")
    header = [h.strip().lower() for h in next(csv.reader([lines[0].decode("utf-8", "replace")]))]
    bad: list[str] = []
    count = 0
    for number, raw in enumerate(lines, start=1):
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            count += 1
            if len(bad) >= MAX_ENCODING_LINES:
                continue
            where = f"line {number}"
            fields = next(csv.reader([raw.decode("utf-8", "surrogateescape")]), [])
            for i, value in enumerate(fields):
                if any("\udc80" <= ch <= "\udcff" for ch in value) and i < len(header):
                    where += f", column {header[i] or i + 1}"
                    break
            bad.append(f"{where}: octet 0x{raw[exc.start]:02X} invalide en UTF-8")
    try:
        data.decode("cp1252")
        guess = "il semble encodé en Windows-1252/Latin-1 (export Excel « CSV » simple)"
    except UnicodeDecodeError:
        guess = "encodage inconnu"
    first = bad[0].split(":", 1)[0].split(",", 1)[0]
    summary = (
        f"{first}: le fichier n'est pas en UTF-8 ({count} ligne(s) touchée(s)) ; {guess} : "
        "réenregistrez-le en « CSV UTF-8 »"
    )
    if count > len(bad):
        bad.append(f"… et {count - len(bad)} autre(s) ligne(s) non UTF-8")
    return [summary, *bad]


# --- parsing ----------------------------------------------------------------------------------


def _records(text: str) -> Iterator[tuple[int, list[str]]]:
    """(first physical line, fields) for every record, blank lines skipped."""
    reader = csv.reader(io.StringIO(text, newline=""))
    start = 1
    while True:
        try:
            record = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise ConsultationImportError([f"line {start}: CSV illisible ({exc})"]) from None
        if any(value.strip() for value in record):
            yield start, record
        start = reader.line_num + 1


def _parse_date(value: str) -> date | None:
    m = _DATE.fullmatch(value)
    if not m:
        raise ValueError("format")
    try:
        return date(int(m[1]), int(m[2]), int(m[3]))
    except ValueError:
        return None


def _parse_datetime(value: str) -> datetime | None:
    m = _DATETIME.fullmatch(value)
    if not m:
        raise ValueError("format")
    try:
        return datetime(int(m[1]), int(m[2]), int(m[3]), int(m[4]), int(m[5]), int(m[6] or 0))
    except ValueError:
        return None


class _RowChecker:
    def __init__(self, columns: dict[str, int], width: int, today: date) -> None:
        self.columns = columns
        self.width = width
        self.today = today
        self.errors: list[tuple[int, int, str]] = []
        self.warnings: list[str] = []
        self.first_line: dict[str, int] = {}
        self.reported_first: set[str] = set()

    def error(self, line: int, column: str | None, reason: str) -> None:
        where = f"line {line}, column {column}" if column else f"line {line}"
        self.errors.append((line, _COLUMN_ORDER.get(column or "", -1), f"{where}: {reason}"))

    def _datetime(self, line: int, column: str, value: str) -> datetime | None:
        try:
            parsed = _parse_datetime(value)
        except ValueError:
            self.error(line, column, f"format attendu AAAA-MM-JJTHH:MM, reçu « {value[:40]} »")
            return None
        if parsed is None:
            self.error(line, column, f"date ou heure impossible « {value} »")
        return parsed

    def _text(self, line: int, column: str, value: str, limit: int, required: bool) -> str | None:
        if not value:
            if required:
                self.error(line, column, "valeur obligatoire manquante")
            return None
        if "\n" in value or "\r" in value:
            self.error(line, column, "retour à la ligne dans la valeur (guillemet non fermé ?)")
        elif len(value) > limit:
            self.error(line, column, f"trop long ({len(value)} caractères, maximum {limit})")
        return value

    def row(self, line: int, record: list[str]) -> dict[str, Any] | None:
        """The row ready for insertion, or None when it has a problem.

        Every field is checked even after a first problem, so that one pass over the file
        names every bad cell. The checks follow the order of the format's columns, the order
        in which `parse_consultations` lists the errors of one line.
        """
        if self._has_extra_fields(line, record):
            return None
        get = self._getter(record)
        before = len(self.errors)
        reference = self._reference(line, get("reference"))
        birth_date = self._birth_date(line, get("birth_date"))
        starts_at = self._starts_at(line, get("starts_at"))
        site = self._text(line, "site", get("site"), NAME_MAX, required=True)
        service = self._text(line, "service", get("service"), NAME_MAX, required=True)
        status = self._status(line, get("status"))
        new_starts_at = self._new_starts_at(line, get("new_starts_at"), status)
        phone = self._phone(line, get("phone"))
        last_name = self._text(line, "last_name", get("last_name"), NAME_MAX, required=False)
        first_name = self._text(line, "first_name", get("first_name"), NAME_MAX, required=False)
        note = self._text(line, "note", get("note"), NOTE_MAX, required=False)
        if len(self.errors) != before:
            return None
        return {
            "reference": reference,
            "birth_date": birth_date,
            "starts_at": starts_at,
            "site": site,
            "service": service,
            "status": status,
            "new_starts_at": new_starts_at,
            "phone": phone or None,  # hashed just before insertion, never stored
            "last_name": last_name,
            "first_name": first_name,
            "last_name_key": name_key(last_name) if last_name else None,
            "note": note,
        }

    def _has_extra_fields(self, line: int, record: list[str]) -> bool:
        """More non-empty fields than columns: the usual sign of a comma in an unquoted value,
        which shifts every later cell, so the row's other errors would only mislead."""
        width = self.width
        if len(record) > width and any(v.strip() for v in record[width:]):
            self.error(
                line, None, f"{len(record)} champs au lieu de {width} "
                "(virgule dans une valeur sans guillemets ?)",
            )  # fmt: skip
            return True
        return False

    def _reference(self, line: int, raw: str) -> str:
        """The canonical reference, the form every lookup compares with. It must be unique in
        the list: a lookup by reference must find one consultation, never choose between two."""
        reference = normalise_reference(raw)
        if not reference:
            self.error(line, "reference", "valeur obligatoire manquante")
        elif not _REFERENCE_CHARS.fullmatch(reference) or len(reference) > REFERENCE_MAX:
            self.error(
                line, "reference", "référence invalide (lettres, chiffres et tirets seulement)"
            )
        else:
            self._warn_if_unfindable(line, reference)
            self._check_unique(line, reference)
        return reference

    def _warn_if_unfindable(self, line: int, reference: str) -> None:
        """Only a warning: the reference is valid and an agent can look it up, but the assistant
        cannot pick it out of a patient's sentence."""
        if not is_findable_reference(reference):
            self.warnings.append(
                f"line {line}, column reference: forme inhabituelle (attendue C-AA-NNNNNN) : "
                "le patient ne pourra pas la donner dans une phrase"
            )

    def _check_unique(self, line: int, reference: str) -> None:
        """A duplicate is reported on both lines (the first one once), so that whoever fixes
        the file sees which two rows clash whichever of them they look at."""
        first = self.first_line.get(reference)
        if first is None:
            self.first_line[reference] = line
            return
        if reference not in self.reported_first:
            self.reported_first.add(reference)
            self.error(first, "reference", f"référence en double (aussi à la ligne {line})")
        self.error(line, "reference", f"référence en double (déjà à la ligne {first})")

    def _birth_date(self, line: int, raw: str) -> date | None:
        """The date of birth, which a patient gives to prove who they are: a date that no one
        can give (impossible, in the future, before 1900) is an error in the file."""
        if not raw:
            self.error(line, "birth_date", "valeur obligatoire manquante")
            return None
        try:
            birth_date = _parse_date(raw)
        except ValueError:
            self.error(line, "birth_date", "format attendu AAAA-MM-JJ")
            return None
        if birth_date is None:
            self.error(line, "birth_date", "date impossible")
            return None
        return self._plausible_birth_date(line, birth_date)

    def _plausible_birth_date(self, line: int, birth_date: date) -> date | None:
        """A real date that cannot be anyone's date of birth; the error never quotes it (the
        messages may end up in a log)."""
        if birth_date > self.today:
            self.error(line, "birth_date", "date de naissance dans le futur")
            return None
        if birth_date < MIN_BIRTH_DATE:
            self.error(line, "birth_date", "date de naissance antérieure à 1900")
            return None
        return birth_date

    def _starts_at(self, line: int, raw: str) -> datetime | None:
        """When the consultation was planned: required, it is what the patient asks about."""
        if not raw:
            self.error(line, "starts_at", "valeur obligatoire manquante")
            return None
        return self._datetime(line, "starts_at", raw)

    def _status(self, line: int, raw: str) -> Status | None:
        """Maintained, cancelled or moved, in any case, with or without accents and in the
        masculine too: the word is typed by hand in the hospital's spreadsheet."""
        status = STATUS_WORDS.get(fold(raw))
        if not raw:
            self.error(line, "status", "valeur obligatoire manquante")
        elif status is None:
            self.error(
                line, "status",
                f"statut inconnu « {raw[:40]} » (attendu : maintenue, annulée ou reportée)",
            )  # fmt: skip
        return status

    def _new_starts_at(self, line: int, raw: str, status: Status | None) -> datetime | None:
        """The new date goes with a moved consultation and only with it: a patient told
        "reportée" needs it, a patient told "maintenue" must not be given another date. Not
        judged when the status itself is unreadable (that error is already reported)."""
        new_starts_at = self._datetime(line, "new_starts_at", raw) if raw else None
        if status is Status.REPORTEE and not raw:
            self.error(line, "new_starts_at", "obligatoire quand le statut est « reportée »")
        elif raw and status is not None and status is not Status.REPORTEE:
            self.error(line, "new_starts_at", f"donnée alors que le statut est « {status.label} »")
        return new_starts_at

    def _phone(self, line: int, raw: str) -> str:
        """Optional; when given it must be E.164, the form it is hashed in and compared with."""
        if raw and not is_e164(raw):
            self.error(line, "phone", "numéro non conforme au format E.164 (ex. +32470123456)")
        return raw

    def _getter(self, record: list[str]) -> Callable[[str], str]:
        def get(column: str) -> str:
            index = self.columns.get(column)
            if index is None or index >= len(record):
                return ""
            return record[index].strip()

        return get


def _header(line: int, record: list[str]) -> dict[str, int]:
    names = [value.strip().lstrip("\ufeff").strip().lower() for value in record]
    errors: list[str] = []
    columns: dict[str, int] = {}
    for index, name in enumerate(names):
        if name in KNOWN_COLUMNS:
            if name in columns:
                errors.append(f"line {line}, column {name}: colonne en double")
            columns[name] = index
    missing = [name for name in REQUIRED_COLUMNS if name not in columns]
    hint = ""
    if missing and len(record) == 1 and ";" in record[0]:
        hint = " (séparateur « ; » trouvé : le format demande des virgules)"
    errors += [f"line {line}, column {name}: colonne obligatoire absente{hint}" for name in missing]
    if errors:
        raise ConsultationImportError(errors)
    return columns


def parse_consultations(
    data: bytes, *, today: date | None = None, progress: Progress | None = None
) -> ParsedList:
    """Decode and validate a whole file. Raises `ConsultationImportError` listing every problem."""
    sha256 = hashlib.sha256(data).hexdigest()
    text = _decode(data)
    records = _records(text)
    first = next(records, None)
    if first is None:
        raise ConsultationImportError(["line 1: fichier vide (pas de ligne d'en-tête)"])
    header_line, header_record = first
    checker = _RowChecker(
        _header(header_line, header_record), len(header_record), today or date.today()
    )
    total = max(text.count("\n"), 1)
    rows: list[dict[str, Any]] = []
    for count, (line, record) in enumerate(records, start=1):
        row = checker.row(line, record)
        if row is not None:
            rows.append(row)
        if progress and count % 500 == 0:
            progress("validation", min(line, total), total)
    if progress:
        progress("validation", total, total)
    if checker.errors:
        raise ConsultationImportError([message for *_, message in sorted(checker.errors)])
    if not rows:
        raise ConsultationImportError(
            [f"line {header_line + 1}: aucune consultation (le fichier n'a que l'en-tête)"]
        )
    return ParsedList(rows=rows, warnings=tuple(checker.warnings), sha256=sha256)


# --- storing ----------------------------------------------------------------------------------


def _with_phone_hashes(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    from bot.privacy.hashing import hash_phone

    out = []
    for row in rows:
        row = dict(row)
        phone = row.pop("phone")
        row["phone_hash"] = hash_phone(phone) if phone else None
        out.append(row)
    return out


def store_consultations(
    parsed: ParsedList,
    *,
    engine: Engine | None = None,
    database_url: str | None = None,
    progress: Progress | None = None,
    started: float | None = None,
) -> ImportResult:
    """Replace the whole list with `parsed`, in one transaction."""
    started = time.perf_counter() if started is None else started
    engine = resolve_engine(engine, database_url)
    rows = _with_phone_hashes(parsed.rows)
    now = utcnow()
    with engine.begin() as conn:
        conn.execute(consultations_table.delete())
        for start in range(0, len(rows), INSERT_CHUNK):
            conn.execute(consultations_table.insert(), rows[start : start + INSERT_CHUNK])
            if progress:
                progress("enregistrement", min(start + INSERT_CHUNK, len(rows)), len(rows))
        conn.execute(
            failures_table.delete().where(failures_table.c.created_at < now - FAILURES_KEPT)
        )
        duration = time.perf_counter() - started
        conn.execute(
            imports_table.insert().values(
                imported_at=now,
                rows=len(rows),
                file_sha256=parsed.sha256,
                duration_ms=round(duration * 1000),
            )
        )
    return ImportResult(
        rows=len(rows),
        duration=time.perf_counter() - started,
        by_status=parsed.by_status,
        file_sha256=parsed.sha256,
        warnings=parsed.warnings,
    )


def import_consultations(
    source: str | Path | bytes,
    *,
    engine: Engine | None = None,
    database_url: str | None = None,
    progress: Progress | None = None,
    today: date | None = None,
) -> ImportResult:
    """Validate a file (path or bytes) and, if it has no error at all, replace the list with it.

    Raises `ConsultationImportError` (nothing changed) or `OSError` (file unreadable).
    """
    started = time.perf_counter()
    data = source if isinstance(source, bytes) else Path(source).read_bytes()
    parsed = parse_consultations(data, today=today, progress=progress)
    return store_consultations(
        parsed, engine=engine, database_url=database_url, progress=progress, started=started
    )
