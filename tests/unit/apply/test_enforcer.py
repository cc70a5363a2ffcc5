"""Who enforces the NetworkPolicies when the user does not say."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from devenv.apply.phases.enforcer import choose_enforcer
from devenv.cli import app


def test_the_option_wins() -> None:
    assert choose_enforcer("kindnet", existing_cluster=False)[0] == "kindnet"
    assert choose_enforcer("kube-router", existing_cluster=True)[0] == "kube-router"


def test_an_existing_cluster_keeps_its_own() -> None:
    assert choose_enforcer(None, existing_cluster=True) == (
        "kindnet", "an existing cluster keeps its own enforcement",
    )  # fmt: skip


@pytest.mark.parametrize(("queue", "expected"), [(False, "kube-router"), (True, "kindnet")])
def test_kind_gets_kube_router_where_the_kernel_lacks_nftables_queue(
    monkeypatch: pytest.MonkeyPatch, queue: bool, expected: str
) -> None:
    monkeypatch.setattr("devenv.apply.phases.enforcer.nft_queue_support", lambda: queue)
    assert choose_enforcer(None, existing_cluster=False)[0] == expected


def test_an_unknown_enforcer_is_refused_before_anything_runs() -> None:
    result = CliRunner().invoke(app, ["up", "--policy-enforcer", "calico"])
    assert result.exit_code == 1
    assert result.stderr.startswith(
        "error: --policy-enforcer calico: not one of kindnet, kube-router"
    )
