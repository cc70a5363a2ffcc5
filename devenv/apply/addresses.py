"""What only a running environment knows, read from it: its nodes' addresses
and where each external endpoint's simulator runs. NetworkPolicies name them
(node rules admit the nodes alone; cloud-API egress excludes private ranges,
kind's network among them, but admits the simulator), so `up`, `policy --live`
and test-integration evaluate the topology pinned to them."""

from __future__ import annotations

import ipaddress

from devenv.errors import CommandFailed, ToolError
from devenv.render.simulators import simulated_endpoints, simulator_container
from devenv.tools.docker import Docker
from devenv.tools.kubectl import Kubectl
from devenv.topology.model import Topology

__all__ = ["pinned_to_environment", "simulator_addresses"]


def simulator_addresses(topology: Topology, context: str) -> dict[str, ipaddress.IPv4Address]:
    """{endpoint: address} of the simulators running beside the kind cluster of
    ``context`` (none for a cluster elsewhere)."""
    if not context.startswith("kind-"):
        return {}  # simulators run only beside kind clusters, on kind's network
    docker = Docker()
    found = {}
    for endpoint in simulated_endpoints(topology):
        try:
            address = docker.running_address(simulator_container(topology, endpoint, context))
        except ToolError:  # no Docker here: an existing cluster seen from afar
            return {}
        if address:
            found[endpoint] = ipaddress.IPv4Address(address)
    return found


def pinned_to_environment(topology: Topology, context: str) -> Topology:
    """The topology pinned to the environment's node addresses and, when it runs
    them (a kind cluster), its simulators' addresses. Rights in the environment's
    namespaces alone do not list nodes: then the node rules keep the node networks."""
    try:
        nodes = Kubectl(context).node_addresses()
    except CommandFailed:
        nodes = []
    return topology.pinned(
        node_addresses=nodes, simulator_addresses=simulator_addresses(topology, context)
    )
