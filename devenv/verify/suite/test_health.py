"""Health (DEV-INF-002): every component Ready, /health and /ready answer 200
through the API server, and readiness follows the database."""

from __future__ import annotations

from collections.abc import Callable

from devenv.tools.process import run
from devenv.verify.status import component_status
from devenv.verify.suite._live import Live

DATABASE = "postgresql-timescaledb"


def test_every_component_is_ready(live: Live) -> None:
    rows = component_status(live.topology, live.context)
    not_ready = [f"{r.component} ({r.ready})" for r in rows if not r.is_ready]
    assert not not_ready, f"not ready: {', '.join(not_ready)}"


def test_health_and_ready_answer_200(live: Live) -> None:
    failures = []
    for component in live.topology.components.values():
        if not component.is_stub:
            continue
        for path in ("/health", "/ready"):
            status, body = live.get(component, path)
            if status != 200:
                failures.append(f"{component.name} {path}: {status} {str(body)[:120]}")
    assert not failures, "\n".join(failures)


def test_readiness_follows_the_database(
    live: Live, record_property: Callable[[str, object], None]
) -> None:
    dependents = [
        c.name for c in live.topology.components.values() if c.is_stub and DATABASE in c.calls
    ][:3]
    assert dependents, f"no stub calls {DATABASE}: there is no readiness to watch"
    database = live.topology.components[DATABASE]
    scale = ["scale", "-n", database.namespace, f"statefulset/{DATABASE}"]
    run(live.kubectl.argv(*scale, "--replicas=0"), timeout=60)
    try:
        down = live.wait_ready(dependents, ready=False, timeout=90)
    finally:
        run(live.kubectl.argv(*scale, "--replicas=1"), timeout=60)
    up = live.wait_ready([DATABASE, *dependents], timeout=180)
    record_property("not_ready_after_s", round(down, 1))
    record_property("ready_again_after_s", round(up, 1))
    print(
        f"readiness: false {down:.1f}s after the database stopped, true {up:.1f}s after it returned"
    )
