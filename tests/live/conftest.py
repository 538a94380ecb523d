"""Every test of this folder talks to the whole assistant, started once per session
(`live_stack` in tests/conftest.py): all of them carry the `live` marker."""

from __future__ import annotations

import pytest


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.path.is_relative_to(__file__.rsplit("/", 1)[0]):
            item.add_marker(pytest.mark.live)
