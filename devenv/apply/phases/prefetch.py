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

__all__ = ["PHASE"]


def _wanted(run: RunContext) -> list[str]:
    return [ref for ref in image_refs(run) if ref.startswith(f"{REGISTRY_HOST}/")]


def _inputs(run: RunContext) -> str:
    return digest(_wanted(run), run.record.get("cluster_uid"))


def _execute(run: RunContext) -> str:
    if not run.through_local_registry:
        return "nothing to pull: the images were loaded"
    docker = Docker()
    pulls = [(node, ref) for node in run.kind.nodes() for ref in _wanted(run)]

    def pull(node_and_ref: tuple[str, str]) -> str | None:
        node, ref = node_and_ref
        try:
            docker.exec(node, ["crictl", "pull", ref], timeout=600)
        except ToolError as error:
            return f"{ref}: {error.message}"
        return None

    with ThreadPoolExecutor(max_workers=len(pulls) or 1) as pool:
        failed = [problem for problem in pool.map(pull, pulls) if problem]
    for problem in failed:
        run.report(f"prefetch: {problem} (the kubelet pulls it again)")
    return f"{len(pulls) - len(failed)} of {len(pulls)} image pull(s) done ahead of the pods"


PHASE = Phase("prefetch", _execute, _inputs, needs=("images",))
