"""Pure helpers: text normalisation, '/' neutralisation, topic words."""

from __future__ import annotations

import pytest

from bot.nlu.topics import detect_topics
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


@pytest.mark.parametrize(
    ("text", "topics"),
    [
        ("Mon IRM de demain est-elle maintenue ?", {"radiology"}),
        ("mammo de depistage", {"radiology"}),
        ("angioscanner jeudi", {"radiology"}),
        ("ma chimio et mon scanner", {"essential_followup", "radiology"}),
        ("je suis enceinte, j'ai une échographie", {"pregnancy"}),
        ("enceinte, échographie et radio du poignet", {"pregnancy", "radiology"}),
        ("mon opération de la hanche", {"operations"}),
        ("Bertrix, les consultations ont lieu ?", {"bertrix"}),
        ("rdv dermato + IRM", {"consultation_status", "radiology"}),
        ("ma consultation en oncologie", {"essential_followup"}),
        ("je l'ai entendu à la radio", set()),
        ("les urgences sont ouvertes ?", set()),
    ],
)
def test_topics(text: str, topics: set[str]) -> None:
    assert detect_topics(text) == topics
