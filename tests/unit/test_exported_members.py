"""The public surface is small and deliberate."""

from __future__ import annotations

import devenv


def test_public_names() -> None:
    assert sorted(devenv.__all__) == sorted(
        [
            "CheckFailed", "CommandFailed", "ComponentSpec", "ConfigError", "DevenvError",
            "ImageOverrideError", "ManifestError", "Problem", "ToolError", "ToolMissing",
            "Topology", "TopologyError", "__version__", "load_topology",
        ]
    )  # fmt: skip
    for name in devenv.__all__:
        assert hasattr(devenv, name), name
