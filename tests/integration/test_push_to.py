"""`up --push-to`: built images go to a real registry and are deployed by the
digest it gave (a registry container on this engine stands for the team's)."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator

import httpx
import pytest

from devenv.apply.engine import UpOptions
from devenv.apply.up import push_images
from devenv.topology.images import ImageSet, resolve_images
from tests.runtime import unavailable
from tests.stub_processes import free_port, wait_until


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def _docker(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["docker", *args], capture_output=True, text=True, check=check, timeout=300
    )


@pytest.fixture
def registry(docker_engine: None) -> Iterator[tuple[str, ImageSet]]:
    images = resolve_images(None, os.environ)
    image = images.ref("registry")
    if _docker("image", "inspect", image, check=False).returncode != 0:
        unavailable(f"needs the registry image {image} on this engine: run `devenv up` once")
    port, name = free_port(), f"devenv-push-test-{os.getpid()}"
    _docker("run", "-d", "--name", name, "-p", f"127.0.0.1:{port}:5000", image)
    try:
        # A push right after the start meets a registry not yet serving (EOF).
        wait_until(lambda: _answers(f"http://127.0.0.1:{port}/v2/"), timeout=30,
                   what="the registry to answer")  # fmt: skip
        yield f"127.0.0.1:{port}", images
    finally:
        _docker("rm", "-f", name, check=False)


def test_pushed_images_are_named_by_the_digest_the_registry_gave(
    registry: tuple[str, ImageSet],
) -> None:
    address, images = registry
    # Any image held here stands for a built stub image (the registry's own, retagged).
    built = f"localhost:5001/finops-devenv/stub-agent:push-test-{os.getpid()}"
    _docker("tag", images.ref("registry"), built)
    try:
        options = UpOptions(profile="dev", images=images, context="remote", push_to=address)
        pushed = push_images(
            images.with_refs(**{"stub-agent": built}), ["stub-agent"], address, options,
            report=lambda _: None,
        )  # fmt: skip
        reference = pushed.ref("stub-agent")
        assert reference.startswith(f"{address}/finops-devenv/stub-agent@sha256:")
        _docker("rmi", built, f"{address}/finops-devenv/stub-agent:push-test-{os.getpid()}")
        # What a cluster does with the manifest's reference: pull it by digest.
        assert _docker("pull", reference, check=False).returncode == 0
        _docker("rmi", reference, check=False)
    finally:
        _docker("rmi", built, check=False)
