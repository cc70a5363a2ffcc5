"""Network policies, probed live from every stub to every component port, the
internet and the cloud APIs, compared cell by cell with `devenv policy`."""

from __future__ import annotations

import ipaddress
import json
import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import replace

import pytest

from devenv.apply.addresses import pinned_to_environment
from devenv.apply.up import foreign_policies
from devenv.check.direction_audit import DirectionFinding, audit_directions
from devenv.check.matrix import POLICY_INPUT_KINDS, Cell, build_matrix
from devenv.render import render_manifests
from devenv.render.simulators import kind_cluster_of
from devenv.tools.process import run
from devenv.topology.images import ImageSet
from devenv.topology.model import Topology
from devenv.topology.peers import DestPort, Endpoint
from devenv.verify.live_matrix import (
    CellKey,
    compare,
    control_cells,
    enforcement_problem,
    render_report,
)
from devenv.verify.suite._live import (
    NODE_NETWORK_HOST,
    Live,
    probe_from_node_network_host,
    start_external_endpoints,
    start_node_network_host,
    stop_external_endpoints,
)

REPROBES = 2  # more looks at a cell that differs from `devenv policy`
REPROBE_PAUSE_SECONDS = 3.0
Rows = dict[str, list[tuple[str, str, str]]]  # source -> (destination, port, number)


def _pinned(live: Live, internet: str) -> Topology:
    """The topology as this environment runs it: its nodes, its simulator, and the
    internet's probe address on the listener this test started."""
    topology = pinned_to_environment(live.topology, live.context)
    simulator = topology.spec.external["cloud-apis"].simulator_address
    probes = {"internet": internet}
    if simulator is not None:  # beside a kind cluster: it listens on 443
        probes["cloud-apis"] = str(simulator)
    spec = topology.spec
    external = {
        name: endpoint.model_copy(update={"probe_address": ipaddress.IPv4Address(probes[name])})
        if name in probes
        else endpoint
        for name, endpoint in spec.external.items()
    }
    return replace(topology, spec=spec.model_copy(update={"external": external}))


def _where_each_destination_is(
    live: Live, topology: Topology, addresses: dict[str, str]
) -> dict[str, str]:
    """The address each destination really has: pods, the listeners, the simulator."""
    where = {"internet": addresses["internet"], "private-host": addresses["private-host"]}
    if topology.spec.external["cloud-apis"].simulator_address is not None:
        where["cloud-apis"] = str(topology.spec.external["cloud-apis"].probe_address)
    for component in topology.components.values():
        pods = live.pods(component)
        if pods:
            where[component.name] = pods[0]["status"].get("podIP", "")
    unplaced = [c.name for c in topology.components.values() if not where.get(c.name)]
    assert not unplaced, f"no pod IP for {', '.join(unplaced)}: their cells would go unprobed"
    dns = live.kubectl.get_json("pods", "-n", "kube-system", "-l", "k8s-app=kube-dns")["items"]
    if dns:
        where["kube-dns"] = dns[0]["status"]["podIP"]
    return where


