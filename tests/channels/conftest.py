"""The consultations' `database_url` fixture (SQLite and PostgreSQL at 127.0.0.1:5432, which
fails with a clear message when it does not answer), for the SMS channel's pending options,
which live in that database."""

from tests.consultations.conftest import database_url as database_url
