"""The docker wrapper's command lines, faked at the process boundary (pytest-subprocess)."""

from __future__ import annotations

import json

import pytest
from pytest_subprocess import FakeProcess

from devenv.tools.docker import Docker


@pytest.fixture(autouse=True)
def _programs(programs_in_usr_bin: None) -> None:
    """Every program in /usr/bin."""


def test_a_detached_container_replaces_one_of_the_same_name(fp: FakeProcess) -> None:
    fp.register(["/usr/bin/docker", "rm", "-f", "sim"])
    fp.register(
        ["/usr/bin/docker", "run", "-d", "--name", "sim", "--network", "kind",
         "--user", "0", "-e", "STUB_CONFIG={}", "img:1", "serve"]
    )  # fmt: skip
    Docker().run_detached(
        "sim", "img:1", network="kind", options=["--user", "0"],
        env={"STUB_CONFIG": "{}"}, command=["serve"],
    )  # fmt: skip
    assert fp.call_count(["/usr/bin/docker", "rm", "-f", "sim"]) == 1


def test_image_id_is_none_for_a_missing_image(fp: FakeProcess) -> None:
    argv = ["/usr/bin/docker", "image", "inspect", "--format", "{{.Id}}"]
    fp.register([*argv, "here:1"], stdout="sha256:abc\n")
    fp.register([*argv, "gone:1"], returncode=1, stderr="No such image: gone:1")
    assert Docker().image_id("here:1") == "sha256:abc"
    assert Docker().image_id("gone:1") is None


def test_exec_feeds_stdin_and_reports_failure_without_raising(fp: FakeProcess) -> None:
    fp.register(["/usr/bin/docker", "exec", "-i", "node", "cp", "/dev/stdin", "/f"])
    fp.register(["/usr/bin/docker", "exec", "node", "crictl", "images"], returncode=1)
    assert Docker().exec("node", ["cp", "/dev/stdin", "/f"], input_text="x") == ""
    assert Docker().exec("node", ["crictl", "images"], check=False) is None


def test_networks_are_read_from_the_inspect_json(fp: FakeProcess) -> None:
    fp.register(
        ["/usr/bin/docker", "container", "inspect", "--format", "{{json .}}", "reg"],
        stdout=json.dumps({"NetworkSettings": {"Networks": {"bridge": {}, "kind": {}}}}),
    )
    assert Docker().networks("reg") == {"bridge", "kind"}
