"""Phase wait: every component rolled out and ready; runs again whenever an
earlier phase changed something."""

from __future__ import annotations

from devenv.apply.engine import Phase, RunContext, digest
from devenv.apply.waiting import wait_ready

__all__ = ["PHASE"]


def _execute(run: RunContext) -> str:
    names = [c.name for c in run.topology.components.values()]
    wait_ready(run, "wait", names)
    return f"{len(names)} components ready"


PHASE = Phase(
    "wait", _execute, lambda run: digest(run.manifests), confirms=True,
    needs=("enforcer", "data", "stubs", "https-stubs"),
)  # fmt: skip
