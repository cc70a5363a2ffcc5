"""The local registry beside a kind cluster, wired the standard way (kind's
local-registry recipe and KEP-1755): a registry container on 127.0.0.1:5001,
joined to the kind network, a containerd hosts.toml in every node that sends
localhost:5001 to it, and the `local-registry-hosting` ConfigMap that tools
such as Tilt read. Pushing a changed stub image then sends only its new layers.
"""

from __future__ import annotations

from devenv._images import ImageSet
from devenv._kind import REGISTRY_NAME, REGISTRY_PORT, KindCluster
from devenv._process import run
from devenv.render import Manifest

__all__ = ["ensure_registry", "hosting_configmap", "push", "remove_registry"]

HOST = f"localhost:{REGISTRY_PORT}"
_HOSTS_DIR = f"/etc/containerd/certs.d/{HOST}"


def _running() -> bool:
    result = run(
        ["docker", "inspect", "-f", "{{.State.Running}}", REGISTRY_NAME], check=False, timeout=30
    )
    return result.returncode == 0 and result.stdout.strip() == "true"


def ensure_registry(images: ImageSet, cluster: KindCluster) -> bool:
    """Start (or reuse) the registry and wire every node to it. True when started here."""
    started = False
    if not _running():
        run(["docker", "rm", "-f", REGISTRY_NAME], check=False, timeout=60)
        run(
            ["docker", "run", "-d", "--restart=always", "-p", f"127.0.0.1:{REGISTRY_PORT}:5000",
             "--network", "bridge", "--name", REGISTRY_NAME, images.ref("registry")],
            timeout=300,
        )  # fmt: skip
        started = True
    networks = run(
        ["docker", "inspect", "-f", "{{json .NetworkSettings.Networks}}", REGISTRY_NAME], timeout=30
    ).stdout
    if '"kind"' not in networks:
        run(["docker", "network", "connect", "kind", REGISTRY_NAME], timeout=60)
    for node in cluster.nodes():
        run(["docker", "exec", node, "mkdir", "-p", _HOSTS_DIR], timeout=30)
        run(
            ["docker", "exec", "-i", node, "cp", "/dev/stdin", f"{_HOSTS_DIR}/hosts.toml"],
            input_text=f'[host."http://{REGISTRY_NAME}:5000"]\n',
            timeout=30,
        )
    return started


def hosting_configmap() -> Manifest:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": "local-registry-hosting",
            "namespace": "kube-public",
            "labels": {"app.kubernetes.io/managed-by": "finops-devenv"},
        },
        "data": {
            "localRegistryHosting.v1": f'host: "{HOST}"\n'
            'help: "https://kind.sigs.k8s.io/docs/user/local-registry/"\n'
        },
    }


def push(reference: str) -> None:
    run(["docker", "push", reference], timeout=900)


def remove_registry() -> None:
    run(["docker", "rm", "-f", REGISTRY_NAME], check=False, timeout=60)
