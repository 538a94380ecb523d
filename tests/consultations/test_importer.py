from __future__ import annotations

import hashlib
from datetime import date, datetime

import pytest
from sqlalchemy import func, inspect, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from bot.consultations import importer
from bot.consultations.importer import (
    ConsultationImportError,
    ParsedList,
    import_consultations,
    parse_consultations,
    store_consultations,
)
from bot.consultations.models import Status, consultations_table, imports_table
from bot.privacy.hashing import hash_phone

from .conftest import HEADER, SAMPLE, SAMPLE_ROWS, csv_bytes, row

TODAY = date(2026, 11, 29)


def rows_in(engine: Engine) -> dict[str, dict]:
    with engine.connect() as conn:
        result = conn.execute(select(consultations_table)).mappings().all()
    return {r["reference"]: dict(r) for r in result}


def refused(data: bytes, engine: Engine | None = None) -> list[str]:
    with pytest.raises(ConsultationImportError) as info:
        import_consultations(data, engine=engine, today=TODAY)
    return list(info.value.errors)


# --- good files -------------------------------------------------------------------------------


def test_import_sample(engine: Engine) -> None:
    result = import_consultations(SAMPLE, engine=engine)
    assert result.rows == SAMPLE_ROWS
    assert result.by_status == {Status.MAINTENUE: 9, Status.ANNULEE: 13, Status.REPORTEE: 2}
    assert result.duration > 0
    assert result.file_sha256 == hashlib.sha256(SAMPLE.read_bytes()).hexdigest()
    assert result.warnings == ()

    stored = rows_in(engine)
    assert len(stored) == SAMPLE_ROWS
    moved = stored["C229100130"]  # stored normalised
    assert moved["status"] is Status.REPORTEE
    assert moved["birth_date"] == date(1975, 4, 13)
    assert moved["starts_at"] == datetime(2022, 5, 17, 8, 0)
    assert moved["new_starts_at"] == datetime(2022, 6, 18, 8, 0)
    assert moved["site"] == "Hôpital de Virton"
    assert moved["last_name"] == "Dubois"  # as given
    assert moved["first_name"] == "Élise"
    assert moved["phone_hash"] == hash_phone("+32478537484")
    pregnant = stored["C229100109"]
    assert pregnant["note"] == "Venir avec votre carnet de grossesse"
    assert pregnant["phone_hash"] is None
    assert stored["C229100001"]["status"] is Status.ANNULEE


def test_phone_never_stored_in_clear(engine: Engine) -> None:
    import_consultations(SAMPLE, engine=engine)
    columns = {c["name"] for c in inspect(engine).get_columns("consultations")}
    assert "phone" not in columns
    phones = {line.split(",")[7] for line in SAMPLE.read_text("utf-8").splitlines()[1:]} - {""}
    for stored in rows_in(engine).values():
        assert not set(map(str, stored.values())) & phones


def test_import_run_recorded(engine: Engine) -> None:
    result = import_consultations(SAMPLE, engine=engine)
    with engine.connect() as conn:
        runs = conn.execute(select(imports_table)).mappings().all()
    assert len(runs) == 1
    assert runs[0]["rows"] == SAMPLE_ROWS
    assert runs[0]["file_sha256"] == result.file_sha256


def test_bom_accepted(engine: Engine) -> None:
    result = import_consultations(b"\xef\xbb\xbf" + SAMPLE.read_bytes(), engine=engine)
    assert result.rows == SAMPLE_ROWS
    assert "C229100013" in rows_in(engine)


def test_crlf_line_endings(engine: Engine) -> None:
    data = SAMPLE.read_bytes().replace(b"\n", b"\r\n")
    assert import_consultations(data, engine=engine).rows == SAMPLE_ROWS


def test_header_any_case_any_order_unknown_columns_ignored(engine: Engine) -> None:
    header = ["Status", "SERVICE", "comment", "Site", "Starts_At", "Birth_Date", " Reference "]
    data = csv_bytes(
        [
            ["maintenue", "ORL", "ignored", "Hôpital de Virton", "2022-05-18T10:00", "1980-01-02",
             "c 22 123456"],
        ],
        header=header,
    )  # fmt: skip
    assert import_consultations(data, engine=engine).rows == 1
    stored = rows_in(engine)["C22123456"]
    assert stored["service"] == "ORL"
    assert stored["birth_date"] == date(1980, 1, 2)
    assert stored["phone_hash"] is None
    assert stored["last_name"] is None


