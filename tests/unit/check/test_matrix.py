"""The rendered policies implement the zone rules exactly, and the check notices when not."""

from __future__ import annotations

import copy
import ipaddress
from collections.abc import Callable
from pathlib import Path
from typing import Any

from devenv.check.matrix import build_matrix
from devenv.check.netpol import PolicyEvaluator
from devenv.check.workload_peers import manifest_endpoints
from devenv.render import render_manifests
from devenv.topology.images import ImageSet
from devenv.topology.intent import RuleBook
from devenv.topology.loader import load_topology
from devenv.topology.model import Topology
from devenv.topology.peers import DestPort, Endpoint


def test_rendered_policies_match_the_zone_rules(topology: Topology, image_set: ImageSet) -> None:
    matrix = build_matrix(topology, render_manifests(topology, "dev", image_set))
    assert matrix.mismatches() == []
    assert len(matrix.cells) > 500


def test_section_5_2_cells(topology: Topology, image_set: ImageSet) -> None:
    matrix = build_matrix(topology, render_manifests(topology, "dev", image_set))

    def verdict(src: str, dst: str, port: str) -> bool:
        return matrix.cell(src, dst, port).observed

    assert verdict("internet", "api-gateway", "8443/TCP")  # Internet -> Public (443 -> 8443)
    assert not verdict("internet", "next-app", "8080/TCP")
    assert verdict("api-gateway", "next-app", "8080/TCP")  # Public -> DMZ
    assert not verdict("api-gateway", "cost-agent", "8080/TCP")  # Public -> App: no rule
    assert verdict("ag-ui-server", "coordinator-agent", "8080/TCP")  # DMZ -> App
    assert verdict("cost-agent", "postgresql-timescaledb", "5432/TCP")  # App -> Data
    assert not verdict("ag-ui-server", "postgresql-timescaledb", "5432/TCP")  # DMZ -> Data
    assert verdict("ag-ui-server", "openbao", "8200/TCP")  # the secret-delivery exception
    assert verdict("aws-mcp", "cloud-apis", "443/TCP")  # App -> Cloud APIs
    assert not verdict("redis", "internet", "443/TCP")  # Data -> Internet blocked
    assert not verdict("cost-agent", "internet", "80/TCP")
    assert verdict("next-app", "ag-ui-server", "8080/TCP")  # same zone, across namespaces
    assert not verdict("cost-agent", "ag-ui-server", "8080/TCP")  # App -> DMZ: no rule
    assert not verdict("kubelet", "redis", "6379/TCP")  # probed by exec: nothing to open
    assert not verdict("kubelet", "postgresql-timescaledb", "5432/TCP")
    assert verdict("kubelet", "openbao", "8200/TCP")  # HTTP probes
    assert verdict("kubelet", "cost-agent", "8080/TCP")
    assert verdict("kube-apiserver", "openbao-agent-injector", "8080/TCP")  # the webhook
    # cert-manager's webhook: the API server's node networks on its port, nobody else.
    assert verdict("kube-apiserver", "cert-manager-webhook", "10250/TCP")
    assert not verdict("internet", "cert-manager-webhook", "10250/TCP")
    assert not verdict("cost-agent", "cert-manager-webhook", "10250/TCP")
    assert verdict("kubelet", "cert-manager-webhook", "6080/TCP")  # its probe port only
    assert not verdict("kubelet", "cert-manager", "9402/TCP")  # metrics, not a probe port
    assert verdict("api-gateway", "cert-manager", "9402/TCP")  # same zone (public)
    assert not verdict("internet", "cert-manager", "9403/TCP")
    webhook = matrix.cell("kube-apiserver", "cert-manager-webhook", "10250/TCP")
    assert webhook.expected_by == ("cert-manager-webhook",)
    assert verdict("celery-workers", "kube-dns", "53/UDP")
    exception = matrix.cell("next-app", "openbao", "8200/TCP")
    assert exception.expected_by == ("secret-delivery",)
    assert "finops-data/secret-delivery-ingress" in exception.observed_by


