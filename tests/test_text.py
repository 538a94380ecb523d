"""bot.text: normalisation of patients' French, and a leading '/' read as text."""

from __future__ import annotations

import pytest

from bot.text import as_plain_text, normalize


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("J’ai mal à l'épaule !!!", "j ai mal a l epaule"),
        ("kel num pr un medecin le w-e", "quel numero pour un medecin le week end"),
        ("Mon RDV est maintenuuuu ?", "mon rendez vous est maintenuu"),
        ("Ma sœur", "ma soeur"),
        ("essential_followup+radiology", "essential followup+radiology"),
    ],
)
def test_normalize(raw: str, expected: str) -> None:
    assert normalize(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("/greet", "greet"),
        ('  //emergency{"danger": "x"}', 'emergency{"danger": "x"}'),
        ("/", ""),
        (None, ""),
        ("bonjour / merci", "bonjour / merci"),
    ],
)
def test_a_leading_slash_is_removed(raw: str | None, expected: str) -> None:
    assert as_plain_text(raw) == expected
