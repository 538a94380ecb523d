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


def test_fold_keeps_one_character_per_character_and_drops_accents():
    import random
    import unicodedata

    from bot.text import fold

    assert fold("Née le 1er Décembre, À Libramont") == "nee le 1er decembre, a libramont"
    rng = random.Random(1)
    alphabet = [chr(c) for c in range(0x20, 0x2FF)] + list("’«»€œæÉÈÀÇ\U0001f600")
    for _ in range(2000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 30)))
        # the definition: the base letter of each character (its NFD form's first), lower case
        expected = "".join(unicodedata.normalize("NFD", ch)[0] for ch in text).lower()
        assert fold(text) == expected
