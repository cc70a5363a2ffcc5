"""Deciding whether runtime-dependent tests run, skip, or fail.

On a laptop without Docker they skip with the reason. In CI (CI=true) a
missing runtime is a failure: CI must have started it.
"""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def unavailable(reason: str) -> None:
    """Skip, or fail in CI, with the same reason."""
    if in_ci():
        pytest.fail(f"CI=true but {reason}", pytrace=False)
    pytest.skip(reason)


def docker_problem() -> str | None:
    """Why Docker and compose v2 cannot be used here, or None when they can."""
    if shutil.which("docker") is None:
        return "the docker client is not installed"
    info = subprocess.run(
        ["docker", "info", "--format", "{{.ServerVersion}}"],
        capture_output=True, text=True, check=False, timeout=30,
    )  # fmt: skip
    if info.returncode != 0:
        return "no Docker engine answers (`docker info` failed): start Docker"
    compose = subprocess.run(
        ["docker", "compose", "version"], capture_output=True, text=True, check=False, timeout=30
    )
    if compose.returncode != 0:
        return "`docker compose` (v2) is not available: install the compose plugin"
    return None
