"""The phases of `devenv up`, one module each, in the order they run.

``preflight`` runs first, outside the engine (before the images are built and
the manifests rendered); then each module's ``PHASE`` below.
"""

from __future__ import annotations

from devenv.apply.engine import Phase
from devenv.apply.phases import (
    cluster,
    data,
    enforcer,
    images,
    namespaces,
    openbao,
    simulators,
    stubs,
    wait,
)

__all__ = ["PHASES"]

PHASES: list[Phase] = [
    cluster.PHASE,
    images.PHASE,
    enforcer.PHASE,
    simulators.PHASE,
    namespaces.PHASE,
    data.PHASE,
    openbao.PHASE,
    stubs.PHASE,
    wait.PHASE,
]
