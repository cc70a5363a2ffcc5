"""What `devenv up` records per kube context: the phases' inputs (what a re-run
skips) and what it created (what `devenv down` removes)."""

from __future__ import annotations

from typing import Any

from devenv.state import (
    forget_context,
    read_record,
    record_path,
    write_private_json,
)
from devenv.topology.model import Topology

__all__ = ["OWNERSHIP_KEYS", "forget", "load_record"]


def load_record(topology: Topology, context: str) -> dict[str, Any]:
    """What the last `up` on this context recorded (a fresh record if none)."""
    return read_record(topology.cluster.name, context) or {"context": context}


# What `up` created, which `down` must still remove after a `down --keep-cluster`.
OWNERSHIP_KEYS = (
    "context", "created_cluster", "created_namespaces", "started_simulators",
)  # fmt: skip


def forget(topology: Topology, context: str, *, keep_ownership: bool = False) -> None:
    """Drop the record of ``context`` (after `down` there): the next `up` runs every
    phase. Records of other contexts are left as they are.

    With keep_ownership (`down --keep-cluster`) the record keeps only what `up`
    created, so that `up; down --keep-cluster; up; down` still deletes the
    cluster the first `up` started."""
    cluster = topology.cluster.name
    record = read_record(cluster, context) if keep_ownership else {}
    kept = {key: record[key] for key in OWNERSHIP_KEYS if key in record}
    if kept:
        write_private_json(record_path(cluster, context), kept)
    else:
        record_path(cluster, context).unlink(missing_ok=True)
        forget_context(cluster, context)
