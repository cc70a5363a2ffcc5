"""The engine's API socket and the docker CLI give the same answers: what devenv
reads over the socket (to skip a process per question) is what the CLI says."""

from __future__ import annotations

import io
import json
import secrets
import subprocess
import tarfile
from collections.abc import Iterator

import pytest

from devenv.tools.docker import Docker
from devenv.tools.docker_api import DockerApi
from tests.runtime import docker_problem, unavailable


@pytest.fixture
def api() -> DockerApi:
    problem = docker_problem()
    if problem:
        unavailable(problem)
    found = DockerApi.local()
    if found is None:
        unavailable("the docker CLI talks to a remote engine: no local socket to read")
    assert found is not None
    return found


def _cli(*argv: str, stdin: bytes | None = None) -> str:
    return (
        subprocess.run(["docker", *argv], input=stdin, capture_output=True, check=True, timeout=60)
        .stdout.decode()
        .strip()
    )


@pytest.fixture
def scratch(api: DockerApi) -> Iterator[tuple[str, str]]:
    """An image made here from a one-file tarball (no registry) and a container
    created from it (never started): (image reference, container name)."""
    suffix = secrets.token_hex(4)
    reference, name = f"finops-devenv/api-check:{suffix}", f"finops-devenv-api-check-{suffix}"
    archive = io.BytesIO()
    with tarfile.open(fileobj=archive, mode="w") as tar:
        tar.addfile(tarfile.TarInfo("marker"), io.BytesIO(b""))
    _cli("image", "import", "-", reference, stdin=archive.getvalue())
    _cli("container", "create", "--name", name, reference, "/marker")
    try:
        yield reference, name
    finally:
        subprocess.run(["docker", "rm", "-f", name], capture_output=True, check=False)
        subprocess.run(["docker", "rmi", "-f", reference], capture_output=True, check=False)


def test_image_ids_agree_with_the_cli(scratch: tuple[str, str]) -> None:
    reference, _ = scratch
    expected = _cli("image", "inspect", "--format", "{{.Id}}", reference)
    assert Docker().image_ids([reference, "finops-devenv/not-here:0"]) == {reference: expected}


def test_a_container_reads_as_the_cli_inspects_it(api: DockerApi, scratch: tuple[str, str]) -> None:
    _, name = scratch
    cli = json.loads(_cli("container", "inspect", "--format", "{{json .}}", name))
    read = api.container(name)
    assert read is not None
    assert (read["Id"], read["State"]["Running"]) == (cli["Id"], False)
    assert read["NetworkSettings"]["Networks"].keys() == cli["NetworkSettings"]["Networks"].keys()
    assert Docker().container_id(name) is None  # created, not running
    assert api.container("finops-devenv-no-such-container") is None


def test_the_engine_store_is_read_like_docker_info(api: DockerApi) -> None:
    api.ping()
    cli = json.loads(_cli("info", "--format", "{{json .DriverStatus}}"))
    assert api.info()["DriverStatus"] == cli
