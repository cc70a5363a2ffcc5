"""`devenv down`: remove exactly what `devenv up` created."""

from __future__ import annotations

from collections.abc import Iterator

from devenv.apply.record import forget
from devenv.render.kind_config import REGISTRY_NAME
from devenv.render.simulators import (
    simulated_endpoints,
    simulator_container,
    simulator_openbao_volume,
    simulator_tls_volume,
)
from devenv.state import environment_context, read_record
from devenv.tools.docker import Docker
from devenv.tools.kind import KindCluster
from devenv.tools.kubectl import Kubectl
from devenv.tools.registry import remove_registry
from devenv.topology.labels import MANAGED_SELECTOR
from devenv.topology.model import Topology

__all__ = ["NAMESPACED_KINDS", "run_down"]

# Every namespaced kind `up` applies (what it leaves in a namespace it did not create).
NAMESPACED_KINDS = (
    "deployments,statefulsets,services,serviceaccounts,configmaps,secrets,networkpolicies,"
    "resourcequotas,limitranges,roles,rolebindings,endpointslices.discovery.k8s.io"
)


def run_down(
    topology: Topology, *, context: str | None, keep_cluster: bool, purge: bool = False
) -> Iterator[str]:
    """Remove the environment on ``context`` (by the one rule: else the recorded one).
    The local registry stays (an image cache, like kind's recipe has it) unless
    ``purge``, and then only if devenv started it."""
    kind = KindCluster(topology.cluster.name)
    kube_context = environment_context(topology.cluster.name, context)
    on_kind = kube_context == kind.context
    record = read_record(topology.cluster.name, kube_context)
    if on_kind or record.get("started_simulators"):
        docker = Docker()
        for endpoint in simulated_endpoints(topology):
            docker.remove(simulator_container(topology, endpoint, kube_context))
            docker.remove_volume(simulator_tls_volume(topology, endpoint, kube_context))
            docker.remove_volume(simulator_openbao_volume(topology, endpoint, kube_context))
    created_cluster = bool(record.get("created_cluster")) and on_kind
    if purge:
        if remove_registry():
            yield f"removed the local registry {REGISTRY_NAME} and its images (--purge)"
    elif on_kind and Docker().is_running(REGISTRY_NAME):
        yield f"kept the local registry {REGISTRY_NAME} (an image cache; --purge removes it)"
    if on_kind and not kind.exists():  # removed already (a second `down`, `down --purge`)
        forget(topology, kube_context)
        yield f"no kind cluster {kind.name}: nothing else to remove"
        return
    if created_cluster and not keep_cluster:
        kind.delete()
        forget(topology, kube_context)
        yield f"deleted kind cluster {kind.name} (devenv up created it)"
        return
    kubectl = Kubectl(kube_context)
    # The namespaces `up` created here (none, when all were there before it: a shared
    # cluster's); only without any record, those carrying devenv's label.
    if "created_namespaces" in record:
        namespaces = list(record["created_namespaces"])
    else:
        namespaces = _labelled_namespaces(kubectl, topology)
    # Only what carries devenv's label: a shared cluster's other objects stay. The
    # webhooks first (cert-manager's refuses what it cannot check once its pod is
    # gone), then cert-manager's CRDs, which takes their objects with them.
    kubectl.run("delete", "mutatingwebhookconfiguration,validatingwebhookconfiguration,"
                "clusterrole,clusterrolebinding",
                "-l", MANAGED_SELECTOR, "--ignore-not-found", timeout=120)  # fmt: skip
    kubectl.run("delete", "customresourcedefinition", "-l", MANAGED_SELECTOR,
                "--ignore-not-found", timeout=300)  # fmt: skip
    # The policy enforcer `up` may have installed (kube-router).
    kubectl.run("delete", "daemonset,serviceaccount", "-n", "kube-system",
                "-l", MANAGED_SELECTOR, "--ignore-not-found", timeout=120)  # fmt: skip
    # In namespaces that were there before `up`, only the objects it applied go.
    kept = [name for name in topology.namespaces if name not in namespaces]
    for namespace in kept:
        kubectl.run("delete", NAMESPACED_KINDS, "-n", namespace, "-l", MANAGED_SELECTOR,
                    "--ignore-not-found", timeout=300)  # fmt: skip
    if namespaces:
        kubectl.run(
            "delete", "namespace", *namespaces, "--ignore-not-found", "--wait=true", timeout=600
        )
    forget(topology, kube_context, keep_ownership=keep_cluster)
    yield f"deleted {len(namespaces)} namespaces and the cluster-wide objects devenv made"
    if kept:
        yield f"kept {len(kept)} namespaces that were there before `up`, emptied of its objects"
    if not created_cluster:
        yield "the cluster itself was not created by devenv up: kept"
    else:
        yield f"kind cluster {kind.name} kept (--keep-cluster)"


def _labelled_namespaces(kubectl: Kubectl, topology: Topology) -> list[str]:
    names = kubectl.namespace_names("-l", MANAGED_SELECTOR)
    return [name for name in topology.namespaces if name in names]
