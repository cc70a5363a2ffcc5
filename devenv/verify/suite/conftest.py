"""Fixtures of the live suite; `devenv test-integration` sets DEVENV_IT_*."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from devenv.topology.images import ImageSet, resolve_images
from devenv.topology.loader import load_topology
from devenv.verify.suite._live import Live


@pytest.fixture(scope="session")
def live() -> Live:
    context = os.environ.get("DEVENV_IT_CONTEXT")
    if not context:
        pytest.fail("DEVENV_IT_CONTEXT is not set: run this suite with `devenv test-integration`")
    topology_path = os.environ.get("DEVENV_IT_TOPOLOGY")
    return Live(load_topology(Path(topology_path) if topology_path else None), context)


@pytest.fixture(scope="session")
def profile() -> str:
    return os.environ.get("DEVENV_IT_PROFILE", "dev")


@pytest.fixture(scope="session")
def images() -> ImageSet:
    return resolve_images(None, os.environ)
