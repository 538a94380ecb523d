"""Agents' passwords: scrypt (memory-hard) with a per-user salt, compared in constant time.

Stored form: ``scrypt$<n>$<r>$<p>$<salt, base64>$<hash, base64>``, so that the cost can be
raised later without making existing hashes unreadable.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

N = 2**14
R = 8
P = 1
SALT_BYTES = 16
KEY_BYTES = 32
MAXMEM = 64 * 1024 * 1024
SCHEME = "scrypt"

MIN_LENGTH = 12
MAX_LENGTH = 1024
# The passwords every attacker tries first (any case, digits and punctuation around them
# ignored): "Vivalia2022!" is refused as well as "motdepasse".
COMMON_WORDS = frozenset(
    {
        "password", "motdepasse", "azerty", "qwerty", "vivalia", "hopital", "hospital",
        "bonjour", "soleil", "admin", "administrateur", "superviseur", "agent", "welcome",
        "bienvenue", "letmein", "changeme", "secret", "callcenter", "callcentre", "libramont",
        "arlon", "bastogne", "marche", "bertrix", "virton", "abcdef", "azertyuiop",
        "qwertyuiop", "iloveyou", "jetaime", "doudou", "loulou", "chouchou", "belgique",
    }
)  # fmt: skip


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _derive(password: str, salt: bytes, n: int, r: int, p: int, dklen: int) -> bytes:
    return hashlib.scrypt(
        password.encode("utf-8"), salt=salt, n=n, r=r, p=p, maxmem=MAXMEM, dklen=dklen
    )


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(SALT_BYTES)
    key = _derive(password, salt, N, R, P, KEY_BYTES)
    return f"{SCHEME}${N}${R}${P}${_b64(salt)}${_b64(key)}"


def verify_password(password: str, stored: str) -> bool:
    """True when `password` matches `stored`; False for a wrong password or a malformed hash."""
    try:
        scheme, n, r, p, salt_b64, key_b64 = stored.split("$")
        if scheme != SCHEME:
            return False
        salt = base64.b64decode(salt_b64, validate=True)
        expected = base64.b64decode(key_b64, validate=True)
        candidate = _derive(password, salt, int(n), int(r), int(p), len(expected))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(candidate, expected)


# Verified against when the account does not exist, so that an unknown name costs the same
# time as a wrong password.
DUMMY_HASH = hash_password(secrets.token_hex(16))


def password_problem(password: str, username: str = "") -> str | None:
    """Why a password is refused (French, for the person creating the account), else None."""
    if not password or not password.strip():
        return "le mot de passe est vide"
    if len(password) < MIN_LENGTH:
        return f"le mot de passe doit compter au moins {MIN_LENGTH} caractères"
    if len(password) > MAX_LENGTH:
        return f"le mot de passe doit compter au plus {MAX_LENGTH} caractères"
    if len(set(password)) < 5:
        return "le mot de passe répète trop peu de caractères différents"
    letters = "".join(ch for ch in password.casefold() if ch.isalpha())
    if username and len(username) >= 3 and username.casefold() in password.casefold():
        return "le mot de passe ne doit pas contenir le nom de l'agent"
    if letters in COMMON_WORDS or any(
        letters == word + word or (letters.startswith(word) and len(letters) <= len(word) + 2)
        for word in COMMON_WORDS
    ):
        return "ce mot de passe est trop courant : choisissez une phrase de passe"
    if password.isdigit():
        return "un mot de passe fait seulement de chiffres est trop facile à deviner"
    return None
