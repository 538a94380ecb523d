"""Which facts of the communiqué a message names outright. Pure: no Rasa import.

Some words settle the answer whatever the sentence around them: an MRI is a radiology exam
(suspended, F11), chemotherapy is an essential follow-up (maintained, F8), Bertrix is Bertrix
(F9). The intent classifier learns this from examples, but a generic question ("c'est maintenu
?") around a rare word ("mammo de dépistage", "vésicule") can pull it towards the generic
consultation answer, and a message that names two such topics asks two questions. This module
finds those words; bot/nlu/topic_booster.py uses them to correct the classifier.
"""

from __future__ import annotations

import re

from bot.text import normalize

RADIOLOGY = "radiology"
ESSENTIAL = "essential_followup"
PREGNANCY = "pregnancy"
OPERATIONS = "operations"
BERTRIX = "bertrix"
CONSULTATION = "consultation_status"

_PREGNANCY = re.compile(
    r"\b(?:enceintes?|grossesse|sage femme|sages femmes|prenatal\w*|futur\w* maman|jumeaux|"
    r"(?:bebe|accouchement|terme) (?:prevu|pour|attendu)|j attends? (?:un|une|des) (?:bebe|enfant|"
    r"jumeaux)|carnet de grossesse|monitoring|obstetri\w*|(?:mois|semaines) de grossesse|"
    r"echographie (?:de grossesse|du bebe|morphologique|du premier|du deuxieme|du troisieme|"
    r"des \d+ semaines))\b"
)
_TOPICS: dict[str, re.Pattern[str]] = {
    RADIOLOGY: re.compile(
        r"\b(?:irm|\w*scanners?|scan|scans|ct scan|pet scan|petscan|radio|radios|"
        r"radiographie\w*|radiologi\w*|mammo|mammographie\w*|scinti\w*|tomodensitometri\w*|"
        r"imagerie|densitometri\w*|resonance magnetique|echographie|echo|doppler|"
        r"arthrographie|arthro scanner|uro scanner|coroscanner|angio scanner|angiographie)\b"
    ),
    ESSENTIAL: re.compile(
        r"\b(?:chimio\w*|oncolog\w*|onco|cancer\w*|cancereu\w*|tumeur\w*|radiotherapie|"
        r"diabet\w*|diabeto|insuline|orthopedi\w*|orthopedique|platre\w*)\b"
    ),
    PREGNANCY: _PREGNANCY,
    OPERATIONS: re.compile(
        r"\b(?:operation\w*|opere\w*|operer|chirurgi\w*|chirurgien\w*|intervention\w*|"
        r"bloc operatoire|anesthesi\w*|ablation|greffe|pose d une prothese|prothese de \w+|"
        r"cataracte|hernie|appendicite|vesicule|amygdales|dents de sagesse|arthroscopie|menisque|"
        r"ligaments croises)\b"
    ),
    BERTRIX: re.compile(r"\bbertrix\b"),
    # a consultation in a speciality that is not an essential follow-up (F5, F6)
    CONSULTATION: re.compile(
        r"\b(?:dermato\w*|cardio\w*|ophtalmo\w*|orl|oto rhino\w*|neuro\w*|pneumo\w*|uro\w*|"
        r"gastro\w*|rhumato\w*|endocrino\w*|nephro\w*|geriatr\w*|pediatr\w*|allergo\w*|"
        r"hemato\w*|stomato\w*|proctolog\w*|medecine interne)\b"
    ),
}


# "Je l'ai entendu à la radio" is about the news, not an X-ray ("radio" is normalised to
# "radiographie").
_HEARD_ON_THE_RADIO = re.compile(
    r"(?:entendu|dit|annonce|parle|ecoute|dire|disent|dis)\w* (?:\w+ ){0,3}(?:a|sur) la radiographie"
)


def detect_topics(text: str) -> set[str]:
    """The topic intents whose words appear in `text`.

    A speciality that is not an essential follow-up only counts when nothing more specific is
    named. An ultrasound is a pregnancy follow-up when the message is about a pregnancy, and a
    radiology exam otherwise."""
    norm = _HEARD_ON_THE_RADIO.sub(" ", normalize(text))
    found = {topic for topic, pattern in _TOPICS.items() if pattern.search(norm)}
    if CONSULTATION in found and found & {ESSENTIAL, PREGNANCY, OPERATIONS, BERTRIX}:
        found.discard(CONSULTATION)  # the more specific answer wins
    if PREGNANCY in found and RADIOLOGY in found:
        without_echo = re.sub(r"\b(?:echographie|echo|doppler|monitoring)\b", " ", norm)
        if not _TOPICS[RADIOLOGY].search(without_echo):
            found.discard(RADIOLOGY)
    return found
