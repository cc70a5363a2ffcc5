"""Phase images: every image built or held here reaches the kind node, through
the local registry (only missing layers travel) or with `kind load`. On an
existing cluster (``--context``) images come from their registries."""

from __future__ import annotations

from devenv.apply.engine import Phase, RunContext, digest
from devenv.render.kind_config import REGISTRY_HOST
from devenv.render.policy_enforcer import render_policy_enforcer
from devenv.tools.docker import Docker

__all__ = ["PHASE"]


def _image_refs(run: RunContext) -> list[str]:
    refs = set()
    for manifest in [*run.manifests, *render_policy_enforcer(run.enforcer, run.images)]:
        spec = manifest.get("spec", {}).get("template", {}).get("spec", {})
        for container in spec.get("containers", []):
            refs.add(container["image"])
    refs.add(run.images.ref("openbao"))  # the injector's agent image
    return sorted(refs)


def _inputs(run: RunContext) -> str:
    return digest(_image_refs(run), run.record.get("cluster_uid"))


def _execute(run: RunContext) -> str:
    if run.options.context is not None:
        return "existing cluster: images come from their registries"
    docker = Docker()
    loaded = pushed = 0
    for ref in _image_refs(run):
        image_id = docker.image_id(ref)
        if image_id is None:
            continue  # not built here: the node pulls it from its registry
        if run.options.registry and ref.startswith(f"{REGISTRY_HOST}/"):
            # Only the layers the registry lacks travel; the node pulls from it.
            run.report(f"pushing {ref} to the local registry")
            docker.push(ref)
            pushed += 1
        elif not run.kind.node_has_image(image_id):
            run.report(f"loading {ref} into the node")
            run.kind.load(ref)
            loaded += 1
    return f"{pushed} image(s) pushed to the local registry, {loaded} loaded into the node"


PHASE = Phase("images", _execute, _inputs)
