"""Phase cluster: the kind cluster (created, reused, or recreated when its
containers stopped), the add-on manifests and Ready nodes. With ``--context``:
only the add-ons and the nodes. (The local registry starts beside it: phase
registry; the images phase wires it into the nodes.)"""

from __future__ import annotations

import tempfile
from pathlib import Path

from devenv.apply.engine import Phase, RunContext, digest, files_digest
from devenv.apply.waiting import poll_phase
from devenv.render.kind_config import render_kind_config
from devenv.yamlio import dump_documents

__all__ = ["PHASE"]


def _kind_config(run: RunContext) -> dict[str, object]:
    return render_kind_config(
        run.topology, run.images, disable_default_cni=run.options.cni_manifests is not None
    )


def _extra_manifests(run: RunContext) -> list[Path]:
    return [*filter(None, [run.options.cni_manifests]), *run.options.addon_manifests]


def _inputs(run: RunContext) -> str:
    options = run.options
    return digest(
        options.context, options.registry, _kind_config(run), files_digest(_extra_manifests(run))
    )


def _ensure_kind_cluster(run: RunContext) -> str:
    kind = run.kind
    if kind.exists() and run.cluster_uid() is None:
        # Its containers stopped (a restarted engine): nothing there to keep.
        run.report(f"kind cluster {kind.name} does not answer: recreating it")
        kind.delete()
    if kind.exists():
        return f"kind cluster {kind.name} reused"
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "kind-config.yaml"
        path.write_text(dump_documents([_kind_config(run)]), encoding="utf-8")
        kind.create(path)
    run.remember("created_cluster", True)
    return f"kind cluster {kind.name} created"


def _nodes_ready(run: RunContext) -> bool | None:
    nodes = run.kubectl.get_json("nodes").get("items", [])
    ready = [
        any(
            c["type"] == "Ready" and c["status"] == "True"
            for c in n["status"].get("conditions", [])
        )
        for n in nodes
    ]
    return True if nodes and all(ready) else None


def _execute(run: RunContext) -> str:
    options = run.options
    detail = f"context {options.context}" if options.context else _ensure_kind_cluster(run)
    for manifests in _extra_manifests(run):
        run.kubectl.run("apply", "-f", str(manifests), timeout=300)
    poll_phase(
        run, "cluster", lambda: _nodes_ready(run), interval=2,
        problem=f"nodes not Ready after {options.timeout:.0f}s",
        next_command=f"kubectl --context {run.context} describe nodes",
    )  # fmt: skip
    run.uid = run.cluster_uid()
    run.remember("cluster_uid", run.uid)
    run.uid_looked_up = True
    return detail


PHASE = Phase("cluster", _execute, _inputs)
