"""Each direction on its own: the rendered policies hold on both sides, and a side
opened wider than the zone rules is named even while the other side blocks."""

from __future__ import annotations

import re
from typing import Any

from devenv.check.direction_audit import (
    Connection,
    DirectionFinding,
    audit_directions,
    rule_summary,
)
from devenv.check.matrix import build_matrix
from devenv.check.netpol import AdmittingRule
from devenv.render import render_manifests
from devenv.topology.images import ImageSet
from devenv.topology.model import Topology


def network_policy(namespace: str, name: str, **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"podSelector": {}, **spec},
    }


def by_policy(findings: list[DirectionFinding], policy: str) -> DirectionFinding:
    [found] = [f for f in findings if f.policy == policy]
    return found


def test_rendered_policies_hold_on_each_side(topology: Topology, image_set: ImageSet) -> None:
    for profile in ("dev", "prodlike"):
        assert audit_directions(topology, render_manifests(topology, profile, image_set)) == []


def test_an_allow_all_ingress_in_the_data_zone_is_named_with_what_it_opens(
    topology: Topology, image_set: ImageSet
) -> None:
    manifests = render_manifests(topology, "dev", image_set)
    manifests.append(network_policy("finops-data", "allow-everything", ingress=[{}]))
    finding = by_policy(audit_directions(topology, manifests), "finops-data/allow-everything")
    assert finding.direction == "ingress"
    assert finding.rule_index == 0
    assert finding.rule == "from: any, ports: any"
    assert Connection("next-app", "postgresql-timescaledb", "5432/TCP") in finding.connections
    assert Connection("cost-agent", "openbao-agent-injector", "8080/TCP") in finding.connections
    # What the zone rules intend is no finding, whoever else admits it.
    assert Connection("cost-agent", "postgresql-timescaledb", "5432/TCP") not in finding.connections
    assert Connection("next-app", "openbao", "8200/TCP") not in finding.connections  # exception
    data_zone = {c.name for c in topology.components.values() if c.namespace == "finops-data"}
    assert {c.destination for c in finding.connections} <= data_zone
    assert re.fullmatch(
        r"finops-data/allow-everything ingress\[0\] \(from: any, ports: any\) admits \d+"
        r" connections the zone rules block, e\.g\. [^,]+ -> [^,]+, [^,]+, [^,]+, …",
        finding.describe(),
    )


def test_what_the_matrix_cannot_see_the_audit_names(
    topology: Topology, image_set: ImageSet
) -> None:
    """Every pod of the cluster into the Data Zone: each source's egress still blocks,
    so no cell of the matrix differs; the ingress side alone does not hold."""
    manifests = render_manifests(topology, "dev", image_set)
    every_pod = {"from": [{"namespaceSelector": {}}]}
    manifests.append(network_policy("finops-data", "from-every-pod", ingress=[every_pod]))
    assert build_matrix(topology, manifests).mismatches() == []
    finding = by_policy(audit_directions(topology, manifests), "finops-data/from-every-pod")
    assert finding.rule == "from: pods(*) in namespaces(*), ports: any"
    assert Connection("next-app", "postgresql-timescaledb", "5432/TCP") in finding.connections


def test_an_allow_all_egress_in_an_app_namespace_is_an_egress_finding(
    topology: Topology, image_set: ImageSet
) -> None:
    manifests = render_manifests(topology, "dev", image_set)
    manifests.append(network_policy("finops-mcp", "allow-out", policyTypes=["Egress"], egress=[{}]))
    findings = audit_directions(topology, manifests)
    finding = by_policy(findings, "finops-mcp/allow-out")
    assert (finding.direction, finding.rule_index) == ("egress", 0)
    assert finding.describe().startswith(
        "finops-mcp/allow-out egress[0] (to: any, ports: any) admits"
    )
    assert Connection("aws-mcp", "api-gateway", "8443/TCP") in finding.connections  # App -> Public
    assert Connection("aws-mcp", "internet", "80/TCP") in finding.connections
    assert {c.source for c in finding.connections} == {
        c.name for c in topology.components.values() if c.namespace == "finops-mcp"
    }
    assert [f.policy for f in findings] == ["finops-mcp/allow-out"]


def test_a_pod_no_policy_selects_is_not_isolated(topology: Topology, image_set: ImageSet) -> None:
    manifests = [
        m
        for m in render_manifests(topology, "dev", image_set)
        if not (m["kind"] == "NetworkPolicy" and m["metadata"]["namespace"] == "finops-a2a")
    ]
    findings = [f for f in audit_directions(topology, manifests) if f.pod is not None]
    assert [(f.pod, f.direction) for f in findings] == [
        ("finops-a2a/a2a-gateway", "egress"),
        ("finops-a2a/a2a-gateway", "ingress"),
    ]
    ingress = findings[1]
    assert ingress.describe().startswith(
        "finops-a2a/a2a-gateway is not isolated for ingress (no NetworkPolicy selects it):"
        " it admits"
    )
    assert Connection("cost-agent", "a2a-gateway", "8080/TCP") in ingress.connections  # App -> DMZ


def test_findings_narrow_to_some_connections_and_serialise(
    topology: Topology, image_set: ImageSet
) -> None:
    manifests = render_manifests(topology, "dev", image_set)
    manifests.append(network_policy("finops-data", "allow-everything", ingress=[{}]))
    [finding] = audit_directions(topology, manifests)
    narrowed = finding.only(lambda c: c.destination == "redis")
    assert narrowed is not None
    assert {c.destination for c in narrowed.connections} == {"redis"}
    assert finding.only(lambda c: c.source == "nobody") is None
    data = narrowed.to_json()
    assert data["kind"] == "rule"
    assert data["policy"] == "finops-data/allow-everything"
    assert data["count"] == len(data["connections"]) == len(narrowed.connections)
    assert {"from": "next-app", "to": "redis", "port": "6379/TCP"} in data["connections"]


def test_a_rule_reads_as_its_peers_and_ports() -> None:
    names = {"key": "app", "operator": "In", "values": ["a", "b", "c", "d", "e"]}
    rule = {
        "from": [
            {"ipBlock": {"cidr": "0.0.0.0/0", "except": ["10.244.0.0/16"]}},
            {"podSelector": {"matchLabels": {"role": "web"}}},
            {
                "namespaceSelector": {"matchExpressions": [{"key": "team", "operator": "Exists"}]},
                "podSelector": {"matchExpressions": [names]},
            },
        ],
        "ports": [{"port": "http"}, {"port": 8000, "endPort": 8100}, {"protocol": "UDP"}],
    }
    assert rule_summary(AdmittingRule("shop/web-in", "ingress", 2, rule, False)) == (
        "from: 0.0.0.0/0 except 10.244.0.0/16; pods(role=web) in shop;"
        " pods(app in (a, b, c, +2)) in namespaces(team),"
        " ports: http/TCP, 8000-8100/TCP, any/UDP"
    )
    assert rule_summary(AdmittingRule("shop/out", "egress", 0, {"to": []}, False)) == (
        "to: any, ports: any"
    )
