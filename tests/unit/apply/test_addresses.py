"""Pinning to the environment: node addresses when the cluster lists them, the
node networks when the user's rights stop at the namespaces (kubectl faked at
the process boundary)."""

from __future__ import annotations

import ipaddress
import json

import pytest
from pytest_subprocess import FakeProcess

from devenv.apply.addresses import pinned_to_environment
from devenv.topology.model import Topology

# shared-dev is not in any kubeconfig here: devenv reads through kubectl.
GET_NODES = ["/usr/bin/kubectl", "--context", "shared-dev", "get", "Node", "-A", "-o", "json"]


@pytest.fixture(autouse=True)
def _programs(programs_in_usr_bin: None) -> None:
    """Every program in /usr/bin."""


def test_the_nodes_addresses_when_they_can_be_listed(fp: FakeProcess, topology: Topology) -> None:
    node = {"status": {"addresses": [{"type": "InternalIP", "address": "10.1.0.7"},
                                     {"type": "InternalIP", "address": "fd00::7"}]}}  # fmt: skip
    fp.register(GET_NODES, stdout=json.dumps({"kind": "List", "items": [node]}))
    pinned = pinned_to_environment(topology, "shared-dev")
    assert pinned.cluster.node_networks == (ipaddress.IPv4Network("10.1.0.7/32"),)


def test_the_node_networks_when_nodes_are_forbidden(fp: FakeProcess, topology: Topology) -> None:
    fp.register(
        GET_NODES, returncode=1,
        stderr='Error from server (Forbidden): nodes is forbidden: User "dev" cannot list'
        ' resource "nodes" in API group "" at the cluster scope',
    )  # fmt: skip
    pinned = pinned_to_environment(topology, "shared-dev")
    assert pinned.cluster.node_networks == topology.cluster.node_cidrs
