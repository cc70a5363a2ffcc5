"""`devenv doctor` verdicts from hand-written facts."""

from __future__ import annotations

from devenv.apply.doctor import Facts, evaluate
from devenv.topology.images import ImageSet, resolve_images
from devenv.topology.model import Topology

GOOD_DOCKER = {"ServerVersion": "28.2", "NCPU": 8, "MemTotal": 16 * 2**30}
GOOD_VERSIONS = {
    "kind": "kind v0.30.0 go1.24 linux/amd64",
    "kubectl": "Client Version: v1.34.1",
    "tilt": "v0.35.0, built 2025-06-01",
}


def _facts(**changes: object) -> Facts:
    facts = Facts(
        docker=dict(GOOD_DOCKER), versions=dict(GOOD_VERSIONS), cgroup_v2=True,
        inotify_watches=524288, inotify_instances=512, nft_queue=True, kernel="6.8",
    )  # fmt: skip
    for key, value in changes.items():
        setattr(facts, key, value)
    return facts


def _failed(facts: Facts, topology: Topology, images: ImageSet) -> dict[str, str]:
    return {c.name: c.hint for c in evaluate(facts, topology, "dev", images) if not c.ok}


def test_a_good_machine_passes(topology: Topology, image_set: ImageSet) -> None:
    assert _failed(_facts(), topology, image_set) == {}


def test_each_problem_fails_with_a_hint(topology: Topology, image_set: ImageSet) -> None:
    cases = {
        "docker engine": _facts(docker=None, docker_error="Cannot connect to the Docker daemon"),
        "docker resources": _facts(docker={**GOOD_DOCKER, "NCPU": 0, "MemTotal": 2**30}),
        "kind": _facts(versions={**GOOD_VERSIONS, "kind": "kind v0.20.0"}),
        "tilt": _facts(versions={**GOOD_VERSIONS, "tilt": None}),
        "host ports": _facts(busy_ports=[8443]),
        "inotify limits": _facts(inotify_watches=8192),
        "policy enforcement (kernel)": _facts(nft_queue=False),
    }
    for name, facts in cases.items():
        failed = _failed(facts, topology, image_set)
        assert name in failed, name
        assert failed[name], f"{name} has no fix hint"


def test_cgroup_v1_only_fails_for_kubernetes_1_35(topology: Topology, image_set: ImageSet) -> None:
    assert "cgroup version" not in _failed(_facts(cgroup_v2=False), topology, image_set)
    newer = resolve_images(None, {"DEVENV_IMAGE_KIND_NODE": "kindest/node:v1.35.0"})
    assert "cgroup version" in _failed(_facts(cgroup_v2=False), topology, newer)
