"""`devenv down` with the cluster already gone, and the local registry: kept as the
next `up`'s image cache, removed by --purge only when devenv started it. Docker
and kind are faked at their command lines (programs in /usr/bin)."""

from __future__ import annotations

import json

import pytest
from pytest_subprocess import FakeProcess

from devenv.apply.down import run_down
from devenv.topology.model import Topology

DOCKER = "/usr/bin/docker"
INSPECT_REGISTRY = [DOCKER, "container", "inspect", "--format", "{{json .}}", "kind-registry"]


def _registry(labels: dict[str, str]) -> str:
    """The registry container as `docker container inspect` prints it (what down reads)."""
    return json.dumps({"Id": "c0ffee", "State": {"Running": True}, "Config": {"Labels": labels}})


@pytest.fixture(autouse=True)
def _no_cluster(fp: FakeProcess, programs_in_usr_bin: None) -> None:
    fp.register([DOCKER, "rm", "-f", fp.any()])  # the simulator, if any
    fp.register([DOCKER, "volume", "rm", fp.any()], occurrences=2)  # TLS and token volumes
    fp.register(["/usr/bin/kind", "get", "clusters"], stdout="other\n", occurrences=2)


def test_a_second_down_finds_nothing_and_keeps_the_registry(
    fp: FakeProcess, topology: Topology
) -> None:
    fp.register(INSPECT_REGISTRY, stdout=_registry({}))
    lines = list(run_down(topology, context=None, keep_cluster=False))
    assert lines == [
        "kept the local registry kind-registry (an image cache; --purge removes it)",
        "no kind cluster finops-dev: nothing else to remove",
    ]


def test_purge_removes_the_registry_devenv_started(fp: FakeProcess, topology: Topology) -> None:
    fp.register(INSPECT_REGISTRY, stdout=_registry({"finops.io/environment": "finops-devenv"}))
    fp.register([DOCKER, "rm", "-f", "-v", "kind-registry"])
    lines = list(run_down(topology, context=None, keep_cluster=False, purge=True))
    assert lines[0] == "removed the local registry kind-registry and its images (--purge)"
    assert [DOCKER, "rm", "-f", "-v", "kind-registry"] in fp.calls


def test_purge_keeps_a_registry_someone_else_started(fp: FakeProcess, topology: Topology) -> None:
    fp.register(INSPECT_REGISTRY, stdout=_registry({"app": "someone-else"}))
    lines = list(run_down(topology, context=None, keep_cluster=False, purge=True))
    assert lines == ["no kind cluster finops-dev: nothing else to remove"]
    assert [DOCKER, "rm", "-f", "-v", "kind-registry"] not in fp.calls
