"""kind's Cluster config for a topology: the repository's kind-config.yaml is this
with the defaults (a unit test keeps them equal)."""

from __future__ import annotations

from typing import Any

from devenv.render.objects import Manifest, metadata
from devenv.topology.images import ImageSet
from devenv.topology.model import Topology

__all__ = [
    "GATEWAY_HOST_PORT",
    "REGISTRY_HOST",
    "REGISTRY_NAME",
    "REGISTRY_PORT",
    "render_kind_config",
    "render_registry_hosting",
]

# The host port (on 127.0.0.1) mapped to the gateway's NodePort.
GATEWAY_HOST_PORT = 8443
# The local registry beside the cluster: its container, and where pushes go.
REGISTRY_NAME = "kind-registry"
REGISTRY_PORT = 5001
REGISTRY_HOST = f"localhost:{REGISTRY_PORT}"
# containerd reads per-registry hosts.toml files from here (KEP-1755 wiring).
_REGISTRY_PATCH = (
    '[plugins."io.containerd.grpc.v1.cri".registry]\n  config_path = "/etc/containerd/certs.d"'
)


# The kubelet pulls images one at a time by default: the data layer, OpenBao and
# the stubs would wait on each other's pulls from the local registry. It writes a
# changed Secret into the pods that mount it at its next sync of each pod (every
# minute by default): every 10 s, a renewed certificate is served within seconds.
_KUBELET_PATCH = (
    "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\n"
    "serializeImagePulls: false\nsyncFrequency: 10s"
)


def render_kind_config(
    topology: Topology, images: ImageSet, *, disable_default_cni: bool = False
) -> dict[str, Any]:
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
        "kubeadmConfigPatches": [_KUBELET_PATCH],
        "nodes": [
            {
                "role": "control-plane",
                "image": images.ref("kind-node"),
                "extraPortMappings": mappings,
            }
        ],
    }


def render_registry_hosting() -> Manifest:
    """The KEP-1755 `local-registry-hosting` ConfigMap: where tools such as Tilt push."""
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": metadata("local-registry-hosting", "kube-public"),
        "data": {
            "localRegistryHosting.v1": f'host: "{REGISTRY_HOST}"\n'
            'help: "https://kind.sigs.k8s.io/docs/user/local-registry/"\n'
        },
    }
