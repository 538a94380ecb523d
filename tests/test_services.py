"""bot.services: what `python -m bot run` starts, and with which environment."""

from __future__ import annotations

import pytest

from bot.services import SINGLE_THREADED_MATH, _parser, build_services


def rasa_env(argv: list[str]) -> dict[str, str]:
    services = build_services(_parser().parse_args(argv))
    return next(s for s in services if s.name == "rasa").env


def test_rasa_runs_its_math_libraries_on_one_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in SINGLE_THREADED_MATH:
        monkeypatch.delenv(name, raising=False)
    env = rasa_env(["--no-web"])
    assert {name: env[name] for name in SINGLE_THREADED_MATH} == dict.fromkeys(
        SINGLE_THREADED_MATH, "1"
    )


def test_a_thread_count_set_by_the_operator_is_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "4")
    assert rasa_env(["--no-web"])["OPENBLAS_NUM_THREADS"] == "4"
