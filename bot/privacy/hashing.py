"""Keyed hashes for personal identifiers that must be matched but never stored in clear, and
for the console's signed tokens: one HMAC, separated by purpose so that two uses never share a
hash."""

from __future__ import annotations

import hashlib
import hmac

from bot.settings import get_settings


def hmac_hex(key: bytes, purpose: str, value: str) -> str:
    """HMAC-SHA256 of `purpose:value` under `key`, in hex."""
    return hmac.new(key, f"{purpose}:{value}".encode(), hashlib.sha256).hexdigest()


def same_secret(given: str | None, expected: str) -> bool:
    """`given == expected`, compared in constant time; an empty or missing `given` never is."""
    return bool(given) and hmac.compare_digest(str(given).encode(), expected.encode())


def keyed_hash(value: str, purpose: str) -> str:
    """HMAC-SHA256 of `value` under PHONE_HASH_KEY, separated by `purpose`."""
    return hmac_hex(get_settings().phone_hash_key, purpose, value)


def hash_phone(e164: str) -> str:
    """The hash under which a patient's mobile number is stored and compared (E.164 input)."""
    return keyed_hash(e164.strip(), "phone")
