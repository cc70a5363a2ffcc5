"""The phases of `devenv up`, one module each, listed so that each comes after
the phases it needs (``Phase.needs``); the engine runs them as a graph.

``preflight`` runs first, outside the engine (before the images are built and
the manifests rendered); then each module's ``PHASE`` below.
"""

from __future__ import annotations

from devenv.apply.engine import Phase
from devenv.apply.phases import (
    cert_manager,
    cluster,
    data,
    enforcer,
    images,
    namespaces,
    openbao,
    prefetch,
    registry,
    secrets,
    simulators,
    stubs,
    wait,
)

__all__ = ["PHASES"]

# Each lists the phases it needs; a phase starts as soon as they are done, beside
# any other that is ready (images are pushed to the local registry while kind
# creates the node; simulators, namespaces and secrets are made while the node
# joins the registry; the data layer, OpenBao and cert-manager come up together;
# the gateway's pod alone waits for its certificate).
PHASES: list[Phase] = [
    cluster.PHASE,
    registry.PHASE,
    prefetch.PHASE,
    images.PHASE,
    enforcer.PHASE,
    simulators.PHASE,
    namespaces.PHASE,
    secrets.PHASE,
    data.PHASE,
    openbao.PHASE,
    cert_manager.PHASE,
    stubs.OBJECTS_PHASE,
    stubs.PHASE,
    stubs.HTTPS_PHASE,
    wait.PHASE,
]
