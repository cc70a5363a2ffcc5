"""Phase images: every image built or held here reaches the cluster's nodes, by
the route its context gives (``devenv.apply.image_routes``): devenv's kind
cluster through the local registry (the registry phase pushed them while kind
created the node; here the registry joins the node's network), or `kind load`
with ``--no-registry``; another kind cluster by `kind load`; k3d and minikube by
their own import commands; Docker Desktop already has them. Images pushed with
`--push-to` were pushed before rendering, to be deployed by digest."""

from __future__ import annotations

from devenv.apply.engine import Phase, RunContext, digest
from devenv.render.kind_config import REGISTRY_HOST, render_registry_hosting
from devenv.render.policy_enforcer import render_policy_enforcer
from devenv.tools.docker import Docker
from devenv.tools.kind import KindCluster
from devenv.tools.local_clusters import k3d_import, minikube_load
from devenv.tools.registry import registry_id, wire_registry
from devenv.yamlio import dump_documents

__all__ = ["PHASE", "image_refs", "local_registry_refs"]


def image_refs(run: RunContext) -> list[str]:
    """Every image the manifests run, the enforcer's and the injector's agent's."""
    refs = set()
    for manifest in [*run.manifests, *render_policy_enforcer(run.enforcer, run.images)]:
        spec = manifest.get("spec", {}).get("template", {}).get("spec", {})
        for container in spec.get("containers", []):
            refs.add(container["image"])
    refs.add(run.images.ref("openbao"))  # the injector's agent image
    return sorted(refs)


def local_registry_refs(run: RunContext) -> list[str]:
    """The images the pods run that are named for the local registry."""
    return [ref for ref in image_refs(run) if ref.startswith(f"{REGISTRY_HOST}/")]


def _inputs(run: RunContext) -> str:
    wired = registry_id() if run.through_local_registry else None
    return digest(image_refs(run), run.image_route, run.record.get("cluster_uid"), wired)


def _into_kind(run: RunContext, cluster: KindCluster, held: dict[str, str]) -> str:
    missing = [ref for ref, id_ in sorted(held.items()) if not cluster.node_has_image(id_)]
    if missing:
        run.report(f"loading {len(missing)} image(s) into kind cluster {cluster.name}")
        cluster.load(missing)  # one archive: layers the images share travel once
    return f"{len(missing)} image(s) loaded into kind cluster {cluster.name} (kind load)"


def _execute(run: RunContext) -> str:
    route = run.image_route
    if run.through_local_registry:
        wire_registry(run.kind)
        run.kubectl.apply(dump_documents([render_registry_hosting()]))
        pulled = len(local_registry_refs(run))
        return f"the node pulls {pulled} image(s) from the local registry {REGISTRY_HOST}"
    docker = Docker()
    # What the nodes cannot pull: images held here (built, or stand-ins), not elsewhere.
    held = docker.image_ids(image_refs(run))
    local = sorted(held)
    if route.kind in ("devenv-kind", "kind"):
        return _into_kind(run, KindCluster(route.target), held)
    if route.kind == "k3d":
        run.report(f"importing {len(local)} image(s) into k3d cluster {route.target}")
        k3d_import(route.target, local)
        return f"{len(local)} image(s) imported into k3d cluster {route.target}"
    if route.kind == "minikube":
        for ref in local:
            run.report(f"loading {ref} into minikube {route.target}")
            minikube_load(route.target, ref)
        return f"{len(local)} image(s) loaded into minikube profile {route.target}"
    return route.describe()


PHASE = Phase("images", _execute, _inputs, needs=("cluster", "registry"))