@pytest.mark.parametrize(
    ("written", "status"),
    [
        ("maintenue", Status.MAINTENUE), ("MAINTENUE", Status.MAINTENUE),
        ("Annulée", Status.ANNULEE), ("annulee", Status.ANNULEE), ("ANNULÉE", Status.ANNULEE),
        (" reportée ", Status.REPORTEE), ("REPORTEE", Status.REPORTEE),
    ],
)  # fmt: skip
def test_status_any_case_with_or_without_accent(written: str, status: Status) -> None:
    new = "2022-06-01T10:00" if status is Status.REPORTEE else ""
    parsed = parse_consultations(csv_bytes([row(status=written, new_starts_at=new)]), today=TODAY)
    assert parsed.rows[0]["status"] is status


def test_blank_lines_and_quoted_values(engine: Engine) -> None:
    data = csv_bytes(
        [
            row("C-22-0000001", note='Venir à jeun, "vraiment"'),
            row("C-22-0000002", site="Clinique Saint-Joseph, Arlon"),
        ]
    ).replace(b"\n", b"\n\n", 1)
    assert import_consultations(data, engine=engine).rows == 2
    stored = rows_in(engine)
    assert stored["C220000001"]["note"] == 'Venir à jeun, "vraiment"'
    assert stored["C220000002"]["site"] == "Clinique Saint-Joseph, Arlon"


def test_unusual_reference_is_a_warning_not_an_error() -> None:
    parsed = parse_consultations(csv_bytes([row("X-1")]), today=TODAY)
    assert len(parsed.rows) == 1
    assert parsed.warnings == (
        "line 2, column reference: forme inhabituelle (attendue C-AA-NNNNNN) : "
        "le patient ne pourra pas la donner dans une phrase",
    )


# --- re-import --------------------------------------------------------------------------------


def test_reimport_replaces_the_list(engine: Engine) -> None:
    import_consultations(SAMPLE, engine=engine)
    new = csv_bytes(
        [
            row("C-22-9100013", status="annulée", birth_date="1999-12-11"),  # was maintenue
            row("C-22-7777777"),
        ]
    )
    assert import_consultations(new, engine=engine).rows == 2
    stored = rows_in(engine)
    assert set(stored) == {"C229100013", "C227777777"}
    assert stored["C229100013"]["status"] is Status.ANNULEE
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(imports_table)).scalar() == 2


def test_same_file_twice(engine: Engine) -> None:
    import_consultations(SAMPLE, engine=engine)
    import_consultations(SAMPLE, engine=engine)
    assert len(rows_in(engine)) == SAMPLE_ROWS


# --- bad files: all or nothing ---------------------------------------------------------------


def test_two_bad_rows_both_reported_and_nothing_changes(engine: Engine) -> None:
    import_consultations(SAMPLE, engine=engine)
    before = rows_in(engine)
    lines = SAMPLE.read_text("utf-8").splitlines()
    lines[3] = lines[3].replace("1934-01-02", "1934-02-31")  # line 4: impossible date
    lines[17] = lines[17].replace(",maintenue,", ",supprimée,")  # line 18: unknown status
    bad = ("\n".join(lines) + "\n").encode()

    errors = refused(bad, engine)

    assert errors == [
        "line 4, column birth_date: date impossible",
        "line 18, column status: statut inconnu « supprimée » "
        "(attendu : maintenue, annulée ou reportée)",
    ]
    assert rows_in(engine) == before


