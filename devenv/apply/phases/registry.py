"""Phase registry: on devenv's own kind cluster, the local registry started (or
reused) and every image the pods run that is held here pushed to it, while kind
creates the node (this phase needs nothing). The built stub images are tagged for
the registry already; images pulled or built here otherwise (the data layer,
OpenBao, the injector, the enforcer: e.g. stand-ins, or official images pulled
before) are copied under the registry's name by ``prepare``, so the node pulls
every one of them from this machine, each layer once, instead of `kind load`
sending whole tarballs. The registry outlives `devenv down`: the next `up`
pushes nothing that did not change."""

from __future__ import annotations

from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor

from devenv.apply.engine import Phase, RunContext, digest
from devenv.apply.phases.images import local_registry_refs
from devenv.render.kind_config import REGISTRY_HOST
from devenv.tools.docker import Docker
from devenv.tools.registry import registry_id, start_registry
from devenv.topology.images import HOST_IMAGES, ImageSet, registry_copy_ref

__all__ = ["PHASE", "registry_copies"]

PARALLEL_PUSHES = 3  # docker compresses each layer: more would only share the cores


def registry_copies(images: ImageSet, held_here: Mapping[str, str]) -> dict[str, str]:
    """For each image the pods run that is held here and not already named for the
    local registry: its copy's reference there (name -> reference)."""
    return {
        name: registry_copy_ref(REGISTRY_HOST, ref)
        for name, ref in images.refs.items()
        if name not in HOST_IMAGES and ref in held_here and not ref.startswith(f"{REGISTRY_HOST}/")
    }


def _pushes(run: RunContext) -> dict[str, str]:
    """registry reference -> the image held here it is pushed from (an ID or a ref)."""
    docker = Docker()
    sources = {ref: run.registry_sources.get(ref, ref) for ref in local_registry_refs(run)}
    held = docker.image_ids(sorted(set(sources.values())))
    return {target: held[source] for target, source in sources.items() if source in held}


def _inputs(run: RunContext) -> str:
    if not run.through_local_registry:
        return digest("no local registry")
    # A new registry container holds none of the images pushed to the old one.
    return digest(sorted(_pushes(run).items()), registry_id())


def _execute(run: RunContext) -> str:
    if not run.through_local_registry:
        return "no local registry on this route"
    started = start_registry(run.images.ref("registry"))
    pushes = _pushes(run)
    docker = Docker()

    def push(target: str) -> None:
        run.report(f"pushing {target} to the local registry")
        docker.tag(pushes[target], target)
        docker.push(target)  # only the layers the registry lacks travel

    with ThreadPoolExecutor(max_workers=PARALLEL_PUSHES) as pool:
        list(pool.map(push, sorted(pushes)))
    where = "started" if started else "reused"
    return f"registry {where} on {REGISTRY_HOST}, {len(pushes)} image(s) pushed"


PHASE = Phase("registry", _execute, _inputs)
