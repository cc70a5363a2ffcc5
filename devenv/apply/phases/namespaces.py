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
    # `down` removes only the namespaces `up` created (on a shared cluster some may
    # have been there before): remembered per context, across runs.
    present = run.kubectl.namespace_names()
    created = set(run.record.get("created_namespaces", []))
    created |= {name for name in run.topology.namespaces if name not in present}
    run.remember("created_namespaces", sorted(created))
    run.apply("namespaces", manifests)
    return f"{len(manifests)} namespaces, quotas, limit ranges and policies"


# The policies name the simulators' addresses and the nodes' (known once the cluster runs).
PHASE = Phase(
    "namespaces", _execute, lambda run: digest(_manifests(run)), _manifests,
    needs=("cluster", "simulators"),
)  # fmt: skip
