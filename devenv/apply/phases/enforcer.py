"""Phase enforcer: who enforces the NetworkPolicies. kindnet (kind's own, or an
existing cluster's CNI) needs nothing installed; kube-router is installed as a
firewall-only DaemonSet and must be ready before the policies matter.

Chosen with --policy-enforcer, else for this machine: kube-router where the
kernel lacks nftables ``queue`` (kindnet's enforcement then fails open).
"""

from __future__ import annotations

from devenv.apply.doctor import nft_queue_support
from devenv.apply.engine import Phase, RunContext, digest
from devenv.apply.waiting import poll_phase
from devenv.render import Manifest
from devenv.render.policy_enforcer import KUBE_ROUTER, render_policy_enforcer
from devenv.topology.labels import MANAGED_SELECTOR

__all__ = ["PHASE", "choose_enforcer"]


def choose_enforcer(requested: str | None, *, existing_cluster: bool) -> tuple[str, str]:
    """The enforcer and why it was chosen."""
    if requested:
        return requested, "--policy-enforcer"
    if existing_cluster:
        return "kindnet", "an existing cluster keeps its own enforcement"
    if nft_queue_support() is False:
        return KUBE_ROUTER, "this kernel lacks nftables queue, so kindnet would allow everything"
    return "kindnet", "kind's own; this kernel has nftables queue"


def _manifests(run: RunContext) -> list[Manifest]:
    return render_policy_enforcer(run.enforcer, run.images)


def _inputs(run: RunContext) -> str:
    return digest(run.enforcer, _manifests(run), run.record.get("cluster_uid"))


def _daemon_set_ready(run: RunContext) -> bool | None:
    daemon_set = run.kubectl.get_json("daemonset", "-n", "kube-system", KUBE_ROUTER)
    status = daemon_set.get("status", {})
    wanted = status.get("desiredNumberScheduled", 0)
    # The controller saw this generation (right after an apply it may not have).
    current = status.get("observedGeneration", 0) >= daemon_set["metadata"].get("generation", 0)
    ready = (
        current
        and wanted > 0
        and (status.get("numberReady") == status.get("updatedNumberScheduled") == wanted)
    )
    return True if ready else None


def _execute(run: RunContext) -> str:
    if run.enforcer != KUBE_ROUTER:
        # One installed by an earlier run goes: two enforcers would be one too many.
        run.kubectl.run(
            "delete", "daemonset,serviceaccount", "-n", "kube-system",
            "-l", f"{MANAGED_SELECTOR},k8s-app={KUBE_ROUTER}", "--ignore-not-found", timeout=120,
        )  # fmt: skip
        return f"kindnet ({run.enforcer_reason})"
    run.apply("enforcer", _manifests(run))
    poll_phase(
        run, "enforcer", lambda: _daemon_set_ready(run), interval=2,
        problem=f"kube-router not ready after {run.options.timeout:.0f}s",
        next_command=f"kubectl --context {run.context} -n kube-system logs ds/{KUBE_ROUTER}",
    )  # fmt: skip
    return f"kube-router ready ({run.enforcer_reason})"


PHASE = Phase("enforcer", _execute, _inputs, _manifests, needs=("images",))
