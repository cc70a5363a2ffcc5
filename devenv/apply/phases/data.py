"""Phase data: TimescaleDB and Redis, ready (their credentials come from the
secrets phase)."""

from __future__ import annotations

from devenv.apply.engine import Phase, RunContext, digest
from devenv.apply.waiting import wait_ready
from devenv.render import Manifest

__all__ = ["DATA_COMPONENTS", "PHASE"]

DATA_COMPONENTS = ("postgresql-timescaledb", "redis")


def _objects(run: RunContext) -> list[Manifest]:
    return run.objects_of(DATA_COMPONENTS)


def _execute(run: RunContext) -> str:
    run.apply("data", _objects(run))
    wait_ready(run, "data", list(DATA_COMPONENTS))
    return "TimescaleDB and Redis ready"


PHASE = Phase(
    "data", _execute, lambda run: digest(_objects(run)), _objects, needs=("secrets", "images")
)
