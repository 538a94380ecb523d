"""Configuration, read once from the environment (and `.env`, never overriding it).

Every other module asks `get_settings()`; nothing else reads `os.environ` for
configuration. `.env.example` documents each variable.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

from dotenv import dotenv_values, load_dotenv

ROOT = Path(__file__).resolve().parent.parent


def _shared_dir() -> Path:
    """SHARED_DIR from the environment, else from `.env` (the environment wins, as for every
    setting), else the `shared` folder next to the project. Read here at import, not in
    `get_settings()`: the bench and the tests need it as a path before any setting is built."""
    value = os.environ.get("SHARED_DIR") or dotenv_values(ROOT / ".env").get("SHARED_DIR") or ""
    return Path(value.strip()) if value.strip() else ROOT.parent / "shared"


# The workplace's shared folder: the communiqué (source/), the design, the evaluation's scorer
# and development question sets (eval/score.py, eval/*.yml). Not part of the project.
SHARED_DIR = _shared_dir()
# The network's local time: appointments, the supervisor's days, the audit trail as shown.
LOCAL_TZ = ZoneInfo("Europe/Brussels")


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


def default_workers() -> int:
    """Rasa worker processes when RASA_WORKERS is empty: one per core, two at most (a third
    costs about 400 MiB more and no throughput on the machines this runs on)."""
    return max(1, min(2, os.cpu_count() or 1))


IN_MEMORY_LOCK_STORE = "memory"  # LOCK_STORE_URL for Rasa's in-memory lock store


def workers_lock_store_error(workers: int, lock_store_url: str) -> str | None:
    """Why `workers` Rasa processes cannot share this lock store, or None when they can
    (checked by `bot run` before it starts anything, and by the lock store itself)."""
    if workers > 1 and lock_store_url.strip() == IN_MEMORY_LOCK_STORE:
        return (
            f"{workers} Rasa workers need a shared lock store: LOCK_STORE_URL=memory is for one "
            "Rasa process (leave it empty for the lock file, or use Redis)"
        )
    return None


@dataclass(frozen=True)
class Settings:
    root: Path
    language: str
    content_dir: Path
    database_url: str
    tracker_database_url: str
    web_host: str
    web_port: int
    rasa_url: str
    rasa_public_url: str
    secret_key: str
    phone_hash_key: bytes
    twilio_auth_token: str
    sms_webhook_url: str
    socketio_allowed_origins: tuple[str, ...]
    rasa_token: str
    lock_store_url: str = ""
    rasa_workers: int = 1
    var_dir: Path = ROOT / "var"

    @property
    def content_file(self) -> Path:
        return self.content_dir / self.language / "answers.yml"


def _secret(name: str, var_dir: Path) -> str:
    """A secret from the environment, else one generated once and kept in var/ (0600), so that
    a fresh install works without a .env and keeps the same key across restarts."""
    value = os.environ.get(name, "").strip()
    if value:
        return value
    path = var_dir / f"{name.lower()}.key"
    try:
        return path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        var_dir.mkdir(parents=True, exist_ok=True)
        value = secrets.token_hex(32)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as f:
            f.write(value)
        return value


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Load `.env` once (existing environment variables win) and build the settings."""
    load_dotenv(ROOT / ".env", override=False)
    var_dir = Path(_env("VAR_DIR", str(ROOT / "var")))
    return Settings(
        root=ROOT,
        language=_env("BOT_LANGUAGE", "fr"),
        content_dir=Path(_env("CONTENT_DIR", str(ROOT / "locales"))),
        database_url=_env("DATABASE_URL", f"sqlite:///{var_dir / 'crisis.db'}"),
        tracker_database_url=_env("TRACKER_DATABASE_URL", f"sqlite:///{var_dir / 'tracker.db'}"),
        web_host=_env("WEB_HOST", "0.0.0.0"),
        web_port=_env_int("WEB_PORT", 8080),
        rasa_url=_env("RASA_URL", "http://127.0.0.1:5005"),
        rasa_public_url=_env("RASA_PUBLIC_URL", "http://localhost:5005"),
        secret_key=_secret("SECRET_KEY", var_dir),
        phone_hash_key=_secret("PHONE_HASH_KEY", var_dir).encode(),
        twilio_auth_token=_env("TWILIO_AUTH_TOKEN", ""),
        sms_webhook_url=_env("SMS_WEBHOOK_URL", ""),
        socketio_allowed_origins=tuple(
            o.strip()
            for o in _env(
                "SOCKETIO_ALLOWED_ORIGINS", "http://localhost:8080,http://127.0.0.1:8080"
            ).split(",")
            if o.strip()
        ),
        rasa_token=_secret("RASA_TOKEN", var_dir),
        lock_store_url=_env("LOCK_STORE_URL", ""),
        rasa_workers=max(_env_int("RASA_WORKERS", default_workers()), 1),
        var_dir=var_dir,
    )
