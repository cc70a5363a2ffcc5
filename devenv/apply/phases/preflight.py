"""Before anything: the programs `up` runs are there (kind and kubectl installed
when missing or too old, unless turned off) and the Docker engine answers.

It runs before the images are built and the manifests rendered, so it is not a
phase of the engine: `up` reports it as the first line all the same.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from devenv.apply.engine import UpOptions
from devenv.errors import ConfigError
from devenv.tools.docker import Docker, containerd_store
from devenv.tools.install import ensure_tool
from devenv.tools.process import require_program

__all__ = ["preflight"]


def preflight(options: UpOptions, report: Callable[[str], None] = lambda _: None) -> str:
    require_program("docker")  # the stub images are built on every path
    # An existing cluster needs no kind. Each check waits on a program: side by side.
    tools = ("kubectl", *(() if options.context else ("kind",)))
    with ThreadPoolExecutor(max_workers=len(tools)) as pool:
        ensured = [
            pool.submit(ensure_tool, tool, allow_install=options.install_tools, report=report)
            for tool in tools
        ]
        docker = Docker()
        docker.ping()  # DaemonDown, with how to start it, when none answers
        # `docker info` costs the engine 0.2 s: asked only where its answer matters.
        if not options.registry and not options.context and containerd_store(docker.info()):
            raise ConfigError(
                "--no-registry: Docker uses the containerd image store here, where `kind load`"
                " is broken (kind #3795)",
                hint="drop --no-registry: `devenv up` then sends images through its local registry",
            )
        for tool in ensured:
            tool.result()
    return "tools and engine answer"
