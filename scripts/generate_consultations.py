#!/usr/bin/env python3
"""Generate a week of fake consultations in the shared CSV format (CONSULTATIONS.md).

    .venv/bin/python scripts/generate_consultations.py var/week.csv            # 6,349 rows
    .venv/bin/python scripts/generate_consultations.py - --rows 100 --seed 7   # to stdout
    .venv/bin/python scripts/generate_consultations.py bad.csv --bad-rows 2    # 2 broken rows

Deterministic for a given --seed. Every person is invented; the phone numbers are in the
Belgian mobile ranges but random. With --bad-rows N, N rows get one error each (impossible
date, unknown status, reportée without new date, duplicate reference, bad phone, in turn);
their line numbers are printed on stderr. Standard library only.
"""

from __future__ import annotations

import argparse
import csv
import io
import random
import sys
from datetime import date, datetime, timedelta

SITES = [
    "CHA Libramont",
    "Clinique Saint-Joseph Arlon",
    "Hôpital de Virton",
    "Hôpital Princesse Paola Marche",
    "Centre Sainte-Thérèse Bastogne",
    "Hôpital psychiatrique de Bertrix",
]
SERVICES = [
    "Cardiologie", "Oncologie", "Orthopédie", "Ophtalmologie", "Psychiatrie", "Neurologie",
    "Diabétologie", "Dermatologie", "ORL", "Gynécologie-obstétrique", "Pédiatrie",
    "Gastro-entérologie", "Pneumologie", "Urologie", "Néphrologie", "Radiologie",
]  # fmt: skip
LAST_NAMES = [
    "Peeters", "Lambert", "Dubois", "Maréchal", "François", "Thiry", "Lejeune", "Marchal",
    "Collignon", "Renard", "Jacobs", "Noël", "Leroy", "Schmitz", "Simon", "Martin", "Laurent",
    "Goffin", "Gérard", "Hubert", "Henrotin", "Van den Bossche", "De Smet", "Müller", "Wagner",
    "Lecomte", "Pierret", "Dupont", "Lefèbvre", "Janssens", "Mathieu", "Adam", "Poncelet",
]  # fmt: skip
FIRST_NAMES = [
    "Marie", "Céline", "Michel", "Noémie", "Nathalie", "Pierre", "Jean", "Élise", "André",
    "Anne", "François", "Luc", "Sophie", "Julien", "Chloé", "Thomas", "Léa", "Hélène",
    "Jean-Marc", "Zoé", "Maxime", "Inès", "Benoît", "Françoise",
]  # fmt: skip
NOTES = [
    "Venir avec votre carnet de grossesse",
    "Venir à jeun",
    "Apporter la liste de vos médicaments",
    "Venir avec vos derniers examens",
    "Se présenter 15 minutes avant l'heure",
]
HEADER = [
    "reference", "birth_date", "starts_at", "site", "service", "status", "new_starts_at",
    "phone", "last_name", "first_name", "note",
]  # fmt: skip
STATUSES = ["maintenue", "annulée", "reportée"]
STATUS_WEIGHTS = [45, 40, 15]
BAD_KINDS = ["impossible_date", "unknown_status", "reported_without_date", "duplicate", "phone"]


def _slot(rng: random.Random, monday: date) -> datetime:
    day = monday + timedelta(days=rng.randrange(5))
    minutes = rng.randrange(8 * 4, 17 * 4 + 2) * 15  # 08:00 .. 17:15, quarter hours
    return datetime(day.year, day.month, day.day) + timedelta(minutes=minutes)


def generate(rows: int, seed: int, monday: date) -> list[list[str]]:
    rng = random.Random(seed)
    year = monday.strftime("%y")
    number = 9_100_000
    out: list[list[str]] = []
    for _ in range(rows):
        number += rng.randint(1, 14)
        service = rng.choice(SERVICES)
        status = rng.choices(STATUSES, STATUS_WEIGHTS)[0]
        starts_at = _slot(rng, monday)
        new_starts_at = ""
        if status == "reportée":
            moved = starts_at + timedelta(days=rng.randint(14, 60))
            while moved.weekday() >= 5:
                moved += timedelta(days=1)
            new_starts_at = moved.strftime("%Y-%m-%dT%H:%M")
        birth = date(1925, 1, 1) + timedelta(days=rng.randrange(365 * 97))
        if service == "Pédiatrie":
            birth = monday - timedelta(days=rng.randrange(1, 365 * 16))
        if service == "Gynécologie-obstétrique":
            birth = monday - timedelta(days=rng.randrange(365 * 18, 365 * 45))
        phone = f"+3247{rng.randrange(10**7):07d}" if rng.random() < 0.7 else ""
        note = ""
        if service == "Gynécologie-obstétrique" and rng.random() < 0.8:
            note = NOTES[0]
        elif rng.random() < 0.08:
            note = rng.choice(NOTES[1:])
        out.append(
            [
                f"C-{year}-{number:07d}",
                birth.isoformat(),
                starts_at.strftime("%Y-%m-%dT%H:%M"),
                rng.choice(SITES),
                service,
                status,
                new_starts_at,
                phone,
                rng.choice(LAST_NAMES),
                rng.choice(FIRST_NAMES),
                note,
            ]
        )
    return out


def break_rows(rows: list[list[str]], count: int, seed: int) -> list[int]:
    """Give `count` rows one error each; returns their line numbers (header = line 1)."""
    rng = random.Random(seed + 1)
    picked = sorted(rng.sample(range(1, len(rows)), count))
    for n, index in enumerate(picked):
        row = rows[index]
        kind = BAD_KINDS[n % len(BAD_KINDS)]
        if kind == "impossible_date":
            row[1] = row[1][:5] + "02-31"
        elif kind == "unknown_status":
            row[5] = "peut-être"
        elif kind == "reported_without_date":
            row[5], row[6] = "reportée", ""
        elif kind == "duplicate":
            row[0] = rows[index - 1][0].lower().replace("-", " ")
        else:
            row[7] = "0470 12 34 56"
    return [index + 2 for index in picked]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("output", help="the CSV file to write, or - for stdout")
    parser.add_argument("--rows", type=int, default=6349)
    parser.add_argument("--seed", type=int, default=20220516)
    parser.add_argument("--week", type=date.fromisoformat, default=date(2022, 5, 16),
                        help="the Monday of the week (default 2022-05-16)")  # fmt: skip
    parser.add_argument("--bad-rows", type=int, default=0, help="rows to break on purpose")
    parser.add_argument("--bom", action="store_true", help="start with a UTF-8 byte-order mark")
    args = parser.parse_args(argv)

    rows = generate(args.rows, args.seed, args.week)
    if args.bad_rows:
        lines = break_rows(rows, args.bad_rows, args.seed)
        print("broken lines: " + ", ".join(map(str, lines)), file=sys.stderr)
    encoding = "utf-8-sig" if args.bom else "utf-8"
    if args.output == "-":
        if isinstance(sys.stdout, io.TextIOWrapper):
            sys.stdout.reconfigure(encoding=encoding)
        stream = sys.stdout
        writer = csv.writer(stream, lineterminator="\n")
        writer.writerow(HEADER)
        writer.writerows(rows)
    else:
        with open(args.output, "w", encoding=encoding, newline="") as f:
            writer = csv.writer(f, lineterminator="\n")
            writer.writerow(HEADER)
            writer.writerows(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
