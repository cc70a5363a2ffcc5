"""`devenv down`: remove exactly what `devenv up` created."""

from __future__ import annotations

from collections.abc import Iterator

from devenv._kind import KindCluster
from devenv._kube import Kubectl
from devenv._process import run
from devenv._registry import remove_registry
from devenv._state import read_json
from devenv._topology import Topology
from devenv._up import MANAGED, forget, record_path, simulator_container

__all__ = ["run_down"]


def run_down(topology: Topology, *, context: str | None, keep_cluster: bool) -> Iterator[str]:
    record = read_json(record_path(topology)) or {}
    for endpoint, external in topology.spec.external.items():
        if external.simulator is not None and context is None:
            container = simulator_container(topology, endpoint)
            run(["docker", "rm", "-f", container], check=False, timeout=60)
    kind = KindCluster(topology.cluster.name)
    kube_context = context or kind.context
    created_cluster = bool(record.get("created_cluster")) and context is None
    if record.get("created_registry") and context is None and not keep_cluster:
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
    run(kubectl.argv("delete", "mutatingwebhookconfiguration,clusterrole,clusterrolebinding",
                     "-l", MANAGED, "--ignore-not-found"), timeout=120)  # fmt: skip
    run(
        kubectl.argv("delete", "namespace", *namespaces, "--ignore-not-found", "--wait=true"),
        timeout=600,
    )
    forget(topology, keep_ownership=keep_cluster)
    yield f"deleted {len(namespaces)} namespaces and the injector's cluster-wide objects"
    if not created_cluster:
        yield "the cluster itself was not created by devenv up: kept"
    else:
        yield f"kind cluster {kind.name} kept (--keep-cluster)"
