"""Interface strings (everything that is not an answer of the content file), through gettext.

Catalogs: locales/<lang>/LC_MESSAGES/messages.po, committed; the build compiles them to .mo
(`make install`). Message ids are English; the French catalog holds what patients read. If a
.mo file is missing (a checkout that was not built), the .po file is read directly, so that a
patient never sees an English id.
"""

from __future__ import annotations

import logging
from functools import lru_cache

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

from bot.settings import get_settings

logger = logging.getLogger(__name__)
DOMAIN = "messages"


@lru_cache(maxsize=8)
def translations(language: str | None = None) -> NullTranslations:
    settings = get_settings()
    language = language or settings.language
    directory = settings.content_dir / language / "LC_MESSAGES"
    mo_path = directory / f"{DOMAIN}.mo"
    po_path = directory / f"{DOMAIN}.po"
    if mo_path.exists() and (
        not po_path.exists() or mo_path.stat().st_mtime >= po_path.stat().st_mtime
    ):
        with mo_path.open("rb") as f:
            return Translations(f, domain=DOMAIN)
    if po_path.exists():
        import io

        with po_path.open("rb") as f:
            catalog = read_po(f, locale=language, domain=DOMAIN)
        buffer = io.BytesIO()
        write_mo(buffer, catalog)
        buffer.seek(0)
        logger.warning("%s is not compiled (make install does it); reading the .po file", po_path)
        return Translations(buffer, domain=DOMAIN)
    logger.error("no catalog for language %r under %s", language, directory)
    return NullTranslations()


def _(message: str, language: str | None = None) -> str:
    """The interface string `message` (an English id) in the assistant's language."""
    return translations(language).gettext(message)
