"""Phase images: every image built or held here reaches the cluster's nodes, by
the route its context gives (``devenv.apply.image_routes``): devenv's kind
cluster through the local registry (only missing layers travel) or `kind
load`; another kind cluster by `kind load`; k3d and minikube by their own
import commands; Docker Desktop already has them. Images pushed with
`--push-to` were pushed before rendering, to be deployed by digest."""

from __future__ import annotations

from devenv.apply.engine import Phase, RunContext, digest
from devenv.render.kind_config import REGISTRY_HOST
from devenv.render.policy_enforcer import render_policy_enforcer
from devenv.tools.docker import Docker
from devenv.tools.kind import KindCluster
from devenv.tools.local_clusters import k3d_import, minikube_load

__all__ = ["PHASE", "image_refs"]


def image_refs(run: RunContext) -> list[str]:
    """Every image the manifests run, the enforcer's and the injector's agent's."""
    refs = set()
    for manifest in [*run.manifests, *render_policy_enforcer(run.enforcer, run.images)]:
        spec = manifest.get("spec", {}).get("template", {}).get("spec", {})
        for container in spec.get("containers", []):
            refs.add(container["image"])
    refs.add(run.images.ref("openbao"))  # the injector's agent image
    return sorted(refs)


def _inputs(run: RunContext) -> str:
    return digest(image_refs(run), run.image_route, run.record.get("cluster_uid"))


def _into_kind(run: RunContext, cluster: KindCluster, local: list[str]) -> str:
    docker = Docker()
    loaded = pushed = 0
    for ref in local:
        on_devenv_registry = run.image_route.kind == "devenv-kind" and run.options.registry
        if on_devenv_registry and ref.startswith(f"{REGISTRY_HOST}/"):
            # Only the layers the registry lacks travel; the node pulls from it.
            run.report(f"pushing {ref} to the local registry")
            docker.push(ref)
            pushed += 1
        elif not cluster.node_has_image(docker.image_id(ref) or ""):
            run.report(f"loading {ref} into kind cluster {cluster.name}")
            cluster.load(ref)
            loaded += 1
    if run.image_route.kind == "devenv-kind":
        return f"{pushed} image(s) pushed to the local registry, {loaded} loaded into the node"
    return f"{loaded} image(s) loaded into kind cluster {cluster.name} (kind load)"


def _execute(run: RunContext) -> str:
    route = run.image_route
    docker = Docker()
    # What the nodes cannot pull: images held here (built, or stand-ins), not elsewhere.
    local = [ref for ref in image_refs(run) if docker.image_id(ref) is not None]
    if route.kind in ("devenv-kind", "kind"):
        return _into_kind(run, KindCluster(route.target), local)
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


PHASE = Phase("images", _execute, _inputs, needs=("cluster",))
