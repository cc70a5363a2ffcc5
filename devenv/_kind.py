"""The kind cluster: its configuration (pure) and the few kind operations."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from devenv._images import ImageSet
from devenv._process import run
from devenv._topology import Topology

__all__ = [
    "GATEWAY_HOST_PORT",
    "KIND_NETWORK",
    "REGISTRY_NAME",
    "REGISTRY_PORT",
    "KindCluster",
    "default_context",
    "network_address",
    "render_kind_config",
]

REGISTRY_NAME = "kind-registry"
REGISTRY_PORT = 5001
GATEWAY_HOST_PORT = 8443
KIND_NETWORK = "kind"  # the Docker network kind puts its nodes on
_REGISTRY_PATCH = (
    '[plugins."io.containerd.grpc.v1.cri".registry]\n  config_path = "/etc/containerd/certs.d"'
)


def render_kind_config(
    topology: Topology, images: ImageSet, *, disable_default_cni: bool = False
) -> dict[str, Any]:
    """kind's Cluster config for the topology: the repository's kind-config.yaml is
    this with the defaults (a unit test keeps them equal)."""
    cluster = topology.cluster
    networking: dict[str, Any] = {
        "podSubnet": str(cluster.pod_cidrs[0]),
        "serviceSubnet": str(cluster.service_cidrs[0]),
    }
    if disable_default_cni:
        networking["disableDefaultCNI"] = True
    mappings = [
        {
            "containerPort": port.node_port,
            "hostPort": GATEWAY_HOST_PORT,
            "listenAddress": "127.0.0.1",
            "protocol": port.protocol,
        }
        for component in topology.components.values()
        for port in component.ports
        if port.node_port
    ]
    return {
        "kind": "Cluster",
        "apiVersion": "kind.x-k8s.io/v1alpha4",
        "name": cluster.name,
        "networking": networking,
        "containerdConfigPatches": [_REGISTRY_PATCH],
        "nodes": [
            {
                "role": "control-plane",
                "image": images.ref("kind-node"),
                "extraPortMappings": mappings,
            }
        ],
    }


def default_context(topology: Topology, context: str | None = None) -> str:
    """The kube context commands use: the one given, else the topology's kind cluster."""
    return context or KindCluster(topology.cluster.name).context


def network_address(container: str, network: str = KIND_NETWORK) -> str:
    """A container's IPv4 address on a Docker network (e.g. a simulator on kind's)."""
    template = f"{{{{.NetworkSettings.Networks.{network}.IPAddress}}}}"
    return run(["docker", "inspect", "-f", template, container], timeout=30).stdout.strip()


class KindCluster:
    def __init__(self, name: str) -> None:
        self.name = name

    @property
    def context(self) -> str:
        return f"kind-{self.name}"

    def exists(self) -> bool:
        result = run(["kind", "get", "clusters"], timeout=60)
        return self.name in result.stdout.split()

    def create(self, config_path: Path) -> None:
        run(
            ["kind", "create", "cluster", "--name", self.name, "--config", str(config_path),
             "--wait", "0s"],
            timeout=900,
        )  # fmt: skip

    def delete(self) -> None:
        run(["kind", "delete", "cluster", "--name", self.name], timeout=300)

    def nodes(self) -> list[str]:
        return run(["kind", "get", "nodes", "--name", self.name], timeout=60).stdout.split()

    def load(self, image: str) -> None:
        run(["kind", "load", "docker-image", "--name", self.name, image], timeout=900)

    def node_has_image(self, image_id: str) -> bool:
        """Is this exact image (by ID) already in the node's containerd?"""
        for node in self.nodes():
            listing = run(
                ["docker", "exec", node, "crictl", "images", "-o", "json"], check=False, timeout=60
            )
            if listing.returncode != 0:
                return False
            ids = {entry.get("id") for entry in json.loads(listing.stdout).get("images", [])}
            if image_id not in ids:
                return False
        return True
