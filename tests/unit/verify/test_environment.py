"""With no environment, commands that read it say so in one line, before
running anything (real kubectl, against a kubeconfig that knows no cluster)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from devenv.cli import app
from devenv.tools.process import find_program
from tests.runtime import unavailable


@pytest.fixture
def no_cluster(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    if find_program("kubectl") is None:
        unavailable("kubectl is not installed: devenv up installs it, or see `devenv doctor`")
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text("apiVersion: v1\nkind: Config\nclusters: []\ncontexts: []\n")
    monkeypatch.setenv("KUBECONFIG", str(kubeconfig))


@pytest.mark.usefixtures("no_cluster")
@pytest.mark.parametrize(
    "command", [["status"], ["status", "--json"], ["logs", "redis"], ["test-integration"]]
)
def test_no_environment_is_one_line_and_exit_1(command: list[str]) -> None:
    result = CliRunner().invoke(app, command)
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert lines == [
        "error: no environment answers on context kind-finops-dev",
        "hint: run `devenv up`, or pass --context to look at another cluster",
    ]
    assert result.stdout == ""
