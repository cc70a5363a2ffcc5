"""finops-devenv: the FinOps platform on a laptop."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from devenv._errors import (
    CheckFailed,
    CommandFailed,
    ConfigError,
    DevenvError,
    ImageOverrideError,
    Problem,
    ToolError,
    ToolMissing,
    TopologyError,
)
from devenv._version import __version__

if TYPE_CHECKING:
    from devenv._loader import load_topology
    from devenv._topology import ComponentSpec, Topology

# The topology model pulls in pydantic: load it on first use, so that
# `devenv --help` and commands that do not need it start fast (PEP 562).
_LAZY = {
    "load_topology": "devenv._loader",
    "Topology": "devenv._topology",
    "ComponentSpec": "devenv._topology",
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
    "Problem",
    "ToolError",
    "ToolMissing",
    "Topology",
    "TopologyError",
    "__version__",
    "load_topology",
]
