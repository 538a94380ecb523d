"""The SMS channel's pending options, kept in the database and shared by every Rasa process.

Run on SQLite and on PostgreSQL (127.0.0.1:5432/test, a throwaway schema; failing with the
reason when the server is unreachable), with the consultations' `database_url` fixture. Two
processes are two store instances on two engines (`dispose_engines()` between them: new engine,
new connections, nothing shared in memory), a real second Python process, or two SMS channels
served by two Sanic apps, as two workers would be.
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from sanic import Sanic
from sqlalchemy import insert, select

from bot import db
from bot.channels.sms import options as sms_options
from bot.channels.sms.input import SmsInput
from bot.channels.sms.options import DatabaseOptionStore, options_table
from bot.db import as_utc, dispose_engines
from bot.privacy.hashing import hash_phone
from bot.settings import ROOT, get_settings
from tests.channels.sms.test_input import (
    MENU,
    PHONE,
    TOKEN,
    FakeRasa,
    Server,
    messages,
    say,
    say_rendered,
    serving,
    twilio_form,
)

ONE = [{"title": "Un", "payload": "/un"}]
TWO = [{"title": "Mes consultations", "payload": "/consultation_status"}]


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(autouse=True)
def settings_env(isolated_settings, monkeypatch: pytest.MonkeyPatch) -> None:
    """The isolated settings of tests/conftest.py, with the SMS channel's own variables."""
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", TOKEN)
    monkeypatch.setenv("SMS_WEBHOOK_URL", "")
    get_settings.cache_clear()


def rows(url: str) -> list[tuple[str, str]]:
    with sms_options.get_engine(url).connect() as conn:
        return [(r.key_hash, r.options) for r in conn.execute(select(options_table))]


# -- two processes ----------------------------------------------------------------------------


def test_two_stores_on_two_engines_see_each_others_options(database_url: str):
    clock = FakeClock()
    first = DatabaseOptionStore(database_url=database_url, clock=clock)
    first.put("a" * 64, ONE)

    dispose_engines()  # another process: its own engine and connections
    second = DatabaseOptionStore(database_url=database_url, clock=clock)
    assert second.get("a" * 64) == ONE

    second.put("a" * 64, TWO)
    dispose_engines()
    assert first.get("a" * 64) == TWO
    assert len(first) == 1


def test_options_written_by_another_python_process_are_read(database_url: str):
    script = (
        "import sys\n"
        "from bot.channels.sms.options import DatabaseOptionStore\n"
        "DatabaseOptionStore(database_url=sys.argv[1]).put(sys.argv[2], "
        "[{'title': 'Les urgences', 'payload': '/emergency_info'}])\n"
    )
    key = "b" * 64
    subprocess.run(
        [sys.executable, "-c", script, database_url, key],
        cwd=ROOT,
        check=True,
        timeout=60,
    )

    assert DatabaseOptionStore(database_url=database_url).get(key) == [
        {"title": "Les urgences", "payload": "/emergency_info"}
    ]


# -- semantics --------------------------------------------------------------------------------


def test_entries_expire_and_are_deleted_when_read(database_url: str):
    clock = FakeClock()
    store = DatabaseOptionStore(ttl_seconds=3600, database_url=database_url, clock=clock)
    store.put("a", ONE)

    clock.now += 3599
    assert store.get("a") == ONE
    clock.now += 1
    assert store.get("a") is None
    assert rows(database_url) == []


def test_expired_entries_are_ignored_by_every_process(database_url: str):
    clock = FakeClock()
    DatabaseOptionStore(ttl_seconds=60, database_url=database_url, clock=clock).put("a", ONE)
    dispose_engines()
    other = DatabaseOptionStore(ttl_seconds=60, database_url=database_url, clock=clock)

    clock.now += 61
    assert other.get("a") is None
    assert len(other) == 0


def test_writes_sweep_expired_entries(database_url: str):
    clock = FakeClock()
    store = DatabaseOptionStore(
        ttl_seconds=3600, database_url=database_url, clock=clock, sweep_every_seconds=60
    )
    store.put("old", ONE)
    clock.now += 1800
    store.put("recent", ONE)

    clock.now += 1801  # "old" expired, "recent" not
    store.put("new", TWO)

    assert sorted(key for key, _ in rows(database_url)) == ["new", "recent"]


def test_a_write_replaces_the_conversations_options(database_url: str):
    clock = FakeClock()
    store = DatabaseOptionStore(ttl_seconds=60, database_url=database_url, clock=clock)
    store.put("a", ONE)
    clock.now += 59
    store.put("a", TWO)

    clock.now += 30  # past the first write's expiry, not the second's
    assert store.get("a") == TWO
    assert len(rows(database_url)) == 1


def test_conversations_are_separate_and_discard_forgets_one(database_url: str):
    store = DatabaseOptionStore(database_url=database_url)
    store.put("a", ONE)
    store.put("b", TWO)

    store.discard("a")

    assert store.get("a") is None
    assert store.get("b") == TWO
    assert store.get("c") is None


