"""Before anything: the programs `up` runs are there and the engine answers.

It runs before the images are built and the manifests rendered, so it is not a
phase of the engine: `up` reports it as the first line all the same.
"""

from __future__ import annotations

from devenv.apply.engine import UpOptions
from devenv.tools.docker import Docker
from devenv.tools.process import require_program

__all__ = ["preflight"]


def preflight(options: UpOptions) -> str:
    # An existing cluster needs no kind; the stub images are built either way.
    for tool in ("kubectl", "docker", *(() if options.context else ("kind",))):
        require_program(tool)
    Docker().server_version()
    return "tools and engine answer"
