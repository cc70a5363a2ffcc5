"""Phase stubs: the stub services, and on a kind cluster the EndpointSlice
that leads each simulator's selector-less Service to the simulator (started
by the simulators phase, outside the cluster on the kind network)."""

from __future__ import annotations

from devenv.apply.engine import Phase, RunContext, digest
from devenv.render import Manifest
from devenv.render.objects import component_of
from devenv.render.simulators import render_simulator_endpoints
from devenv.topology.labels import SIMULATES_LABEL

__all__ = ["PHASE"]


def _manifests(run: RunContext) -> list[Manifest]:
    run.pin_to_environment()
    stubs = {c.name for c in run.topology.components.values() if c.is_stub}
    return [
        *_simulator_endpoints(run),
        *run.select(
            lambda m: component_of(m) in stubs or SIMULATES_LABEL in m["metadata"].get("labels", {})
        ),
    ]


def _simulator_endpoints(run: RunContext) -> list[Manifest]:
    """Each simulator's Service pointed at where it runs (the simulators phase started it)."""
    return [
        render_simulator_endpoints(run.topology, endpoint, str(address))
        for endpoint, spec in run.topology.spec.external.items()
        if (address := spec.simulator_address) is not None
    ]


def _execute(run: RunContext) -> str:
    manifests = _manifests(run)
    run.apply("stubs", manifests)
    deployments = sum(m["kind"] == "Deployment" for m in manifests)
    simulators = sum(m["kind"] == "EndpointSlice" for m in manifests)
    return f"{deployments} stub deployments applied, {simulators} simulator(s) outside the cluster"


# After OpenBao: the injector must serve before the first stub pod is created
# (its webhook fails open, and a pod created then would run without its agent).
PHASE = Phase(
    "stubs", _execute, lambda run: digest(_manifests(run)), _manifests, needs=("openbao",)
)
