"""Before anything: the programs `up` runs are there (kind and kubectl installed
when missing or too old, unless turned off) and the Docker engine answers.

It runs before the images are built and the manifests rendered, so it is not a
phase of the engine: `up` reports it as the first line all the same.
"""

from __future__ import annotations

from collections.abc import Callable

from devenv.apply.engine import UpOptions
from devenv.tools.docker import Docker
from devenv.tools.install import ensure_tool
from devenv.tools.process import require_program

__all__ = ["preflight"]


def preflight(options: UpOptions, report: Callable[[str], None] = lambda _: None) -> str:
    # An existing cluster needs no kind.
    for tool in ("kubectl", *(() if options.context else ("kind",))):
        ensure_tool(tool, allow_install=options.install_tools, report=report)
    require_program("docker")  # the stub images are built on every path
    Docker().server_version()
    return "tools and engine answer"
