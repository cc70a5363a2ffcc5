"""Tests against a live environment that `devenv up` deployed.

They need a real cluster: DEVENV_TEST_CONTEXT names its kube context (.ci/run
sets it after `devenv up`). Without one they skip and say how to get one; in
CI (CI=true) they fail instead, since CI must have brought the cluster up.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from devenv.tools import kind
from devenv.topology.loader import load_topology
from tests.runtime import unavailable


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if Path(str(item.fspath)).is_relative_to(here):
            item.add_marker(pytest.mark.cluster)


@pytest.fixture(scope="session")
def live_context() -> str:
    context = os.environ.get("DEVENV_TEST_CONTEXT")
    if not context:
        unavailable(
            "needs a live environment: run `devenv up`, then set"
            " DEVENV_TEST_CONTEXT=kind-finops-dev (its kube context)"
        )
    return context


@pytest.fixture(scope="session")
def kind_context(live_context: str) -> str:
    """For tests that run `devenv up` itself: without --context it targets the
    topology's kind cluster, which must then be the live environment."""
    expected = kind.kind_context(load_topology().cluster.name)
    if live_context != expected:
        unavailable(
            f"runs `devenv up` on {expected}: set DEVENV_TEST_CONTEXT={expected}"
            f" (it is {live_context})"
        )
    return live_context