def test_deleting_a_policy_is_caught_naming_the_cells(
    topology: Topology, image_set: ImageSet
) -> None:
    manifests = [
        m
        for m in render_manifests(topology, "dev", image_set)
        if not (m["kind"] == "NetworkPolicy" and m["metadata"]["name"] == "app-to-data-ingress")
    ]
    mismatches = build_matrix(topology, manifests).mismatches()
    described = [c.describe() for c in mismatches]
    assert any(
        d.startswith("cost-agent -> postgresql-timescaledb:5432/TCP: expected allowed")
        for d in described
    )
    assert all(c.expected and not c.observed for c in mismatches)


def test_removing_a_zone_rule_from_a_topology_copy_is_caught(
    raw_topology: dict[str, Any],
    write_topology: Callable[[dict[str, Any]], Path],
    topology: Topology,
    image_set: ImageSet,
) -> None:
    """The default policies checked against a copy without Internet -> Public: the cell differs."""
    edited = copy.deepcopy(raw_topology)
    edited["zone_rules"] = [r for r in edited["zone_rules"] if r["name"] != "internet-to-public"]
    copy_topology = load_topology(write_topology(edited))
    manifests = render_manifests(topology, "dev", image_set)
    mismatches = build_matrix(copy_topology, manifests).mismatches()
    assert [(c.source, c.destination, c.port) for c in mismatches if c.source == "internet"] == [
        ("internet", "api-gateway", "8443/TCP")
    ]


def test_an_overly_broad_policy_is_caught(topology: Topology, image_set: ImageSet) -> None:
    manifests = render_manifests(topology, "dev", image_set)
    manifests.append(
        {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": {"name": "oops", "namespace": "finops-data"},
            "spec": {"podSelector": {}, "policyTypes": ["Egress"], "egress": [{}]},
        }
    )
    mismatches = build_matrix(topology, manifests).mismatches()
    assert any(c.source == "redis" and c.destination == "internet" for c in mismatches)
    assert all(not c.expected and c.observed for c in mismatches)


def test_node_rules_admit_the_nodes_only_once_their_addresses_are_known(
    topology: Topology, image_set: ImageSet
) -> None:
    """A host on the node network that is not a node (the registry, a simulator,
    anything on kind's Docker network) reaches no data port."""
    node, host = ipaddress.IPv4Address("172.18.0.2"), ipaddress.IPv4Address("172.18.0.9")
    pinned = topology.pinned(node_addresses=[node])
    manifests = render_manifests(pinned, "dev", image_set)
    assert build_matrix(pinned, manifests).mismatches() == []
    kubelet_blocks = {
        str(block["ipBlock"]["cidr"])
        for m in manifests
        if m["kind"] == "NetworkPolicy" and m["metadata"]["name"] == "kubelet-probes-ingress"
        for rule in m["spec"]["ingress"]
        for block in rule["from"]
    }
    assert kubelet_blocks == {"172.18.0.2/32"}
    evaluator = PolicyEvaluator(manifests, pinned.cluster.pod_cidrs)
    rules = RuleBook(pinned)
    stranger = Endpoint("node-network-host", "external", address=host, is_destination=False)
    kubelet = Endpoint("kubelet", "node", address=node, is_destination=False)
    endpoints = {e.name: e for e in manifest_endpoints(manifests, pinned)}
    for name in ("postgresql-timescaledb", "redis", "openbao", "openbao-agent-injector"):
        for port in endpoints[name].ports:
            assert not evaluator.evaluate(stranger, endpoints[name], port).allowed, (name, port)
            assert not rules.reasons(stranger, endpoints[name], port), (name, port)
    assert evaluator.evaluate(kubelet, endpoints["openbao"], endpoints["openbao"].ports[0]).allowed
    # Before `up` knows the addresses, the whole node networks stand for the nodes.
    unpinned = render_manifests(topology, "dev", image_set)
    wide = PolicyEvaluator(unpinned, topology.cluster.pod_cidrs)
    openbao = endpoints["openbao"]
    assert wide.evaluate(stranger, openbao, openbao.ports[0]).allowed


