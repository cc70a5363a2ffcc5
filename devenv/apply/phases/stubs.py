"""Phase stubs: the stub services, and on a kind cluster each external
endpoint's simulator, run outside the cluster on the kind network behind the
selector-less Service the render gave it."""

from __future__ import annotations

import json

from devenv.apply.engine import Phase, RunContext, digest
from devenv.render import Manifest
from devenv.render.objects import component_of
from devenv.render.simulators import (
    render_simulator_endpoints,
    simulator_config,
    simulator_container,
)
from devenv.tools.docker import KIND_NETWORK, Docker
from devenv.topology.labels import SIMULATES_LABEL

__all__ = ["PHASE"]


def _manifests(run: RunContext) -> list[Manifest]:
    stubs = {c.name for c in run.topology.components.values() if c.is_stub}
    return run.select(
        lambda m: component_of(m) in stubs or SIMULATES_LABEL in m["metadata"].get("labels", {})
    )


def _start_simulators(run: RunContext) -> int:
    docker = Docker()
    started = 0
    for endpoint, external in run.topology.spec.external.items():
        if external.simulator is None:
            continue
        container = simulator_container(run.topology, endpoint)
        docker.run_detached(
            container, run.images.ref("stub-agent"), network=KIND_NETWORK,
            options=["--restart", "unless-stopped", "--user", "0"],
            env={"STUB_CONFIG": json.dumps(simulator_config(run.topology, endpoint))},
        )  # fmt: skip
        address = docker.address(container)
        run.apply("stubs", [render_simulator_endpoints(run.topology, endpoint, address)])
        started += 1
    return started


def _execute(run: RunContext) -> str:
    manifests = _manifests(run)
    simulators = _start_simulators(run) if run.options.context is None else 0
    run.apply("stubs", manifests)
    deployments = sum(m["kind"] == "Deployment" for m in manifests)
    return f"{deployments} stub deployments applied, {simulators} simulator(s) outside the cluster"


PHASE = Phase("stubs", _execute, lambda run: digest(_manifests(run)), _manifests)