@pytest.mark.parametrize(
    ("bad_row", "expected"),
    [
        (row(birth_date="1990-02-31"), "line 3, column birth_date: date impossible"),
        (row(birth_date="14/02/1961"), "line 3, column birth_date: format attendu AAAA-MM-JJ"),
        (row(birth_date=""), "line 3, column birth_date: valeur obligatoire manquante"),
        (row(birth_date="2030-01-01"),
         "line 3, column birth_date: date de naissance dans le futur"),
        (row(birth_date="1899-12-31"),
         "line 3, column birth_date: date de naissance antérieure à 1900"),
        (row(starts_at="2022-05-32T09:00"),
         "line 3, column starts_at: date ou heure impossible « 2022-05-32T09:00 »"),
        (row(starts_at="2022-05-18T25:00"),
         "line 3, column starts_at: date ou heure impossible « 2022-05-18T25:00 »"),
        (row(starts_at="18/05/2022 09:00"),
         "line 3, column starts_at: format attendu AAAA-MM-JJTHH:MM, reçu « 18/05/2022 09:00 »"),
        (row(site=""), "line 3, column site: valeur obligatoire manquante"),
        (row(service=" "), "line 3, column service: valeur obligatoire manquante"),
        (row(reference=""), "line 3, column reference: valeur obligatoire manquante"),
        (row(reference="C/22/004512"),
         "line 3, column reference: référence invalide (lettres, chiffres et tirets seulement)"),
        (row(status="peut-être"),
         "line 3, column status: statut inconnu « peut-être » "
         "(attendu : maintenue, annulée ou reportée)"),
        (row(status=""), "line 3, column status: valeur obligatoire manquante"),
        (row(status="reportée"),
         "line 3, column new_starts_at: obligatoire quand le statut est « reportée »"),
        (row(status="reportée", new_starts_at="2022-06-31T10:00"),
         "line 3, column new_starts_at: date ou heure impossible « 2022-06-31T10:00 »"),
        (row(status="annulée", new_starts_at="2022-06-01T10:00"),
         "line 3, column new_starts_at: donnée alors que le statut est « annulée »"),
        (row(phone="0470123456"),
         "line 3, column phone: numéro non conforme au format E.164 (ex. +32470123456)"),
        (row(phone="+32 470 12 34 56"),
         "line 3, column phone: numéro non conforme au format E.164 (ex. +32470123456)"),
        (row(note="x" * 1001), "line 3, column note: trop long (1001 caractères, maximum 1000)"),
        ([*row(), "extra"],
         "line 3: 12 champs au lieu de 11 (virgule dans une valeur sans guillemets ?)"),
    ],
    ids=[
        "birth-impossible", "birth-format", "birth-missing", "birth-future", "birth-1899",
        "starts-impossible-day", "starts-impossible-hour", "starts-format", "site-missing",
        "service-blank", "reference-missing", "reference-slashes", "status-unknown",
        "status-missing", "reportee-without-date", "new-date-impossible", "new-date-not-reportee",
        "phone-national", "phone-spaces", "note-too-long", "extra-field",
    ],
)  # fmt: skip
def test_each_kind_of_bad_row(engine: Engine, bad_row: list[str], expected: str) -> None:
    import_consultations(SAMPLE, engine=engine)
    before = rows_in(engine)
    data = csv_bytes([row("C-22-0000009"), bad_row])  # the bad row is line 3
    assert refused(data, engine) == [expected]
    assert rows_in(engine) == before


def test_every_error_of_a_row_and_of_every_row() -> None:
    data = csv_bytes(
        [
            row("C-22-0000001", birth_date="1990-02-30", status="??", phone="123"),
            row("C-22-0000002"),
            row("C-22-0000003", site=""),
        ]
    )
    with pytest.raises(ConsultationImportError) as info:
        parse_consultations(data, today=TODAY)
    assert info.value.errors == (
        "line 2, column birth_date: date impossible",
        "line 2, column status: statut inconnu « ?? » (attendu : maintenue, annulée ou reportée)",
        "line 2, column phone: numéro non conforme au format E.164 (ex. +32470123456)",
        "line 4, column site: valeur obligatoire manquante",
    )


def test_duplicate_references_after_normalisation_name_both_lines(engine: Engine) -> None:
    import_consultations(SAMPLE, engine=engine)
    before = rows_in(engine)
    data = csv_bytes(
        [row("C-22-0000001"), row("C-22-0000002"), row("c 22 0000001"), row("C22.0000001")]
    )
    assert refused(data, engine) == [
        "line 2, column reference: référence en double (aussi à la ligne 4)",
        "line 4, column reference: référence en double (déjà à la ligne 2)",
        "line 5, column reference: référence en double (déjà à la ligne 2)",
    ]
    assert rows_in(engine) == before


def test_line_numbers_are_physical_lines() -> None:
    # A quoted note over two lines, and a blank line: the bad row is on physical line 6.
    data = (
        ",".join(HEADER) + "\n"
        + ",".join(row("C-22-0000001")[:-1]) + ',"Venir à jeun\net accompagné"\n'
        + "\n"
        + ",".join(row("C-22-0000002")) + "\n"
        + ",".join(row("C-22-0000003", status="oups")) + "\n"
    ).encode()  # fmt: skip
    with pytest.raises(ConsultationImportError) as info:
        parse_consultations(data, today=TODAY)
    assert info.value.errors == (
        "line 2, column note: retour à la ligne dans la valeur (guillemet non fermé ?)",
        "line 6, column status: statut inconnu « oups » (attendu : maintenue, annulée ou reportée)",
    )


