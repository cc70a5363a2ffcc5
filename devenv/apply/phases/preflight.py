"""Before anything: the programs `up` runs are there (kind and kubectl installed
when missing or too old, unless turned off) and the Docker engine answers.

It runs before the images are built and the manifests rendered, so it is not a
phase of the engine: `up` reports it as the first line all the same.
"""

from __future__ import annotations

from collections.abc import Callable

from devenv.apply.engine import UpOptions
from devenv.errors import ConfigError
from devenv.tools.docker import Docker, containerd_store
from devenv.tools.install import ensure_tool
from devenv.tools.process import require_program

__all__ = ["preflight"]


def preflight(options: UpOptions, report: Callable[[str], None] = lambda _: None) -> str:
    require_program("docker")  # the stub images are built on every path
    engine = Docker().info()  # DaemonDown, with how to start it, when none answers
    if not options.registry and not options.context and containerd_store(engine):
        raise ConfigError(
            "--no-registry: Docker uses the containerd image store here, where `kind load`"
            " is broken (kind #3795)",
            hint="drop --no-registry: `devenv up` then sends images through its local registry",
        )
    # An existing cluster needs no kind.
    for tool in ("kubectl", *(() if options.context else ("kind",))):
        ensure_tool(tool, allow_install=options.install_tools, report=report)
    return "tools and engine answer"
