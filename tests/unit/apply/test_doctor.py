"""`devenv doctor` verdicts from hand-written facts."""

from __future__ import annotations

import pytest

from devenv.apply.doctor import Check, Facts, evaluate
from devenv.apply.engine import UpOptions
from devenv.apply.phases.preflight import preflight
from devenv.errors import ConfigError
from devenv.tools.docker import Docker
from devenv.tools.install import ToolReport
from devenv.topology.images import ImageSet, resolve_images
from devenv.topology.model import Topology

GOOD_DOCKER = {"ServerVersion": "28.2", "NCPU": 8, "MemTotal": 16 * 2**30}
GOOD_TOOLS = {
    "kind": ToolReport("kind", "/usr/local/bin/kind", "0.30.0", "PATH", usable=True),
    "kubectl": ToolReport("kubectl", "/usr/bin/kubectl", "1.34.1", "PATH", usable=True),
}
MISSING_KIND = ToolReport("kind", None, None, "missing", usable=False)


def _facts(**changes: object) -> Facts:
    facts = Facts(
        docker=dict(GOOD_DOCKER), versions={"tilt": "v0.35.0, built 2025-06-01"},
        tools=dict(GOOD_TOOLS), host="linux-amd64", cgroup_v2=True,
        inotify_watches=524288, inotify_instances=512, nft_queue=True, kernel="6.8",
    )  # fmt: skip
    for key, value in changes.items():
        setattr(facts, key, value)
    return facts


def _checks(facts: Facts, topology: Topology, images: ImageSet) -> dict[str, Check]:
    return {c.name: c for c in evaluate(facts, topology, "dev", images)}


def _failed(facts: Facts, topology: Topology, images: ImageSet) -> dict[str, str]:
    return {c.name: c.hint for c in evaluate(facts, topology, "dev", images) if c.failed}


def test_a_good_machine_passes(topology: Topology, image_set: ImageSet) -> None:
    assert _failed(_facts(), topology, image_set) == {}


@pytest.mark.parametrize(
    ("name", "facts"),
    [
        ("docker engine", _facts(docker=None, docker_error="Cannot connect to the Docker daemon")),
        ("docker resources", _facts(docker={**GOOD_DOCKER, "NCPU": 0, "MemTotal": 2**30})),
        ("kind", _facts(tools={**GOOD_TOOLS, "kind": MISSING_KIND}, host="windows-amd64")),
        ("host ports", _facts(busy_ports=[8443])),
        ("inotify limits", _facts(inotify_watches=8192)),
    ],
)
def test_each_problem_fails_with_a_hint(
    topology: Topology, image_set: ImageSet, name: str, facts: Facts
) -> None:
    failed = _failed(facts, topology, image_set)
    assert name in failed
    assert failed[name], f"{name} has no fix hint"


def test_a_missing_kind_is_installed_by_up_where_devenv_has_its_checksum(
    topology: Topology, image_set: ImageSet
) -> None:
    check = _checks(_facts(tools={**GOOD_TOOLS, "kind": MISSING_KIND}), topology, image_set)["kind"]
    assert check.ok
    assert "`devenv up` installs kind v0.30.0 (checksum-verified)" in check.detail
    assert "releases/download/v0.30.0/kind-linux-amd64" in check.hint  # the manual way


def test_a_missing_tilt_is_a_warning_not_a_failure(topology: Topology, image_set: ImageSet) -> None:
    check = _checks(_facts(versions={"tilt": None}), topology, image_set)["tilt"]
    assert (check.ok, check.warning, check.failed) == (False, True, False)
    assert "docs.tilt.dev" in check.hint


def test_policy_enforcement_names_the_enforcer_up_chooses(
    topology: Topology, image_set: ImageSet
) -> None:
    lacking = _checks(_facts(nft_queue=False), topology, image_set)["policy enforcement"]
    assert lacking.ok
    assert "--policy-enforcer kube-router" in lacking.detail
    having = _checks(_facts(nft_queue=True), topology, image_set)["policy enforcement"]
    assert "--policy-enforcer kindnet" in having.detail


def test_cgroup_v1_only_fails_for_kubernetes_1_35(topology: Topology, image_set: ImageSet) -> None:
    assert "cgroup version" not in _failed(_facts(cgroup_v2=False), topology, image_set)
    newer = resolve_images(None, {"DEVENV_IMAGE_KIND_NODE": "kindest/node:v1.35.0"})
    assert "cgroup version" in _failed(_facts(cgroup_v2=False), topology, newer)


CONTAINERD_INFO = {**GOOD_DOCKER, "Driver": "overlayfs",
                   "DriverStatus": [["driver-type", "io.containerd.snapshotter.v1"]]}  # fmt: skip
CLASSIC_INFO = {
    **GOOD_DOCKER,
    "Driver": "overlay2",
    "DriverStatus": [["Backing Filesystem", "xfs"]],
}


def test_the_containerd_image_store_is_named_with_what_up_does_about_it(
    topology: Topology, image_set: ImageSet
) -> None:
    store = _checks(_facts(docker=CONTAINERD_INFO), topology, image_set)["image store"]
    assert "containerd image store" in store.detail
    assert "local registry" in store.detail
    classic = _checks(_facts(docker=CLASSIC_INFO), topology, image_set)["image store"]
    assert "classic" in classic.detail


def test_no_registry_is_refused_on_the_containerd_store(
    image_set: ImageSet, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(Docker, "info", lambda _: dict(CONTAINERD_INFO))
    monkeypatch.setattr(Docker, "ping", lambda _: None)
    monkeypatch.setattr("devenv.apply.phases.preflight.require_program", lambda name: name)
    with pytest.raises(ConfigError, match="--no-registry: Docker uses the containerd image store"):
        preflight(UpOptions(profile="dev", images=image_set, registry=False))
