"""NetworkPolicies: default-deny in every namespace, then one allow per intended flow.

Each flow of the topology (a §5.2 zone rule, an exception, a platform need)
becomes an ingress policy in every namespace holding its destinations and an
egress policy in every namespace holding its sources: a connection needs both.
Policies carry the flow's name as a label, so `devenv policy` can say which
rule opened a cell.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence

from devenv.render.objects import Manifest, metadata
from devenv.topology.intent import Flow, intended_flows, simulator_of
from devenv.topology.labels import (
    COMPONENT_LABEL,
    NAMESPACE_NAME_LABEL,
    REF_ANNOTATION,
    RULE_LABEL,
    ZONE_LABEL,
    zone_member_label,
)
from devenv.topology.model import KUBE_APISERVER, SECRET_READERS, ComponentSpec, PortSpec, Topology

__all__ = ["render_network_policies"]

Peer = dict[str, object]


def _policy(
    name: str,
    namespace: str,
    pod_selector: Manifest,
    *,
    rule: str,
    ref: str,
    ingress: list[Manifest] | None = None,
    egress: list[Manifest] | None = None,
) -> Manifest:
    types = [t for t, rules in (("Ingress", ingress), ("Egress", egress)) if rules is not None]
    spec: Manifest = {"podSelector": pod_selector, "policyTypes": types}
    if ingress is not None:
        spec["ingress"] = ingress
    if egress is not None:
        spec["egress"] = egress
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": metadata(
            name, namespace, labels={RULE_LABEL: rule}, annotations={REF_ANNOTATION: ref}
        ),
        "spec": spec,
    }


def _ip_blocks(
    cidrs: Iterable[ipaddress.IPv4Network], internal: Sequence[ipaddress.IPv4Network]
) -> list[Peer]:
    """ipBlock peers that never cover pod or Service addresses."""
    blocks: list[Peer] = []
    for cidr in cidrs:
        excluded = sorted((str(n) for n in internal if n.subnet_of(cidr) and n != cidr), key=str)
        block: dict[str, object] = {"cidr": str(cidr)}
        if excluded:
            block["except"] = excluded
        blocks.append({"ipBlock": block})
    return blocks


class _FlowRenderer:
    """Resolves a flow's terms (zones, components, endpoints) into selectors and peers."""

    def __init__(self, topology: Topology) -> None:
        self.topology = topology
        self.internal = topology.cluster.cluster_internal_cidrs
        self.secret_readers = [c.name for c in topology.secret_readers("sidecar")]

    # --- which pods a term covers
    def pods(self, term: str) -> list[ComponentSpec] | None:
        """Components covered by a term, or None when the term is not about pods."""
        components = self.topology.components
        if term in self.topology.spec.zones:
            return [c for c in components.values() if c.zone == term]
        if term == SECRET_READERS:
            return [components[name] for name in self.secret_readers]
        if term in components:
            return [components[term]]
        return None

    # --- how another namespace's policy names the term
    def peers(self, term: str) -> list[Peer]:
        spec = self.topology.spec
        if term in spec.zones:
            return [
                {
                    "namespaceSelector": {"matchLabels": {zone_member_label(term): "true"}},
                    "podSelector": {"matchLabels": {ZONE_LABEL: term}},
                }
            ]
        simulated = simulator_of(self.topology, term)
        if simulated is not None:  # its one address, once known; else nobody
            address = spec.external[simulated].simulator_address
            return [] if address is None else _ip_blocks([ipaddress.IPv4Network(address)], ())
        if term in spec.external:
            external = spec.external[term]
            blocks = _ip_blocks(external.cidrs, (*self.internal, *external.excluded_cidrs))
            if external.simulator_address is not None:
                blocks += _ip_blocks([ipaddress.IPv4Network(external.simulator_address)], ())
            return blocks
        if term == KUBE_APISERVER:
            return _ip_blocks(self.topology.cluster.node_networks, self.internal)
        pods = self.pods(term) or []
        return [
            {
                "namespaceSelector": {
                    "matchExpressions": [
                        {
                            "key": NAMESPACE_NAME_LABEL,
                            "operator": "In",
                            "values": sorted({c.namespace for c in pods}),
                        }
                    ]
                },
                "podSelector": _names_selector(c.name for c in pods),
            }
        ]

    def destination_ports(self, flow: Flow, term: str) -> list[Manifest]:
        pods = self.pods(term)
        if pods is not None:
            return _port_list(p for c in pods for p in c.ports if _wanted(flow, p))
        if flow.ports == "any":
            if term in self.topology.spec.external:
                numbers: Iterable[int] = self.topology.spec.external[term].ports
            else:
                numbers = self.topology.cluster.api_server_ports
        else:
            numbers = [p for p in flow.ports if isinstance(p, int)]
        return [{"protocol": "TCP", "port": n} for n in sorted(set(numbers))]

    def local_pods(self, terms: Sequence[str], namespace: str) -> list[ComponentSpec]:
        found: dict[str, ComponentSpec] = {}
        for term in terms:
            for component in self.pods(term) or []:
                if component.namespace == namespace:
                    found[component.name] = component
        return list(found.values())

    def local_selector(self, terms: Sequence[str], namespace: str) -> Manifest:
        if len(terms) == 1 and terms[0] in self.topology.spec.zones:
            return {"matchLabels": {ZONE_LABEL: terms[0]}}
        return _names_selector(c.name for c in self.local_pods(terms, namespace))

    # --- the two halves of a flow in one namespace
    def ingress(self, flow: Flow, namespace: str) -> Manifest | None:
        targets = self.local_pods(flow.destinations, namespace)
        ports = _port_list(p for c in targets for p in c.ports if _wanted(flow, p))
        if not ports:
            return None
        # A term with no peers (a simulator not started yet) adds no rule: an empty
        # `from` would admit every source.
        rules = [
            {"from": peers, "ports": ports} for term in flow.sources if (peers := self.peers(term))
        ]
        return self._flow_policy(flow, namespace, "ingress", rules) if rules else None

    def egress(self, flow: Flow, namespace: str) -> Manifest | None:
        if not self.local_pods(flow.sources, namespace):
            return None
        rules = [
            {"to": peers, "ports": ports}
            for term in flow.destinations
            if (ports := self.destination_ports(flow, term)) and (peers := self.peers(term))
        ]
        return self._flow_policy(flow, namespace, "egress", rules) if rules else None

    def _flow_policy(
        self, flow: Flow, namespace: str, direction: str, rules: list[Manifest]
    ) -> Manifest:
        """The policy for the local side of a flow: its destinations' ingress or its
        sources' egress, named and labelled after the flow."""
        local = flow.destinations if direction == "ingress" else flow.sources
        return _policy(
            f"{flow.name}-{direction}",
            namespace,
            self.local_selector(local, namespace),
            rule=flow.name,
            ref=flow.ref,
            **{direction: rules},
        )


