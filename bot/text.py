"""Text helpers shared by the NLU, the safety layer and the channels. Pure functions."""

from __future__ import annotations

import functools
import re
import unicodedata

_APOSTROPHES = str.maketrans({"’": "'", "‘": "'", "`": "'", "´": "'", "ʼ": "'"})
_REPEATS = re.compile(r"(\w)\1{2,}")
_NON_WORD = re.compile(r"[^a-z0-9+]+")

# SMS spellings and abbreviations patients use, mapped to the plain word (after accents are
# stripped and the text is lower-cased). Whole words only.
SMS_WORDS = {
    "kel": "quel",
    "kelle": "quelle",
    "kels": "quels",
    "ke": "que",
    "koi": "quoi",
    "pr": "pour",
    "ds": "dans",
    "ns": "nous",
    "vs": "vous",
    "tt": "tout",
    "tjs": "toujours",
    "tjrs": "toujours",
    "bcp": "beaucoup",
    "qd": "quand",
    "kan": "quand",
    "pq": "pourquoi",
    "pk": "pourquoi",
    "pkoi": "pourquoi",
    "rdv": "rendez vous",
    "rdz": "rendez vous",
    "rv": "rendez vous",
    "svp": "s il vous plait",
    "stp": "s il te plait",
    "slt": "salut",
    "bjr": "bonjour",
    "bsr": "bonsoir",
    "cc": "coucou",
    "mrc": "merci",
    "mci": "merci",
    "jsuis": "je suis",
    "chui": "je suis",
    "chuis": "je suis",
    "jai": "j ai",
    "g": "j ai",
    "c": "c est",
    "cest": "c est",
    "ya": "il y a",
    "dr": "docteur",
    "doc": "docteur",
    "toubib": "medecin",
    "med": "medecin",
    "mdc": "medecin",
    "medoc": "medicament",
    "medocs": "medicaments",
    "urg": "urgences",
    "urgence": "urgences",
    "we": "week end",
    "weekend": "week end",
    "ajd": "aujourd hui",
    "auj": "aujourd hui",
    "mnt": "maintenant",
    "mtn": "maintenant",
    "num": "numero",
    "nr": "numero",
    "info": "information",
    "infos": "informations",
    "hosto": "hopital",
    "hopitale": "hopital",
    "consult": "consultation",
    "chimio": "chimiotherapie",
    "ope": "operation",
    "opes": "operations",
    "op": "operation",
    "onco": "oncologie",
    "diabeto": "diabetologie",
    "ortho": "orthopedie",
    "gyneco": "gynecologie",
    "ophtalmo": "ophtalmologie",
    "dermato": "dermatologie",
    "cardio": "cardiologie",
    "radio": "radiographie",
    "irm": "irm",
    "ok": "ok",
    "oki": "ok",
    "dac": "d accord",
    "dacc": "d accord",
    "ptn": "putain",
    "o": "au",
    "oci": "aussi",
    "ossi": "aussi",
    "ki": "qui",
    "kom": "comme",
    "komen": "comment",
    "cmt": "comment",
    "cb": "combien",
    "combi1": "combien",
    "bb": "bebe",
    "mr": "monsieur",
    "mme": "madame",
}


# The two ways of taking accents off, each for its own use:
# - `strip_accents`: for matching words (the NLU, the GSM-7 fallback, grouping questions): the
#   text may change length ("ﬁ" -> "fi");
# - `fold`: for finding identifiers whose spans are then masked in the original text: one
#   character per character, lower case, so that a match's span is the span in the original.


def strip_accents(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


class _FoldTable(dict):
    """str.translate table: each character to the first character of its NFD form (its base
    letter), worked out the first time the character is seen."""

    def __missing__(self, codepoint: int) -> str:
        base = unicodedata.normalize("NFD", chr(codepoint))[0]
        if codepoint < 0x10000:  # bounded: at most one entry per character of the BMP
            self[codepoint] = base
        return base


_FOLD_TABLE = _FoldTable()


def fold(text: str) -> str:
    """Lower case without accents, *one character per character* (so spans stay aligned)."""
    return text.translate(_FOLD_TABLE).lower()


@functools.lru_cache(maxsize=1024)
def normalize(text: str) -> str:
    """Lower-case, accents stripped, apostrophes and punctuation as spaces, SMS words expanded,
    letters repeated for emphasis folded ("urgenceeee" -> "urgencee"). `+` is kept for the
    multi-intent labels' sake and digits are kept.

    Remembered for the last texts: the classifier, the safety layer and the topic words each
    normalise the same message."""
    t = strip_accents(text.translate(_APOSTROPHES)).lower()
    t = t.replace("œ", "oe").replace("æ", "ae")
    t = t.replace("w-e", "we").replace("w.e", "we")
    t = _REPEATS.sub(r"\1\1", t)
    t = _NON_WORD.sub(" ", t)
    words = []
    for word in t.split():
        words.append(SMS_WORDS.get(word, word))
    return " ".join(words)


_LEADING_COMMAND = re.compile(r"^[\s/]+")


def as_plain_text(text: object) -> str:
    """A public channel's message read as ordinary text: a leading '/' would make Rasa skip NLU
    and take the rest as an intent name, so leading slashes (and the spaces around them) are
    removed. Anything that is not a string (a client's list, number or null) is no text."""
    if not isinstance(text, str):
        return ""
    return _LEADING_COMMAND.sub("", text).strip()
