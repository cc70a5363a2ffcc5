"""The subprocess wrapper, faked at the process boundary (pytest-subprocess)."""

from __future__ import annotations

import subprocess

import pytest
from pytest_subprocess import FakeProcess

from devenv.errors import CommandFailed, ToolMissing
from devenv.tools.process import DaemonDown, PortBusy, run

DOCKER_DOWN = (
    "Cannot connect to the Docker daemon at unix:///var/run/docker.sock."
    " Is the docker daemon running?"
)


@pytest.fixture(autouse=True)
def _programs(programs_in_usr_bin: None) -> None:
    """Every program in /usr/bin."""


def test_runs_the_program_found_with_the_arguments_as_given(fp: FakeProcess) -> None:
    # One argument with a space and shell syntax: no shell splits or expands it.
    fp.register(["/usr/bin/docker", "run", "img", "sh", "-c", "echo $HOME; ls"])
    result = run(["docker", "run", "img", "sh", "-c", "echo $HOME; ls"])
    assert fp.call_count(["/usr/bin/docker", "run", "img", "sh", "-c", "echo $HOME; ls"]) == 1
    # The logical command, for messages: not the resolved path.
    assert result.argv == ("docker", "run", "img", "sh", "-c", "echo $HOME; ls")


def test_missing_tool_has_an_install_hint(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("devenv.tools.process.find_program", lambda name: None)
    with pytest.raises(ToolMissing, match="kind is not installed") as caught:
        run(["kind", "version"])
    assert "go install sigs.k8s.io/kind" in (caught.value.hint or "")


def test_failure_carries_command_exit_code_and_stderr_tail(fp: FakeProcess) -> None:
    fp.register(
        ["/usr/bin/kubectl", "apply", "-f", "-"], returncode=1, stderr="line 1\nerror: bad\n"
    )
    with pytest.raises(CommandFailed) as caught:
        run(["kubectl", "apply", "-f", "-"], input_text="{}")
    assert caught.value.returncode == 1
    assert caught.value.message == "`kubectl apply -f -` exited 1: error: bad"
    assert caught.value.details() == ["line 1", "error: bad"]


def test_check_false_leaves_a_known_failure_to_the_caller(fp: FakeProcess) -> None:
    # With check (the default) this stderr is DaemonDown; without, nothing is raised.
    fp.register(["/usr/bin/docker", "info"], returncode=1, stderr=DOCKER_DOWN, occurrences=2)
    with pytest.raises(DaemonDown):
        run(["docker", "info"])
    assert run(["docker", "info"], check=False).returncode == 1


@pytest.mark.parametrize(
    ("stderr", "error"),
    [
        (DOCKER_DOWN, DaemonDown),
        ("Bind for 127.0.0.1:8443 failed: port is already allocated", PortBusy),
    ],
)
def test_known_causes_become_specific_errors(
    fp: FakeProcess, stderr: str, error: type[Exception]
) -> None:
    fp.register(["/usr/bin/docker", "run", "x"], returncode=125, stderr=stderr)
    with pytest.raises(error):
        run(["docker", "run", "x"])


def test_timeout(fp: FakeProcess) -> None:
    def too_slow(process: object) -> None:
        raise subprocess.TimeoutExpired(["docker", "build", "."], 0.1)

    fp.register(["/usr/bin/docker", "build", "."], callback=too_slow)
    with pytest.raises(CommandFailed, match=r"timed out after 0\.1s"):
        run(["docker", "build", "."], timeout=0.1)
