"""Network policies, probed live from every stub to every component port, the
internet and the cloud APIs, compared cell by cell with `devenv policy`."""

from __future__ import annotations

import ipaddress
import os
import time
from collections.abc import Callable
from dataclasses import replace

import pytest

from devenv.check.matrix import build_matrix
from devenv.render import render_manifests
from devenv.topology.images import ImageSet
from devenv.topology.model import Topology
from devenv.verify.live_matrix import compare, control_cells, enforcement_problem, render_report
from devenv.verify.suite._live import Live, start_external_endpoints, stop_external_endpoints


def _with_external_addresses(live: Live, addresses: dict[str, str]) -> Topology:
    spec = live.topology.spec
    external = {
        name: endpoint.model_copy(update={"probe_address": ipaddress.IPv4Address(addresses[name])})
        if name in addresses
        else endpoint
        for name, endpoint in spec.external.items()
    }
    return replace(live.topology, spec=spec.model_copy(update={"external": external}))


def test_policies_match_devenv_policy(
    live: Live, profile: str, images: ImageSet, record_property: Callable[[str, object], None]
) -> None:
    started = time.monotonic()
    gateway = live.topology.components["api-gateway"]
    image = live.pods(gateway)[0]["spec"]["containers"][0]["image"]
    prefix = f"devenv-it-{os.getpid()}"
    addresses = start_external_endpoints("kind", image, prefix)
    try:
        topology = _with_external_addresses(live, addresses)
        matrix = build_matrix(topology, render_manifests(topology, profile, images))
        # Where each destination really is.
        where: dict[str, str] = dict(addresses)
        for component in topology.components.values():
            pods = live.pods(component)
            if pods:
                where[component.name] = pods[0]["status"].get("podIP", "")
        unplaced = [c.name for c in topology.components.values() if not where.get(c.name)]
        assert not unplaced, f"no pod IP for {', '.join(unplaced)}: their cells would go unprobed"
        dns = live.kubectl.get_json("pods", "-n", "kube-system", "-l", "k8s-app=kube-dns")["items"]
        if dns:
            where["kube-dns"] = dns[0]["status"]["podIP"]
        stubs = {c.name: c for c in topology.components.values() if c.is_stub}
        rows: dict[str, list[tuple[str, str, str]]] = {}
        for cell in matrix.cells:
            number, protocol = cell.port.split("/")
            if cell.source not in stubs or protocol != "TCP" or not where.get(cell.destination):
                continue  # only stubs carry the probe; TCP only; the API server is not probed
            rows.setdefault(cell.source, []).append((cell.destination, cell.port, number))
        probes = live.probe_rows(
            (stubs[source], [(where[d], int(n)) for d, _, n in targets])
            for source, targets in rows.items()
        )
        observed = {
            (source, destination, port): result
            for source, targets in rows.items()
            for (destination, port, _), result in zip(targets, probes[source], strict=True)
        }
    finally:
        stop_external_endpoints(prefix)
    controls = control_cells(matrix.cells, set(rows))
    problem = enforcement_problem(controls, observed)
    if problem:
        pytest.fail(problem, pytrace=False)
    mismatches = compare(matrix.cells, observed)
    print(render_report(observed, mismatches))
    elapsed = time.monotonic() - started
    record_property("cells_probed", len(observed))
    record_property("seconds", round(elapsed, 1))
    assert not mismatches, "\n".join(str(m) for m in mismatches)
