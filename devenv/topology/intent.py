"""What the topology intends: §5.2's zone rules, the exceptions and the platform's needs.

The rules are turned into ``Flow`` objects, and ``RuleBook.reasons`` answers,
for one source, destination and port, which flows allow it (none means the
connection must be blocked). This is the expected side of `devenv policy
--check`; the NetworkPolicy evaluator gives the observed side.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from devenv.topology.model import (
    KUBE_APISERVER,
    SECRET_READERS,
    Ports,
    Topology,
)
from devenv.topology.peers import (
    KUBE_DNS,
    KUBELET,
    DestPort,
    Endpoint,
    simulator_term,
    topology_endpoints,
)

__all__ = ["ALL_PODS", "Flow", "RuleBook", "endpoint_names", "intended_flows"]

ALL_PODS = "@pods"
SAME_ZONE = "same-zone"
FlowKind = Literal["zone", "same-zone", "exception", "platform"]


@dataclass(frozen=True)
class Flow:
    """Connections the topology allows: sources -> destinations on ports, and why."""

    name: str
    kind: FlowKind
    sources: tuple[str, ...]
    destinations: tuple[str, ...]
    ports: Ports
    ref: str
    resolution: str | None = None


def _as_tuple(value: str | tuple[str, ...]) -> tuple[str, ...]:
    return (value,) if isinstance(value, str) else value


def intended_flows(topology: Topology) -> list[Flow]:
    """Every flow the topology allows, in a stable order."""
    spec = topology.spec
    flows = [
        Flow(rule.name, "zone", (rule.source,), (rule.destination,), rule.ports, rule.ref)
        for rule in spec.zone_rules
    ]
    if spec.same_zone.allowed:
        flows.append(Flow(SAME_ZONE, "same-zone", (), (), "any", spec.same_zone.ref))
    flows.extend(
        Flow(
            rule.name,
            "exception",
            _as_tuple(rule.source),
            _as_tuple(rule.destination),
            rule.ports,
            rule.ref,
            rule.resolution,
        )
        for rule in spec.exceptions
    )
    flows.append(
        Flow(
            "dns",
            "platform",
            (ALL_PODS,),
            (KUBE_DNS,),
            (topology.cluster.dns.port,),
            spec.platform_rules.dns.ref,
        )
    )
    # The kubelet reaches each component on its HTTP probe port only.
    flows.extend(
        Flow(
            "kubelet-probes",
            "platform",
            (KUBELET,),
            (component.name,),
            (port.port,),
            spec.platform_rules.kubelet_probes.ref,
        )
        for component in topology.components.values()
        if (port := component.http_probe_port)
    )
    return flows


def endpoint_names(topology: Topology) -> set[str]:
    """Names a rule's `from`/`to` may use."""
    return (
        set(topology.spec.zones)
        | set(topology.spec.external)
        | set(topology.components)
        | {KUBE_APISERVER}
        | simulator_terms(topology)
    )


def simulator_terms(topology: Topology) -> set[str]:
    """Rule terms for the external endpoints' dev simulators (outside the cluster,
    known by the address they run at)."""
    return {
        simulator_term(name)
        for name, spec in topology.spec.external.items()
        if spec.simulator is not None
    }


def simulator_of(topology: Topology, term: str) -> str | None:
    """The external endpoint whose simulator ``term`` names, or None."""
    for name in topology.spec.external:
        if term == simulator_term(name) and topology.spec.external[name].simulator is not None:
            return name
    return None


def port_matches(ports: Ports, port: DestPort) -> bool:
    if ports == "any":
        return True
    return any(
        wanted == port.name
        if isinstance(wanted, str)
        else wanted in (port.number, port.service_port)
        for wanted in ports
    )


class RuleBook:
    """Answers which intended flows allow a connection."""

    def __init__(self, topology: Topology) -> None:
        self.topology = topology
        self.flows = intended_flows(topology)
        self._internal = topology.cluster.cluster_internal_cidrs
        self._secret_readers = {c.name for c in topology.secret_readers("sidecar")}
        self._endpoints = {e.name: e for e in topology_endpoints(topology)}

    def is_managed(self, endpoint: Endpoint) -> bool:
        """A pod in one of the topology's namespaces."""
        return endpoint.is_pod and endpoint.namespace in self.topology.namespaces

    def _in(
        self, address: ipaddress.IPv4Address | None, cidrs: Sequence[ipaddress.IPv4Network]
    ) -> bool:
        if address is None:
            return False
        if any(address in internal for internal in self._internal):
            return False
        return any(address in cidr for cidr in cidrs)

    def term_matches(self, term: str, endpoint: Endpoint) -> bool:
        """Does a rule term (zone, endpoint, component, keyword) cover this endpoint?"""
        spec = self.topology.spec
        if term == ALL_PODS:
            return self.is_managed(endpoint)
        if term == KUBE_DNS:
            return endpoint.name == KUBE_DNS and endpoint.is_pod
        if term in (KUBELET, KUBE_APISERVER):
            return not endpoint.is_pod and self._in(
                endpoint.address, self.topology.cluster.node_networks
            )
        if term in spec.zones:
            return self.is_managed(endpoint) and endpoint.zone == term
        simulated = simulator_of(self.topology, term)
        if simulated is not None:
            known = spec.external[simulated].simulator_address
            return not endpoint.is_pod and known is not None and endpoint.address == known
        if term in spec.external:
            address = endpoint.address
            return (
                not endpoint.is_pod
                and address is not None
                and not any(address in internal for internal in self._internal)
                and spec.external[term].covers(address)
            )
        if term == SECRET_READERS:
            return self.is_managed(endpoint) and endpoint.component in self._secret_readers
        return self.is_managed(endpoint) and endpoint.component == term

    def reasons(self, source: Endpoint, destination: Endpoint, port: DestPort) -> list[str]:
        """Names of the flows that allow source -> destination:port (empty: blocked)."""
        found = []
        for flow in self.flows:
            if not port_matches(flow.ports, port):
                continue
            if flow.kind == "same-zone":
                if (
                    self.is_managed(source)
                    and self.is_managed(destination)
                    and source.zone is not None
                    and source.zone == destination.zone
                ):
                    found.append(flow.name)
                continue
            if any(self.term_matches(t, source) for t in flow.sources) and any(
                self.term_matches(t, destination) for t in flow.destinations
            ):
                found.append(flow.name)
        return found

    def allows_call(self, source_name: str, target_name: str) -> bool:
        """Is a declared call allowed on at least one port of its target?"""
        source, target = self._endpoints[source_name], self._endpoints[target_name]
        return any(self.reasons(source, target, port) for port in target.ports)
