"""The things a connection can go from or to: pods and pseudo-endpoints.

Both the NetworkPolicy evaluator (what the manifests allow) and the zone-rule
semantics (what the topology intends) work on the same ``Endpoint`` list, so
their matrices can be compared cell by cell.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from devenv._topology import KUBE_APISERVER, Topology

__all__ = [
    "COMPONENT_LABEL",
    "KUBELET",
    "KUBE_DNS",
    "NAMESPACE_NAME_LABEL",
    "ZONE_LABEL",
    "DestPort",
    "Endpoint",
    "manifest_endpoints",
    "pseudo_endpoints",
    "topology_endpoints",
]

COMPONENT_LABEL = "app.kubernetes.io/name"
ZONE_LABEL = "finops.io/zone"
NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name"
KUBELET = "kubelet"
KUBE_DNS = "kube-dns"
WORKLOAD_KINDS = frozenset(
    {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "Pod", "ReplicationController"}
)

Category = Literal["pod", "external", "node"]


@dataclass(frozen=True)
class DestPort:
    """A port an endpoint accepts connections on (a container port for pods)."""

    number: int
    protocol: str = "TCP"
    name: str | None = None
    service_port: int | None = None

    @property
    def label(self) -> str:
        return f"{self.number}/{self.protocol}"


@dataclass(frozen=True)
class Endpoint:
    """A pod (by workload) or an address outside the pod network."""

    name: str
    category: Category
    ports: tuple[DestPort, ...] = ()
    namespace: str | None = None
    labels: Mapping[str, str] = field(default_factory=dict)
    address: ipaddress.IPv4Address | None = None
    zone: str | None = None
    is_source: bool = True
    is_destination: bool = True

    @property
    def is_pod(self) -> bool:
        return self.category == "pod"

    @property
    def component(self) -> str | None:
        return self.labels.get(COMPONENT_LABEL) if self.is_pod else None


def _node_address(topology: Topology) -> ipaddress.IPv4Address:
    # A representative node address: the second host of the first node range
    # (kind's first node is 172.18.0.2 on its default network, inside 172.16/12).
    return topology.cluster.node_cidrs[0].network_address + 2


def pseudo_endpoints(topology: Topology) -> list[Endpoint]:
    """Internet, cloud APIs, kubelet, API server and cluster DNS."""
    cluster = topology.cluster
    node = _node_address(topology)
    endpoints = [
        Endpoint(
            name=name,
            category="external",
            address=spec.probe_address,
            ports=tuple(DestPort(port) for port in spec.ports),
            # Only the internet starts connections into the cluster (§5.2 row 1).
            is_source=name == "internet",
        )
        for name, spec in topology.spec.external.items()
    ]
    endpoints.append(Endpoint(name=KUBELET, category="node", address=node, is_destination=False))
    endpoints.append(
        Endpoint(
            name=KUBE_APISERVER,
            category="node",
            address=node,
            ports=tuple(DestPort(port) for port in cluster.api_server_ports),
        )
    )
    endpoints.append(
        Endpoint(
            name=KUBE_DNS,
            category="pod",
            namespace=cluster.dns.namespace,
            labels=dict(cluster.dns.pod_labels),
            ports=(
                DestPort(cluster.dns.port, "UDP", "dns"),
                DestPort(cluster.dns.port, "TCP", "dns-tcp"),
            ),
            is_source=False,
        )
    )
    return endpoints


def component_labels(topology: Topology, name: str) -> dict[str, str]:
    """The labels every pod of a component carries (selectors rely on them)."""
    component = topology.components[name]
    return {
        COMPONENT_LABEL: name,
        "app.kubernetes.io/part-of": "finops",
        ZONE_LABEL: component.zone,
        "finops.io/kind": component.kind,
    }


def topology_endpoints(topology: Topology) -> list[Endpoint]:
    """Endpoints straight from the topology (before anything is rendered)."""
    pods = [
        Endpoint(
            name=component.name,
            category="pod",
            namespace=component.namespace,
            labels=component_labels(topology, component.name),
            zone=component.zone,
            ports=tuple(
                DestPort(p.port, p.protocol, p.name, p.service_port) for p in component.ports
            ),
        )
        for component in topology.components.values()
    ]
    return pods + pseudo_endpoints(topology)


def _pod_template(obj: Mapping[str, Any]) -> Mapping[str, Any] | None:
    kind = obj.get("kind")
    if kind == "Pod":
        return obj
    if kind in WORKLOAD_KINDS:
        template: Mapping[str, Any] | None = obj.get("spec", {}).get("template")
        return template
    return None


def _service_port_for(
    services: Sequence[Mapping[str, Any]], namespace: str, labels: Mapping[str, str], port: DestPort
) -> int | None:
    """The port a Service of this pod offers for a container port, when it differs (443 -> 8443)."""
    for service in services:
        spec = service.get("spec", {})
        selector = spec.get("selector") or {}
        if service.get("metadata", {}).get("namespace", "default") != namespace or not selector:
            continue
        if any(labels.get(key) != value for key, value in selector.items()):
            continue
        for service_port in spec.get("ports", []) or []:
            target = service_port.get("targetPort", service_port.get("port"))
            if target in (port.number, port.name) and service_port.get("port") != port.number:
                return int(service_port["port"])
    return None


def manifest_endpoints(objects: Sequence[Mapping[str, Any]], topology: Topology) -> list[Endpoint]:
    """One endpoint per workload in the manifests, plus the topology's pseudo-endpoints."""
    services = [obj for obj in objects if obj.get("kind") == "Service"]
    endpoints = []
    for obj in objects:
        template = _pod_template(obj)
        if template is None:
            continue
        metadata = obj.get("metadata", {})
        namespace = metadata.get("namespace", "default")
        labels = dict(template.get("metadata", {}).get("labels", {}) or {})
        ports: list[DestPort] = []
        for container in template.get("spec", {}).get("containers", []) or []:
            for declared in container.get("ports", []) or []:
                port = DestPort(
                    declared["containerPort"], declared.get("protocol", "TCP"), declared.get("name")
                )
                service_port = _service_port_for(services, namespace, labels, port)
                ports.append(replace(port, service_port=service_port))
        endpoints.append(
            Endpoint(
                name=labels.get(COMPONENT_LABEL, metadata.get("name", "?")),
                category="pod",
                namespace=namespace,
                labels=labels,
                zone=labels.get(ZONE_LABEL),
                ports=tuple(ports),
            )
        )
    return endpoints + pseudo_endpoints(topology)
