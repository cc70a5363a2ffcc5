"""When `devenv up` may skip a phase (same inputs, same cluster, nothing missing),
and what its record keeps across a `devenv down --keep-cluster`.

kubectl is faked at its wrapper's methods (tests/unit/apply/conftest.py);
tests/cluster deletes a real object on the live cluster and watches `up` put it
back.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from devenv.apply.engine import Phase, RunContext, UpOptions, can_skip
from devenv.apply.image_routes import ImageRoute
from devenv.apply.phases import PHASES
from devenv.apply.record import forget
from devenv.render import render_manifests
from devenv.state import (
    environment_context,
    read_json,
    read_record,
    record_path,
    state_dir,
    write_private_json,
    write_record,
)
from devenv.topology.images import ImageSet
from devenv.topology.model import Topology
from tests.unit.apply.conftest import ClusterDouble

CONTEXT = "shared-dev"  # an existing cluster, not kind: no Docker to ask
PHASE = {phase.name: phase for phase in PHASES}


@pytest.fixture
def reports() -> list[str]:
    """What `up` told the user."""
    return []


@pytest.fixture
def run(
    topology: Topology, image_set: ImageSet, reports: list[str], cluster: ClusterDouble
) -> RunContext:
    """A run whose record matches the rendered manifests, on a cluster that has them all."""
    options = UpOptions(profile="dev", images=image_set, context=CONTEXT)
    run = RunContext(
        topology, options, image_set, render_manifests(topology, "dev", image_set),
        report=reports.append, uid="cluster-1", uid_looked_up=True,
        record={"cluster_uid": "cluster-1", "phases": {}},
        # A cluster off kind's network: no simulator, so no Docker to ask here.
        image_route=ImageRoute("docker-desktop"),
    )  # fmt: skip
    for phase in PHASES:
        if phase.name not in ("cluster", "images"):
            run.record["phases"][phase.name] = _inputs(run, phase)
    cluster.live = [*run.manifests, *_applied(run, PHASE["secrets"])]  # the Secrets `up` makes
    return run


def _inputs(run: RunContext, phase: Phase) -> str:
    assert phase.inputs_of is not None
    return phase.inputs_of(run)


def _applied(run: RunContext, phase: Phase) -> list[dict[str, object]]:
    assert phase.applies is not None
    return phase.applies(run)


def _skips(run: RunContext, name: str, *, changed: bool = False) -> bool:
    return can_skip(run, PHASE[name], _inputs(run, PHASE[name]), changed=changed)


def test_a_phase_whose_objects_are_all_there_is_skipped(
    run: RunContext, cluster: ClusterDouble, reports: list[str]
) -> None:
    for name in ("namespaces", "data", "openbao", "stubs"):
        assert _skips(run, name), reports
    assert cluster.listings == 1  # listed once per run


def test_an_object_deleted_by_hand_makes_its_phase_run(
    run: RunContext, cluster: ClusterDouble, reports: list[str]
) -> None:
    deleted = next(
        m for m in run.manifests
        if m["kind"] == "NetworkPolicy" and m["metadata"]["namespace"] == "finops-frontend"
    )  # fmt: skip
    cluster.live.remove(deleted)
    assert not _skips(run, "namespaces")
    assert reports == [
        f"namespaces: NetworkPolicy {deleted['metadata']['name']} missing from the cluster:"
        " applying again"
    ]
    assert _skips(run, "stubs", changed=True)


def test_a_secret_deleted_by_hand_makes_the_secrets_phase_run(
    run: RunContext, cluster: ClusterDouble, reports: list[str]
) -> None:
    cluster.live = list(run.manifests)  # no Secret
    assert not _skips(run, "secrets")
    assert reports[0].startswith("secrets: Secret finops-data-credentials")
    assert _skips(run, "data")  # its own objects are all there


def test_the_readiness_wait_runs_after_any_change(run: RunContext) -> None:
    run.record["phases"]["wait"] = _inputs(run, PHASE["wait"])
    assert _skips(run, "wait")
    assert not _skips(run, "wait", changed=True)


def test_a_cluster_that_cannot_be_listed_gets_everything_applied_again(
    run: RunContext, cluster: ClusterDouble, reports: list[str]
) -> None:
    cluster.refuse_listing = "Error from server (Forbidden): clusterroles is forbidden"
    assert not _skips(run, "namespaces")
    assert reports[0].startswith("cannot list what devenv applied (")
    assert "Forbidden" in reports[0]


def test_a_restarted_openbao_makes_its_phase_run(run: RunContext, cluster: ClusterDouble) -> None:
    cluster.openbao_pod = "openbao-pod-uid/1"  # dev mode: a restarted container is empty
    assert not _skips(run, "openbao")


def test_changed_inputs_or_another_cluster_never_skip(run: RunContext) -> None:
    assert not can_skip(run, PHASE["stubs"], "something else", changed=False)
    run.uid = "cluster-2"  # recreated since the record was written
    assert not _skips(run, "stubs")


def test_force_runs_every_phase(run: RunContext) -> None:
    assert _skips(run, "stubs")
    forced = RunContext(
        run.topology, UpOptions(profile="dev", images=run.images, force=True), run.images,
        run.manifests, record=run.record, uid="cluster-1", uid_looked_up=True,
        image_route=run.image_route,
    )  # fmt: skip
    assert not _skips(forced, "stubs")


@pytest.fixture
def recorded(topology: Topology) -> Path:
    """A record as `up` leaves it after creating the cluster."""
    write_record(
        topology.cluster.name,
        "kind-finops-dev",
        {"created_cluster": True, "cluster_uid": "cluster-1",
         "phases": {"namespaces": "abc"}},
    )  # fmt: skip
    return record_path(topology.cluster.name, "kind-finops-dev")


def test_down_keeping_the_cluster_still_remembers_what_up_created(
    topology: Topology, recorded: Path
) -> None:
    forget(topology, "kind-finops-dev", keep_ownership=True)
    assert read_json(recorded) == {
        "context": "kind-finops-dev",
        "created_cluster": True,
    }  # the phases are gone: the next `up` runs them all


def test_down_forgets_everything_otherwise(topology: Topology, recorded: Path) -> None:
    forget(topology, "kind-finops-dev")
    assert not recorded.exists()
    assert environment_context(topology.cluster.name) == "kind-finops-dev"  # the default


def test_each_context_keeps_its_own_record(topology: Topology, recorded: Path) -> None:
    """up on another context, then down there: what the first up created is still known."""
    cluster = topology.cluster.name
    write_record(cluster, "kind-ext", {"cluster_uid": "ext-1", "phases": {"data": "x"}})
    assert environment_context(cluster) == "kind-ext"  # the one up deployed to last
    forget(topology, "kind-ext")
    assert read_record(cluster, "kind-ext") == {}
    assert read_record(cluster, "kind-finops-dev")["created_cluster"] is True
    assert environment_context(cluster) == "kind-finops-dev"


def test_a_record_written_before_records_were_per_context_is_still_read(
    topology: Topology,
) -> None:
    cluster = topology.cluster.name
    legacy = {"context": "kind-finops-dev", "created_cluster": True}
    write_private_json(state_dir(cluster) / "up-record.json", legacy)
    assert read_record(cluster, "kind-finops-dev") == legacy
    assert read_record(cluster, "kind-ext") == {}
    assert environment_context(cluster) == "kind-finops-dev"
    # Another context's first record moves the old one to its own file, never drops it.
    write_record(cluster, "kind-ext", {"phases": {}})
    assert not (state_dir(cluster) / "up-record.json").exists()
    assert read_record(cluster, "kind-finops-dev") == legacy
