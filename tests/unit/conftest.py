"""Unit tests are hermetic: a developer's or CI's DEVENV_* settings do not leak in."""

from __future__ import annotations

import os

import pytest


@pytest.fixture(autouse=True)
def _no_devenv_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("DEVENV_"):
            monkeypatch.delenv(name)
