"""The PostgreSQL and Redis servers the tests use (they run on every machine of this project,
CI included): a test that needs one fails with a clear message when it is not there, never
skips."""

from __future__ import annotations

from typing import Any

import pytest

PG_HOST, PG_PORT, PG_DB, PG_USER = "127.0.0.1", 5432, "test", "postgres"
REDIS_URL = "redis://127.0.0.1:6379"


def postgres_admin() -> Any:
    """An autocommit psycopg2 connection to the test database, or the test fails."""
    import psycopg2

    try:
        conn = psycopg2.connect(
            host=PG_HOST, port=PG_PORT, user=PG_USER, dbname=PG_DB, connect_timeout=3
        )
    except psycopg2.OperationalError as exc:
        pytest.fail(
            f"PostgreSQL must run at {PG_HOST}:{PG_PORT} (database {PG_DB!r}, user {PG_USER!r}, "
            f"trust auth) for this test: {exc}",
            pytrace=False,
        )
    conn.autocommit = True
    return conn


def redis_client(db: int) -> Any:
    """A Redis client on database `db` that answered a PING, or the test fails."""
    import redis

    client = redis.Redis.from_url(f"{REDIS_URL}/{db}", socket_connect_timeout=3)
    try:
        client.ping()
    except redis.RedisError as exc:
        pytest.fail(f"Redis must run at {REDIS_URL} for this test: {exc}", pytrace=False)
    return client
