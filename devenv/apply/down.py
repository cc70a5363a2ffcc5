"""`devenv down`: remove exactly what `devenv up` created."""

from __future__ import annotations

from collections.abc import Iterator

from devenv.apply.engine import forget
from devenv.render.simulators import simulator_container, simulator_tls_volume
from devenv.state import environment_context, read_json, record_path
from devenv.tools.docker import Docker
from devenv.tools.kind import KindCluster
from devenv.tools.kubectl import Kubectl
from devenv.tools.registry import remove_registry
from devenv.topology.labels import MANAGED_SELECTOR
from devenv.topology.model import Topology

__all__ = ["run_down"]


def run_down(topology: Topology, *, context: str | None, keep_cluster: bool) -> Iterator[str]:
    """Remove the environment on ``context`` (by the one rule: else the recorded one)."""
    kind = KindCluster(topology.cluster.name)
    kube_context = environment_context(topology.cluster.name, context)
    on_kind = kube_context == kind.context
    record = read_json(record_path(topology.cluster.name)) or {}
    if record.get("context", kube_context) != kube_context:
        record = {}  # made on another context: nothing here was created by that `up`
    if on_kind:
        docker = Docker()
        for endpoint, external in topology.spec.external.items():
            if external.simulator is not None:
                docker.remove(simulator_container(topology, endpoint))
                docker.remove_volume(simulator_tls_volume(topology, endpoint))
    created_cluster = bool(record.get("created_cluster")) and on_kind
    if record.get("created_registry") and on_kind and not keep_cluster:
        remove_registry()
        yield "removed the local registry (devenv up started it)"
    if created_cluster and not keep_cluster:
        kind.delete()
        forget(topology)
        yield f"deleted kind cluster {kind.name} (devenv up created it)"
        return
    kubectl = Kubectl(kube_context)
    namespaces = list(topology.namespaces)
    # Only what carries devenv's label: a shared cluster's other objects stay.
    kubectl.run("delete", "mutatingwebhookconfiguration,clusterrole,clusterrolebinding",
                "-l", MANAGED_SELECTOR, "--ignore-not-found", timeout=120)  # fmt: skip
    # The policy enforcer `up` may have installed (kube-router).
    kubectl.run("delete", "daemonset,serviceaccount", "-n", "kube-system",
                "-l", MANAGED_SELECTOR, "--ignore-not-found", timeout=120)  # fmt: skip
    kubectl.run(
        "delete", "namespace", *namespaces, "--ignore-not-found", "--wait=true", timeout=600
    )
    forget(topology, keep_ownership=keep_cluster)
    yield f"deleted {len(namespaces)} namespaces and the injector's cluster-wide objects"
    if not created_cluster:
        yield "the cluster itself was not created by devenv up: kept"
    else:
        yield f"kind cluster {kind.name} kept (--keep-cluster)"
