"""Shared fixtures. Function-scoped, except the live assistant, which is started once per run
because it takes some seconds to load."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.live import MODEL, LiveStack, free_port


@pytest.fixture(scope="session")
def live_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveStack]:
    """Rasa (REST, Socket.IO, SMS), the action server and the web app, on free ports."""
    if not MODEL.exists():
        pytest.skip(f"no trained model at {MODEL}: run `make train` (make test does)")
    stack = LiveStack(
        workdir=tmp_path_factory.mktemp("live"),
        rasa_port=free_port(),
        actions_port=free_port(),
        web_port=free_port(),
    )
    stack.start()
    try:
        yield stack
    finally:
        stack.stop()
