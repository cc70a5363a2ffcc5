"""The cert-manager phase on a cluster that already runs a cert-manager of its own:
refused before anything is applied (CRDs are cluster-wide; devenv never takes
them over). kubectl is faked at its command line, as the API server answers."""

from __future__ import annotations

import pytest

from devenv.apply.engine import PhaseFailed, RunContext, UpOptions
from devenv.apply.image_routes import ImageRoute
from devenv.apply.phases import cert_manager
from devenv.render import render_manifests
from devenv.tools.kubectl import Kubectl
from devenv.tools.process import Result
from devenv.topology.images import ImageSet
from devenv.topology.model import Topology


@pytest.fixture
def run(topology: Topology, image_set: ImageSet) -> RunContext:
    options = UpOptions(profile="dev", images=image_set, context="shared-dev")
    return RunContext(
        topology, options, image_set, render_manifests(topology, "dev", image_set),
        image_route=ImageRoute("docker-desktop"),
    )  # fmt: skip


def _cluster_with(monkeypatch: pytest.MonkeyPatch, owners: str) -> list[tuple[str, ...]]:
    """kubectl answering the CRD owners query with ``owners``; records every call."""
    calls: list[tuple[str, ...]] = []

    def kubectl_run(_: Kubectl, *args: str, **__: object) -> Result:
        calls.append(args)
        if args[:2] == ("get", "crd"):
            return Result(args, 0, owners, "")
        raise AssertionError(f"applied something: kubectl {' '.join(args[:3])}")

    monkeypatch.setattr(Kubectl, "run", kubectl_run)
    monkeypatch.setattr(Kubectl, "apply", lambda *_a, **_k: pytest.fail("applied something"))
    return calls


def test_a_cert_manager_of_the_clusters_own_is_refused(
    run: RunContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    _cluster_with(monkeypatch, "certificates.cert-manager.io=\nissuers.cert-manager.io=\n")
    with pytest.raises(
        PhaseFailed, match="already has cert-manager's CRDs, not devenv's"
    ) as raised:
        cert_manager.PHASE.execute(run)
    assert "without cert-manager" in (raised.value.hint or "")


def test_devenvs_own_crds_are_applied_again(
    run: RunContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = _cluster_with(monkeypatch, "certificates.cert-manager.io=finops-devenv\n")
    with pytest.raises(pytest.fail.Exception, match="applied something"):
        cert_manager.PHASE.execute(run)  # past the check, it applies: the double stops it there
    assert calls[0][:2] == ("get", "crd")
