"""Phase prefetch: the node pulls every image from the local registry as soon as
it is wired to it, side by side, while the namespaces, the data layer and
OpenBao are made: a stub pod created later finds its image there, and the data
layer's pulls start seconds before its pods exist. Best effort: a pull that fails
here is the kubelet's to retry (and the wait phase's to report)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from devenv.apply.engine import Phase, RunContext, digest
from devenv.apply.phases.images import image_refs
from devenv.errors import ToolError
from devenv.render.kind_config import REGISTRY_HOST
from devenv.tools.docker import Docker
from devenv.topology.images import catalog

__all__ = ["PHASE"]


def _wanted(run: RunContext) -> list[str]:
    return [ref for ref in image_refs(run) if ref.startswith(f"{REGISTRY_HOST}/")]


def _inputs(run: RunContext) -> str:
    return digest(_wanted(run), run.record.get("cluster_uid"))


def _execute(run: RunContext) -> str:
    if not run.through_local_registry:
        return "nothing to pull: the images were loaded"
    docker = Docker()
    nodes = run.kind.nodes()
    built = {run.images.ref(name) for name, image in catalog().items() if image.build_context}
    # The platform's images first (the data layer and OpenBao come up next), side by
    # side; then the stubs' (their pods are created only once the injector serves).
    waves = [[r for r in _wanted(run) if r not in built], [r for r in _wanted(run) if r in built]]

    def pull(node_and_ref: tuple[str, str]) -> str | None:
        node, ref = node_and_ref
        try:
            docker.exec(node, ["crictl", "pull", ref], timeout=600)
        except ToolError as error:
            return f"{ref}: {error.message}"
        return None

    failed: list[str] = []
    pulls = [[(node, ref) for node in nodes for ref in wave] for wave in waves]
    for wave in pulls:
        with ThreadPoolExecutor(max_workers=len(wave) or 1) as pool:
            failed += [problem for problem in pool.map(pull, wave) if problem]
    for problem in failed:
        run.report(f"prefetch: {problem} (the kubelet pulls it again)")
    total = sum(len(wave) for wave in pulls)
    return f"{total - len(failed)} of {total} image pull(s) done ahead of the pods"


PHASE = Phase("prefetch", _execute, _inputs, needs=("images",))
