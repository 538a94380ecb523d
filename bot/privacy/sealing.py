"""Sealed values: what the consultation form keeps between two turns, encrypted.

Rasa reads the conversation back from the tracker store at every message, and the store masks
identifiers (`bot.privacy.redaction`). A reference given in one message and the date of birth in the
next must still meet: the form keeps each as ``sealed:<Fernet token>``, encrypted and
authenticated with a key derived from `SECRET_KEY` (shared by Rasa and the action server, never
in the tracker store). A sealed value expires after an hour, like the conversation itself.

Only the action server seals and opens values; the tracker store only recognises them
(`is_sealed`, which needs no key).
"""

from __future__ import annotations

import base64
import hashlib
from typing import Any

from cryptography.fernet import Fernet, InvalidToken

PREFIX = "sealed:"
MAX_AGE_SECONDS = 3600


def is_sealed(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(PREFIX)


def _fernet() -> Fernet:
    from bot.settings import get_settings

    secret = get_settings().secret_key.encode()
    key = hashlib.sha256(b"consultation-form-seal:" + secret).digest()
    return Fernet(base64.urlsafe_b64encode(key))


def seal(value: str) -> str:
    """``sealed:<token>`` for a value the form must remember until the next message."""
    return PREFIX + _fernet().encrypt(value.encode()).decode("ascii")


def unseal(value: Any, max_age: int = MAX_AGE_SECONDS) -> str | None:
    """The value sealed by `seal`, or None (not sealed, tampered with, other key, too old)."""
    if not is_sealed(value):
        return None
    try:
        return _fernet().decrypt(value[len(PREFIX) :].encode("ascii"), ttl=max_age).decode()
    except (InvalidToken, UnicodeError, ValueError):
        return None
