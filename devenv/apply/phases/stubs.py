"""Phases stub-objects, stubs and https-stubs: the stub services' Services,
service accounts and the rest as soon as their namespaces exist (and, on a kind
cluster, the EndpointSlice that leads each simulator's selector-less Service to
the simulator, started by the simulators phase outside the cluster on the kind
network); their Deployments, whose pods the injector must see, once it serves;
the HTTPS stubs' (the gateway's) once cert-manager has also issued the
certificate they mount, so the other pods do not wait for it."""

from __future__ import annotations

from devenv.apply.engine import Phase, RunContext, digest
from devenv.render import Manifest
from devenv.render.cert_manager import https_stubs
from devenv.render.objects import component_of
from devenv.render.simulators import render_simulator_endpoints
from devenv.topology.labels import SIMULATES_LABEL

__all__ = ["HTTPS_PHASE", "OBJECTS_PHASE", "PHASE"]


def _all(run: RunContext) -> list[Manifest]:
    run.pin_to_environment()
    stubs = {c.name for c in run.topology.components.values() if c.is_stub}
    return [
        *_simulator_endpoints(run),
        *run.select(
            lambda m: component_of(m) in stubs or SIMULATES_LABEL in m["metadata"].get("labels", {})
        ),
    ]


def _objects(run: RunContext) -> list[Manifest]:
    return [m for m in _all(run) if m["kind"] != "Deployment"]


def _deployments(run: RunContext, *, https: bool = False) -> list[Manifest]:
    """The stubs' Deployments: those serving HTTPS (``https``) or all the others."""
    served = {c.name for c in https_stubs(run.topology)}
    return [
        m
        for m in _all(run)
        if m["kind"] == "Deployment" and (m["metadata"]["name"] in served) == https
    ]


def _https_deployments(run: RunContext) -> list[Manifest]:
    return _deployments(run, https=True)


def _simulator_endpoints(run: RunContext) -> list[Manifest]:
    """Each simulator's Service pointed at where it runs (the simulators phase started it)."""
    return [
        render_simulator_endpoints(run.topology, endpoint, str(address))
        for endpoint, spec in run.topology.spec.external.items()
        if (address := spec.simulator_address) is not None
    ]


def _apply_objects(run: RunContext) -> str:
    manifests = _objects(run)
    run.apply("stub-objects", manifests)
    simulators = sum(m["kind"] == "EndpointSlice" for m in manifests)
    return f"{len(manifests)} objects, {simulators} simulator(s) outside the cluster"


def _apply_deployments(run: RunContext) -> str:
    manifests = _deployments(run)
    run.apply("stubs", manifests)
    return f"{len(manifests)} stub deployments applied"


def _apply_https_deployments(run: RunContext) -> str:
    manifests = _https_deployments(run)
    run.apply("https-stubs", manifests)
    names = ", ".join(m["metadata"]["name"] for m in manifests)
    return f"{names or 'no HTTPS stub'} applied, its certificate issued"


OBJECTS_PHASE = Phase(
    "stub-objects", _apply_objects, lambda run: digest(_objects(run)), _objects,
    needs=("namespaces",),
)  # fmt: skip
# After OpenBao: the injector must serve before the first stub pod is created
# (its webhook fails open, and a pod created then would run without its agent).
PHASE = Phase(
    "stubs", _apply_deployments, lambda run: digest(_deployments(run)), _deployments,
    needs=("openbao", "stub-objects"),
)  # fmt: skip
# After cert-manager too: the gateway mounts the Secret its Certificate writes.
HTTPS_PHASE = Phase(
    "https-stubs", _apply_https_deployments, lambda run: digest(_https_deployments(run)),
    _https_deployments, needs=("openbao", "cert-manager", "stub-objects"),
)  # fmt: skip
