"""The lock store: Rasa handles one message of a conversation at a time, across its processes.

Configured in endpoints.yml as `lock_store: type: bot.stores.lock_store.SettingsLockStore`; what it
is comes from the settings (`.env`), not from YAML, through `LOCK_STORE_URL`:

- empty (the default): `FileLockStore`, for one machine, one or several Rasa processes
  (`RASA_WORKERS`). A conversation maps to one byte of a lock file (var/rasa-conversations.lock);
  a process holds that byte with a POSIX record lock (`fcntl`) while it handles the message,
  and its coroutines queue on an asyncio lock per byte. Two system calls a message, no server;
  the kernel releases the locks of a process that dies.
- `redis://host:port/db`: Rasa's Redis lock store, for Rasa processes on several machines.
- `memory`: Rasa's in-memory lock store (one Rasa process only).

A lock is waited for at most `lock_lifetime` seconds (Rasa's, 60 s by default); then Rasa's
`LockError` is raised, as with Rasa's own stores.
"""

from __future__ import annotations

import asyncio
import errno
import fcntl
import hashlib
import os
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from rasa.core.lock import TicketLock
from rasa.core.lock_store import (
    LOCK_LIFETIME,
    InMemoryLockStore,
    LockError,
    LockStore,
    RedisLockStore,
)
from rasa.utils.endpoints import EndpointConfig

from bot.settings import IN_MEMORY_LOCK_STORE, get_settings, workers_lock_store_error

DEFAULT_SLOTS = 4096
LOCK_FILE_NAME = "rasa-conversations.lock"
# waiting for a lock held by another process: first retry after 2 ms, then up to every 50 ms
_FIRST_WAIT, _MAX_WAIT = 0.002, 0.05


def redis_options(url: str) -> dict[str, Any]:
    """RedisLockStore's arguments from `redis://[user:password@]host[:port][/db]`."""
    parsed = urlparse(url)
    if parsed.scheme not in ("redis", "rediss") or not parsed.hostname:
        raise ValueError(f"LOCK_STORE_URL must look like redis://host:6379/1, got {url!r}")
    path = parsed.path.strip("/")
    if path and not path.isdigit():
        raise ValueError(f"LOCK_STORE_URL: the database must be a number, got {path!r}")
    return {
        "host": parsed.hostname,
        "port": parsed.port or 6379,
        "db": int(path or 1),
        "username": unquote(parsed.username) if parsed.username else None,
        "password": unquote(parsed.password) if parsed.password else None,
        "use_ssl": parsed.scheme == "rediss",
        "key_prefix": "vivalia",
    }


def requested_workers() -> int:
    """The number of Sanic workers Rasa was asked for (SANIC_WORKERS, set by `bot run`)."""
    try:
        return max(int(os.environ.get("SANIC_WORKERS", "1")), 1)
    except ValueError:
        return 1


class FileLockStore(LockStore):
    """One machine, any number of Rasa processes: POSIX record locks on a shared file."""

    def __init__(self, path: Path, slots: int = DEFAULT_SLOTS) -> None:
        if slots < 1:
            raise ValueError("a lock file needs at least one slot")
        self.path = Path(path)
        self.slots = slots
        self._fd: int | None = None  # opened on first use, in the process that uses it
        self._pid = 0
        self._local: dict[int, asyncio.Lock] = {}

    def slot(self, conversation_id: str) -> int:
        """The byte of the lock file for this conversation (the same in every process)."""
        digest = hashlib.blake2b(conversation_id.encode("utf-8"), digest_size=8).digest()
        return int.from_bytes(digest, "big") % self.slots

    def _file(self) -> int:
        if self._fd is None or self._pid != os.getpid():
            # After a fork the locks belong to the parent: every process opens its own.
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
            self._pid = os.getpid()
            self._local = {}
        return self._fd

    def _try_lock(self, fd: int, slot: int) -> bool:
        try:
            fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB, 1, slot, os.SEEK_SET)
        except OSError as exc:
            if exc.errno in (errno.EACCES, errno.EAGAIN):
                return False
            raise
        return True

    @asynccontextmanager
    async def lock(
        self,
        conversation_id: str,
        lock_lifetime: float = LOCK_LIFETIME,
        wait_time_in_seconds: float = 1,
    ) -> AsyncIterator[TicketLock]:
        """Held while one message of `conversation_id` is handled (see the module doc)."""
        fd = self._file()
        slot = self.slot(conversation_id)
        deadline = time.monotonic() + lock_lifetime
        local = self._local.get(slot)
        if local is None:
            local = self._local[slot] = asyncio.Lock()
        try:
            # this process's coroutines, first come first served
            await asyncio.wait_for(local.acquire(), timeout=max(lock_lifetime, 0.001))
        except asyncio.TimeoutError as exc:
            raise LockError(
                f"Could not acquire lock for conversation_id '{conversation_id}'."
            ) from exc
        try:
            wait = _FIRST_WAIT
            while not self._try_lock(fd, slot):  # another process holds it
                if time.monotonic() >= deadline:
                    raise LockError(
                        f"Could not acquire lock for conversation_id '{conversation_id}'."
                    )
                await asyncio.sleep(wait)
                wait = min(wait * 2, _MAX_WAIT)
            try:
                yield TicketLock(conversation_id)
            finally:
                fcntl.lockf(fd, fcntl.LOCK_UN, 1, slot, os.SEEK_SET)
        finally:
            local.release()

    # Rasa's ticket interface: nothing is stored, the kernel holds the locks.
    def get_lock(self, conversation_id: str) -> TicketLock | None:
        return None

    def delete_lock(self, conversation_id: str) -> None:
        return None

    def save_lock(self, lock: TicketLock) -> None:
        return None


class SettingsLockStore(LockStore):
    """The lock store `LOCK_STORE_URL` names (see the module docstring)."""

    def __init__(self, endpoint_config: EndpointConfig | None = None) -> None:
        settings = get_settings()
        url = settings.lock_store_url.strip()
        if not url:
            self.inner: LockStore = FileLockStore(settings.var_dir / LOCK_FILE_NAME)
        elif url == IN_MEMORY_LOCK_STORE:
            error = workers_lock_store_error(requested_workers(), url)
            if error:
                raise ValueError(error)
            self.inner = InMemoryLockStore()
        else:
            self.inner = RedisLockStore(**redis_options(url))

    def lock(
        self,
        conversation_id: str,
        lock_lifetime: float = LOCK_LIFETIME,
        wait_time_in_seconds: float = 1,
    ) -> Any:
        return self.inner.lock(conversation_id, lock_lifetime, wait_time_in_seconds)

    def get_lock(self, conversation_id: str) -> TicketLock | None:
        return self.inner.get_lock(conversation_id)

    def delete_lock(self, conversation_id: str) -> None:
        self.inner.delete_lock(conversation_id)

    def save_lock(self, lock: TicketLock) -> None:
        self.inner.save_lock(lock)
