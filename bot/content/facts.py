"""The facts the answers rest on (locales/facts.yml), and the phone numbers a text gives.

One reader for every part that needs the facts: the content check and the content store (which
phone numbers each fact carries), the public page (which numbers become call links), the agents'
console (each fact's summary beside the answer). Pure: no Rasa import.
"""

from __future__ import annotations

import functools
import logging
import re
from dataclasses import dataclass
from pathlib import Path

import yaml

logger = logging.getLogger(__name__)

# A phone number: Belgian numbers start with 0 (0800/35.168, 070/245.245); short codes start with
# 1 (112, 1733). "1 500 PC" or "6 349 consultations" are counts, not numbers to call.
_LONG_PHONE = re.compile(r"(?<![\d])(?:0\d{1,3}(?:[ ./-]\d{2,3}){1,3}|0\d{7,9})(?![\d])")
_SHORT_CODE = re.compile(
    r"(?<![\d][ .\u00a0\u202f])(?<![\d/.,])\b1\d{2,3}\b(?![ .,\u00a0\u202f]?\d)"
)


@dataclass(frozen=True)
class Fact:
    """One fact of the communiqué: its one-line summary and the numbers it carries, as written
    there ("0800/35.168")."""

    id: str
    summary: str
    phones: tuple[str, ...] = ()

    @property
    def phone_digits(self) -> set[str]:
        return {phone_digits(p) for p in self.phones}


def phone_digits(number: str) -> str:
    return re.sub(r"\D", "", number)


def find_phone_numbers(text: str) -> list[str]:
    """Every phone number a text gives, as digits only."""
    found = [phone_digits(m.group(0)) for m in _LONG_PHONE.finditer(text)]
    found += [m.group(0) for m in _SHORT_CODE.finditer(text)]
    return found


def load_facts(path: Path) -> dict[str, Fact]:
    """Fact id -> Fact, in the file's order. Raises OSError or yaml.YAMLError (the content check
    reports them; `read_facts` logs them)."""
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    facts = raw.get("facts") or {} if isinstance(raw, dict) else {}
    return {
        str(fid): Fact(
            id=str(fid),
            summary=str((body or {}).get("summary", "")),
            phones=tuple(str(p) for p in (body or {}).get("phones") or []),
        )
        for fid, body in facts.items()
    }


def read_facts(path: Path) -> dict[str, Fact]:
    """`load_facts`, re-read only when the file changes; {} (and an error in the log) when it
    cannot be read, so that a page or the console still serves."""
    try:
        stat = path.stat()
        return _cached(path, stat.st_mtime_ns, stat.st_size)
    except (OSError, yaml.YAMLError) as exc:
        logger.error("cannot read the facts %s: %s", path, exc)
        return {}


@functools.lru_cache(maxsize=8)
def _cached(path: Path, _mtime_ns: int, _size: int) -> dict[str, Fact]:
    return load_facts(path)
