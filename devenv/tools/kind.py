"""kind, through the one subprocess wrapper: the few operations on one cluster."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from devenv.errors import ToolMissing
from devenv.tools.docker import Docker
from devenv.tools.process import run

__all__ = ["KindCluster", "kind_clusters", "kind_context"]


def kind_context(cluster_name: str) -> str:
    """The kube context kind writes for a cluster."""
    return f"kind-{cluster_name}"


def kind_clusters() -> list[str]:
    """The kind clusters on this machine (none when kind is not installed)."""
    try:
        result = run(["kind", "get", "clusters"], check=False, timeout=60)
    except ToolMissing:
        return []
    return result.stdout.split() if result.returncode == 0 else []


class KindCluster:
    def __init__(self, name: str) -> None:
        self.name = name

    @property
    def context(self) -> str:
        return kind_context(self.name)

    def exists(self) -> bool:
        result = run(["kind", "get", "clusters"], timeout=60)
        return self.name in result.stdout.split()

    def create(self, config_path: Path) -> None:
        run(
            ["kind", "create", "cluster", "--name", self.name, "--config", str(config_path),
             "--wait", "0s"],
            timeout=900,
        )  # fmt: skip

    def delete(self) -> None:
        run(["kind", "delete", "cluster", "--name", self.name], timeout=300)

    def nodes(self) -> list[str]:
        return run(["kind", "get", "nodes", "--name", self.name], timeout=60).stdout.split()

    def load(self, images: Sequence[str]) -> None:
        """Load images in one archive (the layers they share are sent once)."""
        run(["kind", "load", "docker-image", "--name", self.name, *images], timeout=900)

    def node_has_image(self, image_id: str) -> bool:
        """Is this exact image (by ID) already in every node's containerd?"""
        docker = Docker()
        for node in self.nodes():
            listing = docker.exec(node, ["crictl", "images", "-o", "json"], check=False)
            if listing is None:
                return False
            ids = {entry.get("id") for entry in json.loads(listing).get("images", [])}
            if image_id not in ids:
                return False
        return True