def test_the_kubelet_policy_opens_exactly_the_http_probe_ports(
    topology: Topology, image_set: ImageSet
) -> None:
    manifests = render_manifests(topology, "dev", image_set)
    probed: dict[str, set[int]] = {}
    for m in manifests:
        if m["kind"] not in ("Deployment", "StatefulSet"):
            continue
        namespace = m["metadata"]["namespace"]
        for container in m["spec"]["template"]["spec"]["containers"]:
            ports = {p["name"]: p["containerPort"] for p in container.get("ports", [])}
            for probe in ("livenessProbe", "readinessProbe"):
                http = container.get(probe, {}).get("httpGet")
                if http:
                    port = http["port"]
                    probed.setdefault(namespace, set()).add(ports.get(port, port))
    opened = {
        m["metadata"]["namespace"]: {
            p["port"] for rule in m["spec"]["ingress"] for p in rule["ports"]
        }
        for m in manifests
        if m["kind"] == "NetworkPolicy" and m["metadata"]["name"] == "kubelet-probes-ingress"
    }
    assert opened == probed


def test_cloud_api_egress_skips_private_and_link_local_ranges_but_the_simulator(
    topology: Topology, image_set: ImageSet
) -> None:
    simulator = ipaddress.IPv4Address("172.18.0.7")
    pinned = topology.pinned(simulator_addresses={"cloud-apis": simulator})
    manifests = render_manifests(pinned, "dev", image_set)
    assert build_matrix(pinned, manifests).mismatches() == []
    evaluator = PolicyEvaluator(manifests, pinned.cluster.pod_cidrs)
    rules = RuleBook(pinned)
    caller = next(e for e in manifest_endpoints(manifests, pinned) if e.name == "aws-mcp")
    https = DestPort(443)

    def allowed(address: str) -> tuple[bool, bool]:
        target = Endpoint(
            address, "external", ports=(https,), address=ipaddress.IPv4Address(address)
        )
        return evaluator.evaluate(caller, target, https).allowed, bool(
            rules.reasons(caller, target, https)
        )

    assert allowed(str(simulator)) == (True, True)
    assert allowed("52.94.76.10") == (True, True)  # a public address: a cloud API
    for private in ("172.18.0.9", "10.1.2.3", "192.168.1.1", "169.254.169.254"):
        assert allowed(private) == (False, False), private


def test_the_simulator_reaches_openbao_alone_and_only_once_its_address_is_known(
    topology: Topology, image_set: ImageSet
) -> None:
    # As a live environment pins it: its node's address too (the probes' rule then
    # admits the node alone, not kind's whole network, where the simulator runs).
    simulator = ipaddress.IPv4Address("172.18.0.7")
    pinned = topology.pinned(
        node_addresses=[ipaddress.IPv4Address("172.18.0.2")],
        simulator_addresses={"cloud-apis": simulator},
    )
    matrix = build_matrix(pinned, render_manifests(pinned, "dev", image_set))
    assert matrix.mismatches() == []
    from_simulator = {
        (c.destination, c.port): c.observed
        for c in matrix.cells
        if c.source == "cloud-apis-simulator"
    }
    assert from_simulator.pop(("openbao", "8200/TCP")) is True
    assert from_simulator.pop(("api-gateway", "8443/TCP")) is True  # as from the internet
    assert {key for key, allowed in from_simulator.items() if allowed} == set()
    assert ("postgresql-timescaledb", "5432/TCP") in from_simulator  # probed, blocked
    # Before the simulator runs (and in `devenv policy` without an environment) the
    # rule renders nothing: never an empty `from`, which would admit every source.
    unpinned = render_manifests(topology, "dev", image_set)
    names = {m["metadata"]["name"] for m in unpinned if m["kind"] == "NetworkPolicy"}
    assert "simulator-tenant-credentials-ingress" not in names
    pinned_policy = next(
        m for m in render_manifests(pinned, "dev", image_set)
        if m["metadata"]["name"] == "simulator-tenant-credentials-ingress"
    )  # fmt: skip
    assert pinned_policy["spec"]["ingress"] == [
        {
            "from": [{"ipBlock": {"cidr": "172.18.0.7/32"}}],
            "ports": [{"port": 8200, "protocol": "TCP"}],
        }
    ]
