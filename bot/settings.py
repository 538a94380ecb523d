"""Configuration, read once from the environment (and `.env`, never overriding it).

Every other module asks `get_settings()`; nothing else reads `os.environ` for
configuration. `.env.example` documents each variable.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from dotenv import load_dotenv

ROOT = Path(__file__).resolve().parent.parent


def _env(name: str, default: str) -> str:
    value = os.environ.get(name, "").strip()
    return value or default


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ValueError(f"{name} must be a whole number, got {raw!r}") from exc


@dataclass(frozen=True)
class Settings:
    root: Path
    language: str
    content_dir: Path
    database_url: str
    nlg_host: str
    nlg_port: int
    web_host: str
    web_port: int
    rasa_url: str
    secret_key: str
    extra: dict = field(default_factory=dict)

    @property
    def content_file(self) -> Path:
        return self.content_dir / self.language / "answers.yml"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Load `.env` once (existing environment variables win) and build the settings."""
    load_dotenv(ROOT / ".env", override=False)
    return Settings(
        root=ROOT,
        language=_env("BOT_LANGUAGE", "fr"),
        content_dir=Path(_env("CONTENT_DIR", str(ROOT / "locales"))),
        database_url=_env("DATABASE_URL", f"sqlite:///{ROOT / 'var' / 'crisis.db'}"),
        nlg_host=_env("NLG_HOST", "127.0.0.1"),
        nlg_port=_env_int("NLG_PORT", 5056),
        web_host=_env("WEB_HOST", "0.0.0.0"),
        web_port=_env_int("WEB_PORT", 8080),
        rasa_url=_env("RASA_URL", "http://127.0.0.1:5005"),
        secret_key=_env("SECRET_KEY", ""),
    )
