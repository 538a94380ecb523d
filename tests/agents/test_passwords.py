"""Agents' passwords: scrypt with a per-user salt, the stored parameters, the password rules."""

from __future__ import annotations

import base64

import pytest

from bot.agents.passwords import hash_password, password_problem, verify_password


def test_scrypt_hash_with_its_parameters_and_a_salt_per_user() -> None:
    first, second = hash_password("cheval batterie agrafe"), hash_password("cheval batterie agrafe")
    scheme, n, r, p, salt, key = first.split("$")
    assert (scheme, n, r, p) == ("scrypt", str(2**14), "8", "1")
    assert len(base64.b64decode(salt)) == 16 and len(base64.b64decode(key)) == 32
    assert first != second  # a different salt each time
    assert "cheval" not in first


def test_verify() -> None:
    stored = hash_password("cheval batterie agrafe")
    assert verify_password("cheval batterie agrafe", stored)
    assert not verify_password("cheval batterie agrafé", stored)
    assert not verify_password("", stored)
    assert not verify_password("cheval batterie agrafe", "not a hash")
    assert not verify_password("cheval batterie agrafe", stored.replace("scrypt", "md5", 1))


@pytest.mark.parametrize(
    "password",
    ["", "   ", "court", "12345678901234", "aaaaaaaaaaaaaaaa", "Vivalia2022!!", "motdepasse123",
     "marie-est-la-123"],
)  # fmt: skip
def test_weak_passwords_are_refused(password: str) -> None:
    assert password_problem(password, "marie") is not None


@pytest.mark.parametrize(
    "password", ["cheval batterie agrafe correcte", "Ardennes-2022-hopital!x", "tk9#Lm2$qP0w"]
)
def test_good_passwords(password: str) -> None:
    assert password_problem(password, "marie") is None
