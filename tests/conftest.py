"""Shared fixtures. Runtime-dependent fixtures live in tests/integration/conftest.py."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from devenv.topology.images import ImageSet, resolve_images
from devenv.topology.loader import load_topology, raw_default_topology
from devenv.topology.model import Topology
from tests.stub_processes import start_stub

__all__ = ["start_stub"]  # a fixture for every test directory


@pytest.fixture(scope="session")
def topology() -> Topology:
    return load_topology()


@pytest.fixture(scope="session")
def image_set() -> ImageSet:
    return resolve_images(None, {})


@pytest.fixture
def raw_topology() -> dict[str, Any]:
    """A fresh, mutable copy of the shipped topology."""
    return copy.deepcopy(raw_default_topology())


@pytest.fixture
def write_topology(tmp_path: Path) -> Callable[[dict[str, Any]], Path]:
    def write(data: dict[str, Any]) -> Path:
        path = tmp_path / "topology.yaml"
        path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
        return path

    return write
