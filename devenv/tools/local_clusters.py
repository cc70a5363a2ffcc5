"""Loading images into local clusters that are not kind: one argument list per tool."""

from __future__ import annotations

from collections.abc import Sequence

from devenv.tools.process import run

__all__ = ["k3d_import", "minikube_load"]


def k3d_import(cluster: str, references: Sequence[str]) -> None:
    """`k3d image import`: every image into every node of the k3d cluster at once."""
    run(["k3d", "image", "import", "--cluster", cluster, *references], timeout=1800)


def minikube_load(profile: str, reference: str) -> None:
    """`minikube image load`: one image into the profile's node(s)."""
    run(["minikube", "--profile", profile, "image", "load", reference], timeout=1800)
