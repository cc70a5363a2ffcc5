"""The things a connection can go from or to: pods and pseudo-endpoints.

Both the NetworkPolicy evaluator (what the manifests allow) and the zone-rule
semantics (what the topology intends) work on the same ``Endpoint`` list, so
their matrices can be compared cell by cell.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from devenv.topology.labels import COMPONENT_LABEL, component_labels
from devenv.topology.model import KUBE_APISERVER, Topology

__all__ = [
    "KUBELET",
    "KUBE_DNS",
    "DestPort",
    "Endpoint",
    "pseudo_endpoints",
    "simulator_term",
    "topology_endpoints",
]

KUBELET = "kubelet"
KUBE_DNS = "kube-dns"


def simulator_term(endpoint: str) -> str:
    """How rules name an external endpoint's dev simulator (outside the cluster)."""
    return f"{endpoint}-simulator"


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
    cluster = topology.cluster
    if cluster.node_addresses:
        return cluster.node_addresses[0]
    # Not known yet: a representative one, the second host of the first node range
    # (kind's first node is 172.18.0.2 on its default network, inside 172.16/12).
    return cluster.node_cidrs[0].network_address + 2


def pseudo_endpoints(topology: Topology) -> list[Endpoint]:
    """Internet, cloud APIs (and their simulators), kubelet, API server and cluster DNS."""
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
    # A simulator, once it runs somewhere known: a source only (what it may reach).
    endpoints += [
        Endpoint(
            name=simulator_term(name),
            category="external",
            address=spec.simulator_address,
            is_destination=False,
        )
        for name, spec in topology.spec.external.items()
        if spec.simulator is not None and spec.simulator_address is not None
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
