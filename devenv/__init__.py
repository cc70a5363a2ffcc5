"""finops-devenv: the FinOps platform on a laptop."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from devenv.errors import (
    CheckFailed,
    CommandFailed,
    ConfigError,
    DevenvError,
    ImageOverrideError,
    ManifestError,
    Problem,
    ToolError,
    ToolMissing,
    TopologyError,
)

__version__ = "0.1.0"

if TYPE_CHECKING:
    from devenv.topology.loader import load_topology
    from devenv.topology.model import ComponentSpec, Topology

# The topology model pulls in pydantic: load it on first use, so that
# `devenv --help` and commands that do not need it start fast (PEP 562).
_LAZY = {
    "load_topology": "devenv.topology.loader",
    "Topology": "devenv.topology.model",
    "ComponentSpec": "devenv.topology.model",
}


def __getattr__(name: str) -> object:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'devenv' has no attribute {name!r}")


__all__ = [
    "CheckFailed",
    "CommandFailed",
    "ComponentSpec",
    "ConfigError",
    "DevenvError",
    "ImageOverrideError",
    "ManifestError",
    "Problem",
    "ToolError",
    "ToolMissing",
    "Topology",
    "TopologyError",
    "__version__",
    "load_topology",
]
