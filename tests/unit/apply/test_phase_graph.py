"""The phases run as a graph: each once its needs are done, independent ones
side by side; a failure starts nothing new and leaves the record of what finished."""

from __future__ import annotations

import threading
import time

import pytest

from devenv.apply.engine import (
    Phase,
    PhaseFailed,
    PhaseResult,
    RunContext,
    UpOptions,
    check_graph,
    run_phases,
)
from devenv.apply.image_routes import ImageRoute
from devenv.apply.phases import PHASES
from devenv.render import render_manifests
from devenv.state import read_record
from devenv.topology.images import ImageSet
from devenv.topology.model import Topology

CONTEXT = "shared-dev"


@pytest.fixture
def run(topology: Topology, image_set: ImageSet) -> RunContext:
    options = UpOptions(profile="dev", images=image_set, context=CONTEXT)
    return RunContext(
        topology, options, image_set, render_manifests(topology, "dev", image_set),
        uid="cluster-1", uid_looked_up=True, record={"cluster_uid": "cluster-1"},
        image_route=ImageRoute("docker-desktop"),
    )  # fmt: skip


class Trace:
    """What the fake phases did, and when (a fake of our own phases, not of a tool)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.spans: dict[str, tuple[float, float]] = {}

    def phase(
        self, name: str, *, needs: tuple[str, ...] = (), seconds: float = 0.2, fail: bool = False
    ) -> Phase:
        def execute(_: RunContext) -> str:
            started = time.monotonic()
            time.sleep(seconds)
            with self.lock:
                self.spans[name] = (started, time.monotonic())
            if fail:
                raise PhaseFailed(name, "it broke", next_command="true")
            return f"{name} done"

        return Phase(name, execute, lambda _: f"inputs of {name}", needs=needs)

    def overlap(self, first: str, second: str) -> bool:
        (a0, a1), (b0, b1) = self.spans[first], self.spans[second]
        return a0 < b1 and b0 < a1

    def before(self, first: str, second: str) -> bool:
        return self.spans[first][1] <= self.spans[second][0]


def test_the_shipped_phases_form_a_graph() -> None:
    check_graph(PHASES)
    needs = {phase.name: set(phase.needs) for phase in PHASES}
    # The injector serves before any stub pod; the gateway's certificate exists
    # before its pod, and only its pod waits for it.
    assert needs["stubs"] == {"openbao", "stub-objects"}
    assert needs["https-stubs"] == {"openbao", "cert-manager", "stub-objects"}
    assert {"stubs", "https-stubs"} <= needs["wait"]
    assert "data" not in needs["openbao"]
    # cert-manager comes up beside the data layer and OpenBao.
    assert needs["cert-manager"] == {"namespaces", "images"}
    assert "openbao" not in needs["data"]
    # Images are pushed to the local registry while kind creates the node.
    assert needs["registry"] == set()
    assert needs["cluster"] == set()
    assert needs["images"] == {"cluster", "registry"}
    assert needs["prefetch"] == {"registry"}  # pulls into the node while kind creates it
    # The simulators join kind's network while the node boots; the policies wait for both.
    assert needs["simulators"] == set()
    assert needs["namespaces"] == {"cluster", "simulators"}


def test_a_phase_listed_before_what_it_needs_is_refused(run: RunContext) -> None:
    trace = Trace()
    with pytest.raises(ValueError, match="needs"):
        check_graph([trace.phase("b", needs=("a",)), trace.phase("a")])


def test_independent_phases_overlap_and_needs_are_kept(run: RunContext) -> None:
    trace = Trace()
    phases = [
        trace.phase("cluster"),
        trace.phase("images", needs=("cluster",), seconds=0.5),
        trace.phase("namespaces", needs=("cluster",)),
        trace.phase("data", needs=("namespaces", "images")),
        trace.phase("openbao", needs=("namespaces", "images")),
    ]
    seen: list[PhaseResult] = []
    results = run_phases(run, phases, seen.append)
    assert [r.name for r in results] == ["cluster", "images", "namespaces", "data", "openbao"]
    assert trace.overlap("images", "namespaces")
    assert trace.overlap("data", "openbao")
    assert trace.before("cluster", "images")
    assert trace.before("images", "data")
    assert all(r.started >= 0 for r in results)
    phases_recorded = read_record(run.topology.cluster.name, CONTEXT)["phases"]
    assert phases_recorded["openbao"] == "inputs of openbao"


def test_a_failure_starts_nothing_new_and_keeps_what_finished(run: RunContext) -> None:
    trace = Trace()
    phases = [
        trace.phase("cluster"),
        trace.phase("images", needs=("cluster",), seconds=0.6),
        trace.phase("namespaces", needs=("cluster",), fail=True),
        trace.phase("data", needs=("namespaces", "images")),
    ]
    with pytest.raises(PhaseFailed, match="it broke"):
        run_phases(run, phases, lambda _: None)
    assert "data" not in trace.spans  # never started
    assert "images" in trace.spans  # running when the other failed: allowed to finish
    recorded = read_record(run.topology.cluster.name, CONTEXT)["phases"]
    assert set(recorded) == {"cluster", "images"}  # the next `up` resumes from there
