"""The local registry beside a kind cluster, wired the standard way (kind's
local-registry recipe and KEP-1755): a registry container on 127.0.0.1:5001,
joined to the kind network, and a containerd hosts.toml in every node that sends
localhost:5001 to it. (The `local-registry-hosting` ConfigMap that tools such as
Tilt read is rendered in ``devenv.render``.)

The registry outlives the cluster, as in kind's recipe: it is the image cache
that makes the next `devenv up` push nothing and the new node pull only from
this machine. It starts before the cluster exists (pushes overlap `kind create`)
and is wired into the nodes once they run. `devenv down --purge` removes it, and
only when devenv started it (its label says so).
"""

from __future__ import annotations

import time

import httpx

from devenv.errors import ToolError
from devenv.render.kind_config import REGISTRY_HOST, REGISTRY_NAME, REGISTRY_PORT
from devenv.tools.docker import KIND_NETWORK, Docker
from devenv.tools.kind import KindCluster
from devenv.topology.labels import ENVIRONMENT_LABEL, MANAGED_BY

__all__ = ["registry_id", "remove_registry", "start_registry", "wire_registry"]

_HOSTS_DIR = f"/etc/containerd/certs.d/{REGISTRY_HOST}"
_OWNED = f"{ENVIRONMENT_LABEL}={MANAGED_BY[ENVIRONMENT_LABEL]}"


def start_registry(image: str) -> bool:
    """Start the registry unless it runs (a registry of kind's recipe is reused as it
    is), and wait until it serves. True when started here."""
    docker = Docker()
    started = False
    if not docker.is_running(REGISTRY_NAME):
        docker.run_detached(
            REGISTRY_NAME, image, network="bridge",
            options=["--restart=always", "--label", _OWNED,
                     "-p", f"127.0.0.1:{REGISTRY_PORT}:5000"],
        )  # fmt: skip
        started = True
    _wait_until_serving(f"http://127.0.0.1:{REGISTRY_PORT}/v2/")  # a push at once meets EOF
    return started


def registry_id() -> str | None:
    """The running registry container's ID: a new one has none of the pushed images."""
    return Docker().container_id(REGISTRY_NAME)


def wire_registry(cluster: KindCluster) -> None:
    """The registry on kind's network, and every node sending localhost:5001 to it."""
    docker = Docker()
    if KIND_NETWORK not in docker.networks(REGISTRY_NAME):
        docker.connect(KIND_NETWORK, REGISTRY_NAME)
    for node in cluster.nodes():
        docker.exec(node, ["mkdir", "-p", _HOSTS_DIR])
        docker.exec(
            node,
            ["cp", "/dev/stdin", f"{_HOSTS_DIR}/hosts.toml"],
            input_text=f'[host."http://{REGISTRY_NAME}:5000"]\n',
        )


def _wait_until_serving(url: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if time.monotonic() >= deadline:
            raise ToolError(
                f"the local registry does not answer on {url}",
                hint=f"docker logs {REGISTRY_NAME}",
            )
        time.sleep(0.2)


def remove_registry() -> bool:
    """Remove the registry and its storage if devenv started it. True when removed."""
    docker = Docker()
    if docker.label(REGISTRY_NAME, ENVIRONMENT_LABEL) != MANAGED_BY[ENVIRONMENT_LABEL]:
        return False
    docker.remove(REGISTRY_NAME, volumes=True)
    return True