def _wanted(flow: Flow, port: PortSpec) -> bool:
    return flow.ports == "any" or any(port.matches(wanted) for wanted in flow.ports)


def _names_selector(names: Iterable[str]) -> Manifest:
    return {
        "matchExpressions": [
            {"key": COMPONENT_LABEL, "operator": "In", "values": sorted(set(names))}
        ]
    }


def _port_list(ports: Iterable[PortSpec]) -> list[Manifest]:
    unique = sorted({(p.protocol, p.port) for p in ports}, key=lambda item: (item[1], item[0]))
    return [{"protocol": protocol, "port": number} for protocol, number in unique]


def _platform_policies(topology: Topology, namespace: str) -> list[Manifest]:
    cluster, spec = topology.cluster, topology.spec
    dns_peer = {
        "namespaceSelector": {"matchLabels": {NAMESPACE_NAME_LABEL: cluster.dns.namespace}},
        "podSelector": {"matchLabels": dict(cluster.dns.pod_labels)},
    }
    policies = [
        _policy(
            "default-deny",
            namespace,
            {},
            rule="default-deny",
            ref="§5.2 Cross-zone without explicit rule: blocked by default",
            ingress=[],
            egress=[],
        ),
        _policy(
            "dns-egress",
            namespace,
            {},
            rule="dns",
            ref=spec.platform_rules.dns.ref,
            egress=[
                {
                    "to": [dns_peer],
                    "ports": [
                        {"protocol": "UDP", "port": cluster.dns.port},
                        {"protocol": "TCP", "port": cluster.dns.port},
                    ],
                }
            ],
        ),
    ]
    # Only the ports HTTP probes (and the API server's pod proxy) use, and only
    # from the nodes: a data server probed by exec opens nothing to the node network.
    probe_ports = _port_list(
        port for c in topology.components_in(namespace) if (port := c.http_probe_port)
    )
    if probe_ports:
        policies.append(
            _policy(
                "kubelet-probes-ingress",
                namespace,
                {},
                rule="kubelet-probes",
                ref=spec.platform_rules.kubelet_probes.ref,
                ingress=[
                    {
                        "from": _ip_blocks(cluster.node_networks, cluster.cluster_internal_cidrs),
                        "ports": probe_ports,
                    }
                ],
            )
        )
    return policies


def _same_zone_policies(topology: Topology, namespace: str) -> list[Manifest]:
    if not topology.spec.same_zone.allowed:
        return []
    policies = []
    for zone in topology.zones_in(namespace):
        if not any(c.zone == zone for c in topology.components_in(namespace)):
            continue
        peer = {
            "namespaceSelector": {"matchLabels": {zone_member_label(zone): "true"}},
            "podSelector": {"matchLabels": {ZONE_LABEL: zone}},
        }
        policies.append(
            _policy(
                f"same-zone-{zone}",
                namespace,
                {"matchLabels": {ZONE_LABEL: zone}},
                rule="same-zone",
                ref=topology.spec.same_zone.ref,
                ingress=[{"from": [peer]}],
                egress=[{"to": [peer]}],
            )
        )
    return policies


def render_network_policies(topology: Topology, namespace: str) -> list[Manifest]:
    """Every NetworkPolicy of one namespace, default-deny first."""
    renderer = _FlowRenderer(topology)
    policies = _platform_policies(topology, namespace) + _same_zone_policies(topology, namespace)
    for flow in intended_flows(topology):
        if flow.kind not in ("zone", "exception"):
            continue
        for half in (renderer.ingress(flow, namespace), renderer.egress(flow, namespace)):
            if half is not None:
                policies.append(half)
    return policies
