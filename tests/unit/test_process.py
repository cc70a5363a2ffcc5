"""The subprocess wrapper, faked at the process boundary (pytest-subprocess)."""

from __future__ import annotations

import subprocess

import pytest
from pytest_subprocess import FakeProcess

from devenv._errors import CommandFailed, ToolMissing
from devenv._process import DaemonDown, PortBusy, run

DOCKER_DOWN = (
    "Cannot connect to the Docker daemon at unix:///var/run/docker.sock."
    " Is the docker daemon running?"
)


@pytest.fixture(autouse=True)
def _docker_on_path(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("devenv._process.shutil.which", lambda name, path=None: f"/usr/bin/{name}")


def test_runs_an_argument_list_and_captures_output(fp: FakeProcess) -> None:
    fp.register(["/usr/bin/docker", "version", "--format", "{{.Server.Version}}"], stdout="28.2\n")
    result = run(["docker", "version", "--format", "{{.Server.Version}}"])
    assert result.stdout == "28.2\n"
    assert result.argv == ("docker", "version", "--format", "{{.Server.Version}}")


def test_missing_tool_has_an_install_hint(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("devenv._process.shutil.which", lambda name, path=None: None)
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


def test_check_false_returns_the_failure(fp: FakeProcess) -> None:
    fp.register(["/usr/bin/docker", "image", "inspect", "x"], returncode=1)
    assert run(["docker", "image", "inspect", "x"], check=False).returncode == 1


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
