"""When `devenv up` may skip a phase (same inputs, same cluster, nothing missing),
and what its record keeps across a `devenv down --keep-cluster`.

kubectl is faked (pytest-subprocess), the one boundary these tests do not own;
tests/cluster deletes a real object on the live cluster and watches `up` put it
back.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pytest_subprocess import FakeProcess

from devenv._images import ImageSet
from devenv._state import read_json, write_private_json
from devenv._topology import Topology
from devenv._up import (
    MANAGED,
    PHASES,
    UpOptions,
    _can_skip,
    _Run,
    _secret_manifests,
    forget,
    record_path,
)
from devenv.render import Manifest, render_manifests

CONTEXT = "kind-test"
PHASE = {phase.name: phase for phase in PHASES}


@pytest.fixture
def reports() -> list[str]:
    """What `up` told the user."""
    return []


@pytest.fixture
def run_(
    topology: Topology,
    image_set: ImageSet,
    reports: list[str],
    monkeypatch: pytest.MonkeyPatch,
    fp: FakeProcess,
) -> _Run:
    monkeypatch.setattr("devenv._process.shutil.which", lambda name, path=None: f"/usr/bin/{name}")
    # The OpenBao pod the openbao phase's inputs name: the same one all along.
    openbao_pods = ["/usr/bin/kubectl", "--context", CONTEXT, "get", "pods"]
    fp.register([*openbao_pods, fp.any()], stdout="openbao-pod-uid/0 ", occurrences=100)
    options = UpOptions(profile="dev", images=image_set, context=CONTEXT)
    run_ = _Run(topology, options, report=reports.append)
    run_.images = image_set
    run_.manifests = render_manifests(topology, "dev", image_set)
    run_.uid, run_.uid_looked_up = "cluster-1", True
    run_.record = {"cluster_uid": "cluster-1", "phases": {}}
    for phase in PHASES:
        if phase.inputs_of is not None and phase.name not in ("cluster", "images"):
            run_.record["phases"][phase.name] = phase.inputs_of(run_)
    return run_


def _listing_argv(run_: _Run) -> list[str]:
    kinds = ",".join(sorted({str(m["kind"]) for m in run_.manifests} | {"Secret"}))
    return ["/usr/bin/kubectl", "--context", CONTEXT, "get", kinds, "-A", "-l", MANAGED]


def _live(manifests: list[Manifest]) -> str:
    items: list[dict[str, Any]] = [
        {"kind": m["kind"], "metadata": dict(m["metadata"])} for m in manifests
    ]
    return json.dumps({"items": items})


def _inputs(run_: _Run, name: str) -> str:
    inputs_of = PHASE[name].inputs_of
    assert inputs_of is not None
    return inputs_of(run_)


def test_a_phase_whose_objects_are_all_there_is_skipped(
    run_: _Run, fp: FakeProcess, reports: list[str]
) -> None:
    everything = [*run_.manifests, *_secret_manifests(run_)]
    fp.register([*_listing_argv(run_), "-o", "json"], stdout=_live(everything))
    for name in ("namespaces", "data", "openbao", "stubs"):
        assert _can_skip(run_, PHASE[name], _inputs(run_, name), changed=False), reports
    assert fp.call_count([*_listing_argv(run_), "-o", "json"]) == 1  # listed once per run


def test_an_object_deleted_by_hand_makes_its_phase_run(
    run_: _Run, fp: FakeProcess, reports: list[str]
) -> None:
    deleted = next(
        m for m in run_.manifests
        if m["kind"] == "NetworkPolicy" and m["metadata"]["namespace"] == "finops-frontend"
    )  # fmt: skip
    live = [m for m in run_.manifests if m is not deleted]
    fp.register([*_listing_argv(run_), "-o", "json"], stdout=_live(live))
    assert not _can_skip(run_, PHASE["namespaces"], _inputs(run_, "namespaces"), changed=False)
    assert reports == [
        f"namespaces: NetworkPolicy {deleted['metadata']['name']} missing from the cluster:"
        " applying again"
    ]
    assert _can_skip(run_, PHASE["stubs"], _inputs(run_, "stubs"), changed=True)


def test_a_secret_deleted_by_hand_makes_the_data_phase_run(
    run_: _Run, fp: FakeProcess, reports: list[str]
) -> None:
    fp.register([*_listing_argv(run_), "-o", "json"], stdout=_live(run_.manifests))
    assert not _can_skip(run_, PHASE["data"], _inputs(run_, "data"), changed=False)
    assert reports[0].startswith("data: Secret finops-data-credentials")


def test_the_readiness_wait_runs_after_any_change(run_: _Run) -> None:
    wait_inputs = _inputs(run_, "wait")
    run_.record["phases"]["wait"] = wait_inputs
    assert _can_skip(run_, PHASE["wait"], wait_inputs, changed=False)
    assert not _can_skip(run_, PHASE["wait"], wait_inputs, changed=True)


def test_a_cluster_that_cannot_be_listed_gets_everything_applied_again(
    run_: _Run, fp: FakeProcess, reports: list[str]
) -> None:
    fp.register(
        [*_listing_argv(run_), "-o", "json"],
        returncode=1, stderr="Error from server (Forbidden): clusterroles is forbidden\n",
    )  # fmt: skip
    assert not _can_skip(run_, PHASE["namespaces"], _inputs(run_, "namespaces"), changed=False)
    assert reports[0].startswith("cannot list what devenv applied (")
    assert "Forbidden" in reports[0]


def test_a_restarted_openbao_makes_its_phase_run(run_: _Run, fp: FakeProcess) -> None:
    recorded = _inputs(run_, "openbao")
    with fp.context() as restarted:
        restarted.register(
            ["/usr/bin/kubectl", "--context", CONTEXT, "get", "pods", fp.any()],
            stdout="openbao-pod-uid/1 ",  # dev mode: a restarted container is empty
        )
        assert _inputs(run_, "openbao") != recorded


def test_changed_inputs_or_another_cluster_never_skip(run_: _Run) -> None:
    inputs = _inputs(run_, "stubs")
    assert not _can_skip(run_, PHASE["stubs"], "something else", changed=False)
    run_.uid = "cluster-2"  # recreated since the record was written
    assert not _can_skip(run_, PHASE["stubs"], inputs, changed=False)


@pytest.fixture
def recorded(topology: Topology) -> Path:
    """A record as `up` leaves it after creating the cluster and the registry."""
    write_private_json(
        record_path(topology),
        {
            "context": "kind-finops-dev", "created_cluster": True, "created_registry": True,
            "cluster_uid": "cluster-1", "phases": {"namespaces": "abc"},
        },
    )  # fmt: skip
    return record_path(topology)


def test_down_keeping_the_cluster_still_remembers_what_up_created(
    topology: Topology, recorded: Path
) -> None:
    forget(topology, keep_ownership=True)
    assert read_json(recorded) == {
        "context": "kind-finops-dev",
        "created_cluster": True,
        "created_registry": True,
    }  # the phases are gone: the next `up` runs them all


def test_down_forgets_everything_otherwise(topology: Topology, recorded: Path) -> None:
    forget(topology)
    assert not recorded.exists()