def test_missing_columns_named(engine: Engine) -> None:
    import_consultations(SAMPLE, engine=engine)
    before = rows_in(engine)
    header = [h for h in HEADER if h not in ("birth_date", "status")]
    data = csv_bytes(
        [[v for h, v in zip(HEADER, row(), strict=True) if h in header]], header=header
    )
    assert refused(data, engine) == [
        "line 1, column birth_date: colonne obligatoire absente",
        "line 1, column status: colonne obligatoire absente",
    ]
    assert rows_in(engine) == before


def test_semicolon_separator_explained() -> None:
    data = SAMPLE.read_bytes().replace(b",", b";")
    with pytest.raises(ConsultationImportError) as info:
        parse_consultations(data, today=TODAY)
    assert len(info.value.errors) == 6
    assert all("séparateur « ; »" in e for e in info.value.errors)


def test_wrong_encoding_latin1(engine: Engine) -> None:
    import_consultations(SAMPLE, engine=engine)
    before = rows_in(engine)
    latin1 = SAMPLE.read_text("utf-8").encode("latin-1")
    errors = refused(latin1, engine)
    # The first non-ASCII byte of the sample is the "é" of "annulée" on line 2.
    assert errors[0].startswith("line 2: le fichier n'est pas en UTF-8 (")
    assert "Windows-1252/Latin-1" in errors[0]
    assert "réenregistrez-le en « CSV UTF-8 »" in errors[0]
    assert errors[1] == "line 2, column site: octet 0xE9 invalide en UTF-8"
    assert rows_in(engine) == before


def test_wrong_encoding_many_lines_is_summarised() -> None:
    data = csv_bytes([row(f"C-22-{n:07d}", site="Hôpital de Virton") for n in range(50)])
    with pytest.raises(ConsultationImportError) as info:
        parse_consultations(data.decode().encode("cp1252"), today=TODAY)
    errors = info.value.errors
    assert "(50 ligne(s) touchée(s))" in errors[0]
    assert errors[-1] == "… et 30 autre(s) ligne(s) non UTF-8"
    assert len(errors) == 1 + 20 + 1


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"", "line 1: fichier vide (pas de ligne d'en-tête)"),
        (",".join(HEADER).encode() + b"\n",
         "line 2: aucune consultation (le fichier n'a que l'en-tête)"),
        ("reference\n".encode("utf-16"), "line 1: fichier en UTF-16"),
        (b"PK\x03\x04rest-of-a-zip", "line 1: c'est un classeur Excel (.xlsx), pas un CSV"),
    ],
)  # fmt: skip
def test_unusable_files(data: bytes, expected: str) -> None:
    with pytest.raises(ConsultationImportError) as info:
        parse_consultations(data, today=TODAY)
    assert info.value.errors[0].startswith(expected)


def test_errors_never_quote_personal_data() -> None:
    data = csv_bytes(
        [
            row("C-22-0000001", birth_date="1961-02-30", phone="0470999888",
                last_name="Secretname", first_name="Hiddenfirst"),
            row("C-22-0000001", birth_date="1961-02-14", last_name="Secretname"),
        ]
    )  # fmt: skip
    with pytest.raises(ConsultationImportError) as info:
        parse_consultations(data, today=TODAY)
    text = "\n".join(info.value.errors)
    for secret in ("1961", "0470999888", "Secretname", "Hiddenfirst", "C-22", "C22"):
        assert secret not in text


def test_database_failure_midway_changes_nothing(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One transaction: a failure in the third insert chunk rolls back the delete and the
    first chunks."""
    import_consultations(SAMPLE, engine=engine)
    before = rows_in(engine)
    monkeypatch.setattr(importer, "INSERT_CHUNK", 2)
    good = parse_consultations(csv_bytes([row(f"C-22-{n:07d}") for n in range(6)]), today=TODAY)
    broken = ParsedList(rows=[*good.rows, dict(good.rows[0])], warnings=(), sha256="0" * 64)
    with pytest.raises(IntegrityError):
        store_consultations(broken, engine=engine)
    assert rows_in(engine) == before


def test_progress_reported() -> None:
    calls: list[tuple[str, int, int]] = []
    parse_consultations(SAMPLE.read_bytes(), progress=lambda *a: calls.append(a))
    assert calls[-1][0] == "validation"
    assert calls[-1][1] == calls[-1][2]
