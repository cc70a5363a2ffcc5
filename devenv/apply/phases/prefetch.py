"""Phase prefetch: the node pulls every image from the local registry while kind
is still creating the cluster (its containerd runs seconds after the node
container starts, kubeadm takes another twenty), side by side: the platform's
images first (the data layer and OpenBao come up first), then the stubs'. The
kubelet later finds them there.

It needs only the registry phase: it waits for the node container, wires it to
the registry (hosts.toml and kind's network, as the images phase does again once
the cluster runs) and pulls, retrying while kind restarts containerd with its
configuration. Best effort: a pull that still fails is the kubelet's to retry
(and the wait phase's to report); a cluster that failed to come up ends it."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

from devenv.apply.engine import Phase, RunContext, digest
from devenv.apply.phases.images import local_registry_refs
from devenv.errors import ToolError
from devenv.tools.docker import Docker
from devenv.tools.registry import wire_registry
from devenv.topology.images import catalog

__all__ = ["PHASE"]

RETRY_SECONDS = 1.0  # between attempts of a pull refused while containerd restarts


def _inputs(run: RunContext) -> str:
    # Not the cluster's identity: this phase starts before the cluster phase records
    # it (a new cluster is caught by the engine's own identity check).
    return digest(local_registry_refs(run))


def _given_up(run: RunContext, deadline: float) -> bool:
    return run.stopping.is_set() or run.interrupted.is_set() or time.monotonic() > deadline


def _nodes(run: RunContext, deadline: float) -> list[str]:
    """The cluster's node containers once they run; [] if the run gives up first."""
    docker = Docker()
    while not _given_up(run, deadline):
        try:
            nodes = run.kind.nodes()
        except ToolError:
            nodes = []
        if nodes and all(docker.is_running(node) for node in nodes):
            return nodes
        time.sleep(RETRY_SECONDS / 2)
    return []


def _configured(run: RunContext, nodes: list[str], deadline: float) -> bool:
    """Once kind has given every node's containerd its registry configuration (the
    pulls retry if it restarts containerd after this)."""
    docker = Docker()
    check = ["sh", "-c", "grep -q certs.d /etc/containerd/config.toml && crictl info >/dev/null"]
    while not _given_up(run, deadline):
        if all(docker.exec(node, check, check=False) is not None for node in nodes):
            return True
        time.sleep(RETRY_SECONDS / 2)
    return False


def _execute(run: RunContext) -> str:
    if not run.through_local_registry:
        return "nothing to pull: the images were loaded"
    deadline = time.monotonic() + run.options.timeout
    nodes = _nodes(run, deadline)
    if not nodes or not _configured(run, nodes, deadline):
        return "no node to pull into: the kubelet pulls"
    wire_registry(run.kind)
    docker = Docker()
    built = {run.images.ref(name) for name, image in catalog().items() if image.build_context}
    wanted = local_registry_refs(run)
    waves = [[r for r in wanted if r not in built], [r for r in wanted if r in built]]

    def pull(node_and_ref: tuple[str, str]) -> str | None:
        node, ref = node_and_ref
        while True:
            try:
                docker.exec(node, ["crictl", "pull", ref], timeout=600)
            except ToolError as error:
                if _given_up(run, deadline):
                    return f"{ref}: {error.message}"
            else:
                return None
            time.sleep(RETRY_SECONDS)  # e.g. kind restarting containerd with its config

    failed: list[str] = []
    pulls = [[(node, ref) for node in nodes for ref in wave] for wave in waves]
    for wave in pulls:
        with ThreadPoolExecutor(max_workers=len(wave) or 1) as pool:
            failed += [problem for problem in pool.map(pull, wave) if problem]
    for problem in failed:
        run.report(f"prefetch: {problem} (the kubelet pulls it again)")
    total = sum(len(wave) for wave in pulls)
    return f"{total - len(failed)} of {total} image pull(s) done ahead of the pods"


PHASE = Phase("prefetch", _execute, _inputs, needs=("registry",))
