"""The one rule for the kube context: --context, else the context `devenv up`
recorded, else the topology's kind cluster; never kubectl's current context."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from devenv.cli import app
from devenv.errors import ToolError
from devenv.state import write_record
from devenv.tools.kubectl import Kubectl


@pytest.fixture
def forwarded_to(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> list[str]:
    """The contexts `secrets` port-forwards to OpenBao through (then it stops there)."""
    contexts: list[str] = []

    @contextlib.contextmanager
    def port_forward(self: Kubectl, *args: object, **kwargs: object) -> Iterator[int]:
        contexts.append(str(self.context))
        raise ToolError("stopped by the test")
        yield 0  # pragma: no cover - a generator, for contextmanager

    monkeypatch.setattr(Kubectl, "port_forward", port_forward)
    # kubectl's own current context points at another cluster.
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text("apiVersion: v1\nkind: Config\ncurrent-context: someone-elses\n")
    monkeypatch.setenv("KUBECONFIG", str(kubeconfig))
    monkeypatch.setenv("DEVENV_OPENBAO_TOKEN", "test-token")
    return contexts


def _secrets_list(*args: str) -> int:
    return CliRunner().invoke(app, ["secrets", "list", *args]).exit_code


def test_secrets_talk_to_the_kind_cluster_not_the_current_context(
    forwarded_to: list[str],
) -> None:
    assert _secrets_list() == 1
    assert forwarded_to == ["kind-finops-dev"]


def test_secrets_talk_to_the_context_up_recorded(forwarded_to: list[str]) -> None:
    write_record("finops-dev", "k3d-shared", {})
    assert _secrets_list() == 1
    assert forwarded_to == ["k3d-shared"]


def test_the_option_wins(forwarded_to: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    write_record("finops-dev", "k3d-shared", {})
    assert _secrets_list("--context", "minikube") == 1
    monkeypatch.setenv("DEVENV_CONTEXT", "docker-desktop")
    assert _secrets_list() == 1
    assert forwarded_to == ["minikube", "docker-desktop"]
