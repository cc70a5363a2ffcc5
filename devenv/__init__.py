"""finops-devenv: the FinOps platform on a laptop."""

from __future__ import annotations

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
from devenv._loader import load_topology
from devenv._topology import ComponentSpec, Topology
from devenv._version import __version__

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
