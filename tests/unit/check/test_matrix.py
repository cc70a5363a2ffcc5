"""The rendered policies implement the zone rules exactly, and the check notices when not."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

from devenv.check.matrix import build_matrix
from devenv.render import render_manifests
from devenv.topology.images import ImageSet
from devenv.topology.loader import load_topology
from devenv.topology.model import Topology


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
    assert verdict("kubelet", "redis", "6379/TCP")
    assert verdict("kube-apiserver", "openbao-agent-injector", "8080/TCP")  # the webhook
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
