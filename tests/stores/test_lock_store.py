"""bot.stores.lock_store: one message of a conversation at a time, within a Rasa process and across
the worker processes of one machine (a lock file), or through Redis."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from rasa.core.lock_store import InMemoryLockStore, LockError, RedisLockStore

from bot.services import main as supervisor_main
from bot.settings import ROOT
from bot.stores.lock_store import FileLockStore, SettingsLockStore, redis_options
from tests.backends import REDIS_URL, redis_client


def _other_than(store: FileLockStore, conversation: str) -> str:
    """A conversation id whose byte of the lock file is not `conversation`'s."""
    return next(f"bob{i}" for i in range(100) if store.slot(f"bob{i}") != store.slot(conversation))


async def _hold(store, conversation: str, seconds: float, log: list, name: str) -> None:
    async with store.lock(conversation):
        log.append(("in", name, time.monotonic()))
        await asyncio.sleep(seconds)
        log.append(("out", name, time.monotonic()))


async def test_one_message_of_a_conversation_at_a_time(tmp_path):
    store = FileLockStore(tmp_path / "locks")
    log: list = []
    await asyncio.gather(
        _hold(store, "alice", 0.1, log, "first"), _hold(store, "alice", 0.1, log, "second")
    )
    assert [(kind, name) for kind, name, _ in log] == [
        ("in", "first"),
        ("out", "first"),
        ("in", "second"),
        ("out", "second"),
    ]


async def test_other_conversations_are_not_held_up(tmp_path):
    store = FileLockStore(tmp_path / "locks")
    a, b = "alice", _other_than(store, "alice")
    log: list = []
    t0 = time.monotonic()
    await asyncio.gather(_hold(store, a, 0.2, log, "a"), _hold(store, b, 0.2, log, "b"))
    assert time.monotonic() - t0 < 0.35  # side by side, not one after the other


def test_the_slot_of_a_conversation_is_the_same_in_every_process(tmp_path):
    store = FileLockStore(tmp_path / "locks")
    code = (
        "from bot.stores.lock_store import FileLockStore; "
        f"print(FileLockStore({str(tmp_path / 'locks')!r}).slot('alice'))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert int(out.stdout) == store.slot("alice")


def _holder(path: Path, conversation: str, seconds: float) -> subprocess.Popen:
    """Another Rasa process: holds the conversation's lock for `seconds`, then exits."""
    code = textwrap.dedent(
        f"""
        import asyncio, sys
        from bot.stores.lock_store import FileLockStore

        async def main():
            async with FileLockStore({str(path)!r}).lock({conversation!r}):
                print("held", flush=True)
                await asyncio.sleep({seconds})

        asyncio.run(main())
        """
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
    return proc


async def test_another_process_holding_the_conversation_makes_this_one_wait(tmp_path):
    path = tmp_path / "locks"
    holder = _holder(path, "alice", 0.6)
    try:
        store = FileLockStore(path)
        t0 = time.monotonic()
        async with store.lock(_other_than(store, "alice")):
            assert time.monotonic() - t0 < 0.3  # another conversation: straight in
        t0 = time.monotonic()
        async with store.lock("alice"):
            waited = time.monotonic() - t0
        assert 0.3 < waited < 3
    finally:
        holder.wait(timeout=10)


async def test_a_lock_held_too_long_gives_rasas_lock_error(tmp_path):
    path = tmp_path / "locks"
    holder = _holder(path, "alice", 2.0)
    try:
        with pytest.raises(LockError):
            async with FileLockStore(path).lock("alice", lock_lifetime=0.2):
                pass
    finally:
        holder.wait(timeout=10)


async def test_the_lock_of_a_process_that_dies_is_released(tmp_path):
    path = tmp_path / "locks"
    holder = _holder(path, "alice", 60)
    holder.kill()
    holder.wait(timeout=10)
    t0 = time.monotonic()
    async with FileLockStore(path).lock("alice", lock_lifetime=5):
        assert time.monotonic() - t0 < 1


async def test_an_error_inside_releases_the_lock(tmp_path):
    store = FileLockStore(tmp_path / "locks")
    with pytest.raises(RuntimeError):
        async with store.lock("alice"):
            raise RuntimeError("the message failed")
    t0 = time.monotonic()
    async with store.lock("alice", lock_lifetime=1):
        assert time.monotonic() - t0 < 0.1


def test_settings_choose_the_store(isolated_settings, monkeypatch):
    from bot.settings import get_settings

    store = SettingsLockStore()
    assert isinstance(store.inner, FileLockStore)
    assert store.inner.path.parent == isolated_settings

    monkeypatch.setenv("LOCK_STORE_URL", "memory")
    get_settings.cache_clear()
    assert isinstance(SettingsLockStore().inner, InMemoryLockStore)
    monkeypatch.setenv("SANIC_WORKERS", "2")
    with pytest.raises(ValueError, match="one Rasa process"):
        SettingsLockStore()

    monkeypatch.setenv("LOCK_STORE_URL", "redis://127.0.0.1:6379/5")
    get_settings.cache_clear()
    assert isinstance(SettingsLockStore().inner, RedisLockStore)


def test_redis_urls():
    assert redis_options("redis://:s3cret@cache.local:6380/2") == {
        "host": "cache.local",
        "port": 6380,
        "db": 2,
        "username": None,
        "password": "s3cret",
        "use_ssl": False,
        "key_prefix": "vivalia",
    }
    assert redis_options("redis://127.0.0.1")["db"] == 1
    for bad in ("http://127.0.0.1", "redis://", "redis://host/zero"):
        with pytest.raises(ValueError, match="LOCK_STORE_URL"):
            redis_options(bad)


async def test_redis_serialises_a_conversation(isolated_settings, monkeypatch):
    from bot.settings import get_settings

    redis_client(5)
    monkeypatch.setenv("LOCK_STORE_URL", f"{REDIS_URL}/5")
    get_settings.cache_clear()
    store = SettingsLockStore()
    log: list = []
    await asyncio.gather(
        _hold(store, "r-alice", 0.05, log, "1"), _hold(store, "r-alice", 0.05, log, "2")
    )
    kinds = [kind for kind, _, _ in log]
    assert kinds == ["in", "out", "in", "out"]


def test_several_workers_with_the_in_memory_store_are_refused(
    isolated_settings, monkeypatch, capsys
):
    from bot.settings import get_settings

    monkeypatch.setenv("LOCK_STORE_URL", "memory")
    get_settings.cache_clear()
    model = isolated_settings.parent / "model.tar.gz"
    model.write_bytes(b"")
    assert supervisor_main(["--model", str(model), "--workers", "2"]) == 2
    assert "LOCK_STORE_URL=memory" in capsys.readouterr().err