def test_policies_match_devenv_policy(
    live: Live, profile: str, images: ImageSet, record_property: Callable[[str, object], None]
) -> None:
    if not live.context.startswith("kind-"):
        pytest.skip(
            "the matrix is probed from containers on kind's Docker network: run"
            " `devenv test-integration` against a kind cluster for this part"
        )
    started = time.monotonic()
    gateway = live.topology.components["api-gateway"]
    image = live.pods(gateway)[0]["spec"]["containers"][0]["image"]
    prefix = f"devenv-it-{os.getpid()}"
    addresses = start_external_endpoints("kind", image, prefix)
    try:
        stranger = start_node_network_host(
            "kind", f"{kind_cluster_of(live.topology, live.context)}-control-plane", prefix
        )
        topology = _pinned(live, addresses["internet"])
        # Two hosts on the nodes' network that are not nodes: one connects in (to no
        # data port), one listens on 443 (a private address: no cloud-API egress).
        extra = [
            Endpoint(NODE_NETWORK_HOST, "external", address=ipaddress.IPv4Address(stranger),
                     is_destination=False),
            Endpoint("private-host", "external", ports=(DestPort(443),),
                     address=ipaddress.IPv4Address(addresses["private-host"]), is_source=False),
        ]  # fmt: skip
        matrix = build_matrix(topology, render_manifests(topology, profile, images), extra)
        where = _where_each_destination_is(live, topology, addresses)
        stubs = {c.name: c for c in topology.components.values() if c.is_stub}
        rows: dict[str, list[tuple[str, str, str]]] = {}
        for cell in matrix.cells:
            number, protocol = cell.port.split("/")
            probed_from = cell.source in stubs or cell.source == NODE_NETWORK_HOST
            if not probed_from or protocol != "TCP" or not where.get(cell.destination):
                continue  # stubs and the stranger carry the probe; TCP only; no API server
            rows.setdefault(cell.source, []).append((cell.destination, cell.port, number))

        def probe(rows: Rows) -> dict[CellKey, bool]:
            stranger_row = rows.get(NODE_NETWORK_HOST, [])
            probes = live.probe_rows(
                (stubs[source], [(where[d], int(n)) for d, _, n in targets])
                for source, targets in rows.items()
                if source != NODE_NETWORK_HOST
            )
            if stranger_row:
                probes[NODE_NETWORK_HOST] = probe_from_node_network_host(
                    prefix,
                    pod_network=str(topology.cluster.pod_cidrs[0]),
                    via_node=str(topology.cluster.node_addresses[0]),
                    targets=[(where[d], int(n)) for d, _, n in stranger_row],
                )
            return {
                (source, destination, port): result
                for source, targets in rows.items()
                for (destination, port, _), result in zip(targets, probes[source], strict=True)
            }

        observed = probe(rows)
        transient = _probe_differing_again(matrix.cells, observed, probe)
    finally:
        stop_external_endpoints(prefix)
    stranger_cells = [k for k in observed if k[0] == NODE_NETWORK_HOST]
    data_ports = {
        (c.name, f"{p.port}/{p.protocol}")
        for c in topology.components.values() if c.zone == "data" for p in c.ports
    }  # fmt: skip
    # A node rule that admitted whole private ranges would open these to any container
    # on the nodes' network: each must be expected blocked, and probed.
    assert data_ports <= {(d, p) for _, d, p in stranger_cells}, "some data port went unprobed"
    assert not [c for c in matrix.cells if c.source == NODE_NETWORK_HOST and c.expected
                and (c.destination, c.port) in data_ports]  # fmt: skip
    controls = control_cells(matrix.cells, set(rows))
    problem = enforcement_problem(controls, observed)
    if problem:
        pytest.fail(problem, pytrace=False)
    mismatches = compare(matrix.cells, observed)
    print(render_report(observed, mismatches))
    for flicker in transient:
        print(f"transient, as expected when probed again: {flicker}")
    elapsed = time.monotonic() - started
    record_property("cells_probed", len(observed))
    record_property("transient_cells", len(transient))
    record_property("seconds", round(elapsed, 1))
    assert not mismatches, "\n".join(str(m) for m in mismatches)


def _probe_differing_again(
    cells: Sequence[Cell],
    observed: dict[CellKey, bool],
    probe: Callable[[Rows], dict[CellKey, bool]],
) -> list[str]:
    """An enforcer rebuilding its rules (kube-router resyncs every policy when a pod
    is replaced, as the test before this one does to PostgreSQL) can let a packet
    through for a moment: each cell that differs from `devenv policy` is probed
    again, and only one that differs every time stays a mismatch in ``observed``.
    Returns the transient ones, to be reported."""
    transient: list[str] = []
    for _ in range(REPROBES):
        differing = compare(cells, observed)
        if not differing:
            break
        time.sleep(REPROBE_PAUSE_SECONDS)
        again: Rows = {}
        for mismatch in differing:
            number = mismatch.port.split("/")[0]
            again.setdefault(mismatch.source, []).append(
                (mismatch.destination, mismatch.port, number)
            )
        observed.update(probe(again))
        still = {(m.source, m.destination, m.port) for m in compare(cells, observed)}
        transient += [str(m) for m in differing if (m.source, m.destination, m.port) not in still]
    return transient


_ALLOW_EVERYTHING = {
    "apiVersion": "networking.k8s.io/v1",
    "kind": "NetworkPolicy",
    "metadata": {"name": "it-allow-everything", "namespace": "finops-data"},
    # The whole Data Zone open to every source: no probe sees it while every
    # source's egress still blocks, so only the per-direction audit can.
    "spec": {"podSelector": {}, "policyTypes": ["Ingress"], "ingress": [{}]},
}


def _live_audit(live: Live) -> list[DirectionFinding]:
    topology = pinned_to_environment(live.topology, live.context)
    objects = live.kubectl.read_namespaces(
        list(live.topology.namespaces), containing=POLICY_INPUT_KINDS
    )
    return audit_directions(topology, objects)


def test_each_side_holds_on_its_own_and_every_policy_is_devenvs(live: Live) -> None:
    findings = _live_audit(live)
    assert not findings, "\n".join(f.describe() for f in findings)
    assert foreign_policies(live.topology, live.context) == []


def test_a_hand_added_allow_all_policy_is_named(live: Live) -> None:
    live.kubectl.apply(json.dumps(_ALLOW_EVERYTHING))
    qualified = "finops-data/it-allow-everything"
    try:
        named = {f.policy for f in _live_audit(live)}
        assert qualified in named
        assert foreign_policies(live.topology, live.context) == [qualified]
        # And as a user sees it: `devenv policy --live --check` fails naming it.
        argv = [sys.executable, "-m", "devenv", "policy", "--live", "--check"]
        cli = run([*argv, "--context", live.context], check=False, timeout=120)
        assert cli.returncode == 1, cli.stderr
        assert f"{qualified} ingress[0]" in cli.stdout + cli.stderr
    finally:
        live.kubectl.run(
            "delete", "networkpolicy", "-n", "finops-data", "it-allow-everything",
            "--ignore-not-found",
        )  # fmt: skip
