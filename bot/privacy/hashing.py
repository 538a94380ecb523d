"""Keyed hashes for personal identifiers that must be matched but never stored in clear."""

from __future__ import annotations

import hashlib
import hmac

from bot.settings import get_settings


def keyed_hash(value: str, purpose: str) -> str:
    """HMAC-SHA256 of `value`, separated by `purpose` so that two uses never share a hash."""
    key = get_settings().phone_hash_key
    return hmac.new(key, f"{purpose}:{value}".encode(), hashlib.sha256).hexdigest()


def hash_phone(e164: str) -> str:
    """The hash under which a patient's mobile number is stored and compared (E.164 input)."""
    return keyed_hash(e164.strip(), "phone")