def test_unreadable_row_is_ignored(database_url: str, caplog):
    store = DatabaseOptionStore(database_url=database_url, clock=FakeClock())
    store.put("a", ONE)
    with sms_options.get_engine(database_url).begin() as conn:
        conn.execute(options_table.update().values(options='{"not": "a list"}'))
        conn.execute(
            insert(options_table).values(key_hash="b", options="not json", expires_at=as_utc(2e9))
        )

    caplog.set_level(logging.WARNING)
    assert store.get("a") is None
    assert store.get("b") is None
    assert "unreadable" in caplog.text


def test_nothing_is_built_at_import_or_construction(tmp_path: Path):
    SmsInput.from_credentials(None)
    DatabaseOptionStore()

    assert db._engines == {}
    assert not (tmp_path / "default.db").exists()


def test_ttl_must_be_positive():
    with pytest.raises(ValueError):
        DatabaseOptionStore(ttl_seconds=0)


def test_max_entries_in_credentials_is_ignored_with_a_warning(caplog):
    caplog.set_level(logging.WARNING)
    channel = SmsInput.from_credentials({"options_max_entries": 5, "options_ttl_seconds": 120})

    assert isinstance(channel, SmsInput)
    assert isinstance(channel.options, DatabaseOptionStore)
    assert channel.options.ttl_seconds == 120
    assert "options_max_entries" in caplog.text


# -- two SMS workers --------------------------------------------------------------------------


@pytest.fixture
async def two_workers(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[tuple[Server, Server]]:
    """Two SMS channels, each in its own Sanic app, on the settings' database (as two Rasa
    workers would be: `SmsInput.from_credentials(None)`, nothing shared but the database)."""
    monkeypatch.setenv("DATABASE_URL", database_url)
    get_settings.cache_clear()
    Sanic.test_mode = True
    servers = []
    async with aiohttp.ClientSession() as session:
        apps = []
        for n in range(2):
            rasa = FakeRasa()
            channel = SmsInput.from_credentials({"reply_timeout": 5})
            assert isinstance(channel, SmsInput)
            app = Sanic(f"sms_worker_{n}_{id(rasa)}")
            app.blueprint(channel.blueprint(rasa.on_new_message), url_prefix="/webhooks/sms")
            apps.append((app, rasa, channel))
        async with serving(apps[0][0]) as base_a, serving(apps[1][0]) as base_b:
            for base, (_, rasa, channel) in zip((base_a, base_b), apps):
                servers.append(Server(base, rasa, channel, session))
            yield servers[0], servers[1]


async def test_a_digit_reaching_another_worker_selects_the_option(two_workers, database_url):
    worker_a, worker_b = two_workers

    async def menu_then_echo(message) -> None:
        if message.text == "menu":
            await say_rendered(message, MENU)
        else:
            await say(message, f"Choix : {message.text}")

    worker_a.rasa.reply = menu_then_echo
    worker_b.rasa.reply = menu_then_echo

    _, _, body = await worker_a.sms("menu")
    assert "2. Les urgences" in messages(body)[0]

    status, _, body = await worker_b.sms("2")
    assert status == 200
    assert worker_b.rasa.last.text == "/emergency_info"
    assert messages(body) == ["Choix : /emergency_info"]

    # Kept under the hash of the number, never the number itself.
    ((key, options),) = rows(database_url)
    assert key == hash_phone(PHONE)
    assert PHONE not in key and PHONE.lstrip("+") not in options
    assert json.loads(options)[0]["payload"] == "/consultation_status"

    # Another number's digit is passed on as it is, on either worker.
    await worker_a.post(twilio_form("1", sender="+32470999999"))
    assert worker_a.rasa.last.text == "1"


# -- the database failing ---------------------------------------------------------------------


class BrokenStore:
    def get(self, key: str) -> None:
        raise RuntimeError("database down")

    def put(self, key: str, options: list[dict[str, str]]) -> None:
        raise RuntimeError("database down")

    def discard(self, key: str) -> None:
        raise RuntimeError("database down")


async def test_without_the_database_the_patient_still_gets_answers(caplog):
    rasa = FakeRasa()
    rasa.reply = lambda message: say_rendered(message, MENU)
    channel = SmsInput(reply_timeout=2.0, options=BrokenStore())
    app = Sanic(f"sms_broken_store_{id(rasa)}")
    app.blueprint(channel.blueprint(rasa.on_new_message), url_prefix="/webhooks/sms")
    Sanic.test_mode = True
    caplog.set_level(logging.DEBUG)

    async with serving(app) as base, aiohttp.ClientSession() as session:
        server = Server(base, rasa, channel, session)
        status, _, body = await server.sms("menu")  # keeping the options fails
        assert status == 200
        assert "1. Mes consultations" in messages(body)[0]

        status, _, body = await server.sms("2")  # reading them fails
        assert status == 200
        assert rasa.last.text == "2"
        assert "1. Mes consultations" in messages(body)[0]

    assert "options cannot be kept" in caplog.text
    assert "pending options cannot be read" in caplog.text
    assert PHONE not in caplog.text
