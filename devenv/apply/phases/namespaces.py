"""Phase namespaces: the namespaces with their quotas, limit ranges and
NetworkPolicies, before anything runs in them."""

from __future__ import annotations

from devenv.apply.engine import Phase, RunContext, digest
from devenv.render import Manifest

__all__ = ["PHASE"]

POLICY_KINDS = {"Namespace", "ResourceQuota", "LimitRange", "NetworkPolicy"}


def _manifests(run: RunContext) -> list[Manifest]:
    # The node and simulator rules name addresses only the running environment knows.
    run.pin_to_environment()
    return run.select(lambda m: m["kind"] in POLICY_KINDS)


def _execute(run: RunContext) -> str:
    manifests = _manifests(run)
    run.apply("namespaces", manifests)
    return f"{len(manifests)} namespaces, quotas, limit ranges and policies"


PHASE = Phase("namespaces", _execute, lambda run: digest(_manifests(run)), _manifests)
