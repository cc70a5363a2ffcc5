"""The local registry beside a kind cluster, wired the standard way (kind's
local-registry recipe and KEP-1755): a registry container on 127.0.0.1:5001,
joined to the kind network, and a containerd hosts.toml in every node that sends
localhost:5001 to it. (The `local-registry-hosting` ConfigMap that tools such as
Tilt read is rendered in ``devenv.render``.) Pushing a changed stub image then
sends only its new layers.
"""

from __future__ import annotations

import time

import httpx

from devenv.errors import ToolError
from devenv.render.kind_config import REGISTRY_HOST, REGISTRY_NAME, REGISTRY_PORT
from devenv.tools.docker import KIND_NETWORK, Docker
from devenv.tools.kind import KindCluster

__all__ = ["ensure_registry", "remove_registry"]

_HOSTS_DIR = f"/etc/containerd/certs.d/{REGISTRY_HOST}"


def ensure_registry(image: str, cluster: KindCluster) -> bool:
    """Start (or reuse) the registry and wire every node to it. True when started here."""
    docker = Docker()
    started = False
    if not docker.is_running(REGISTRY_NAME):
        docker.run_detached(
            REGISTRY_NAME, image, network="bridge",
            options=["--restart=always", "-p", f"127.0.0.1:{REGISTRY_PORT}:5000"],
        )  # fmt: skip
        started = True
    if KIND_NETWORK not in docker.networks(REGISTRY_NAME):
        docker.connect(KIND_NETWORK, REGISTRY_NAME)
    for node in cluster.nodes():
        docker.exec(node, ["mkdir", "-p", _HOSTS_DIR])
        docker.exec(
            node,
            ["cp", "/dev/stdin", f"{_HOSTS_DIR}/hosts.toml"],
            input_text=f'[host."http://{REGISTRY_NAME}:5000"]\n',
        )
    _wait_until_serving(f"http://127.0.0.1:{REGISTRY_PORT}/v2/")  # a push at once meets EOF
    return started


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


def remove_registry() -> None:
    Docker().remove(REGISTRY_NAME)
