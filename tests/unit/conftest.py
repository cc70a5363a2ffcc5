"""Unit tests are hermetic: a developer's or CI's DEVENV_* settings do not leak
in, and nothing reads or writes their real state (~/.local/state/finops-devenv:
the credentials and certificate their `devenv up` uses), nor their kubeconfig
(devenv would read a running cluster's API server straight from it)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from devenv.tools.kube_api import KubeApi


@pytest.fixture(autouse=True)
def _no_devenv_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in list(os.environ):
        if name.startswith("DEVENV_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    # Docker reads through the CLI, where the tests fake it (not the engine's socket).
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path / 'no-docker.sock'}")
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "no-kubeconfig"))
    KubeApi.for_context.cache_clear()


@pytest.fixture
def programs_in_usr_bin(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every program resolves to /usr/bin/NAME, so faked command lines are fixed."""
    monkeypatch.setattr("devenv.tools.process.find_program", lambda name: f"/usr/bin/{name}")
