"""GSM-7, the alphabet of a plain SMS: what fits in it, what a text costs in segments.

Pure: no Rasa, no I/O. Twilio counts a message as GSM-7 (160 characters, 153 per segment when
split; the extension table's characters count twice) when every character is GSM-7, and as
UCS-2 (70, 67 per segment) otherwise.
"""

from __future__ import annotations

import math
import re

from bot.text import strip_accents

# GSM 03.38 basic character set, and the extension table (each extension char costs 2).
GSM7_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = set("^{}\\[~]|€\f")

# Closest GSM-7 equivalents for what French text uses outside the basic set.
GSM7_REPLACEMENTS = {
    "ê": "e",
    "ë": "e",
    "â": "a",
    "á": "a",
    "î": "i",
    "ï": "i",
    "í": "i",
    "ô": "o",
    "ó": "o",
    "û": "u",
    "ú": "u",
    "ç": "c",
    "œ": "oe",
    "æ": "ae",
    "ÿ": "y",
    "Ê": "E",
    "Ë": "E",
    "È": "E",
    "Â": "A",
    "À": "A",
    "Á": "A",
    "Î": "I",
    "Ï": "I",
    "Ô": "O",
    "Û": "U",
    "Ù": "U",
    "Œ": "OE",
    "Ÿ": "Y",
    "’": "'",
    "‘": "'",
    "‚": "'",
    "“": '"',
    "”": '"',
    "„": '"',
    "«": '"',
    "»": '"',
    "–": "-",
    "—": "-",
    "‑": "-",
    "…": "...",
    "•": "-",
    "·": "-",
    "\u00a0": " ",
    "\u202f": " ",
    "\u2009": " ",
    "\t": " ",
}


def to_gsm7(text: str) -> str:
    """Replace every character outside GSM-7 by its closest GSM-7 equivalent."""
    # French guillemets carry inner spaces: « propre » -> "propre"
    text = re.sub(r"«[\s\u00a0\u202f]*", '"', text)
    text = re.sub(r"[\s\u00a0\u202f]*»", '"', text)
    out = []
    for ch in text:
        if ch in GSM7_BASIC or ch in GSM7_EXTENSION:
            out.append(ch)
        elif ch in GSM7_REPLACEMENTS:
            out.append(GSM7_REPLACEMENTS[ch])
        else:
            # Strip any other accent; drop what has no Latin equivalent.
            base = strip_accents(ch)
            out.append("".join(c for c in base if c in GSM7_BASIC) or "?")
    return "".join(out)


def is_gsm7(text: str) -> bool:
    return all(ch in GSM7_BASIC or ch in GSM7_EXTENSION for ch in text)


def sms_segments(text: str) -> int:
    """Number of SMS segments a text costs (GSM-7: 160, or 153 each when split; UCS-2: 70/67)."""
    if not text:
        return 1
    if is_gsm7(text):
        units = sum(2 if ch in GSM7_EXTENSION else 1 for ch in text)
        return 1 if units <= 160 else math.ceil(units / 153)
    units = sum(2 if ord(ch) > 0xFFFF else 1 for ch in text)
    return 1 if units <= 70 else math.ceil(units / 67)
