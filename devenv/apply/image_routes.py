"""How images built or held on this machine reach the cluster `up` deploys to.

Chosen from the kube context alone (pure, ``choose_route``): devenv's own kind
cluster gets them through its local registry (or `kind load`); a kind cluster
devenv did not create through `kind load`; k3d through `k3d image import`;
minikube through `minikube image load`; Docker Desktop's Kubernetes runs on the
engine that holds them. Any other cluster pulls from a registry: `--push-to
REGISTRY` pushes the built images there and deploys them by digest.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

__all__ = ["DEVENV_KIND_ROUTE", "ImageRoute", "choose_route", "context_provider"]

RouteKind = Literal["devenv-kind", "kind", "k3d", "minikube", "docker-desktop", "registry", "pull"]
MINIKUBE_PROVIDER = "minikube.sigs.k8s.io"


@dataclass(frozen=True)
class ImageRoute:
    kind: RouteKind
    target: str = ""  # the kind or k3d cluster, the minikube profile, the registry

    @property
    def on_kind_network(self) -> bool:
        """Whether the nodes sit on kind's Docker network (where simulators run)."""
        return self.kind in ("devenv-kind", "kind")

    def describe(self) -> str:
        return {
            "devenv-kind": f"devenv's kind cluster {self.target}: its local registry or kind load",
            "kind": f"kind cluster {self.target} (not devenv's): kind load",
            "k3d": f"k3d cluster {self.target}: k3d image import",
            "minikube": f"minikube profile {self.target}: minikube image load",
            "docker-desktop": "Docker Desktop: the cluster runs on this engine, images are there",
            "registry": f"pushed to {self.target} and deployed by digest (--push-to)",
            "pull": "pulled by the cluster from their registries (nothing local reaches it)",
        }[self.kind]


DEVENV_KIND_ROUTE = ImageRoute("devenv-kind")


def context_provider(kubeconfig: Mapping[str, Any], context: str) -> str | None:
    """The provider a kubeconfig's cluster entry names for ``context`` (minikube
    writes its own), or None."""
    contexts = {c.get("name"): c.get("context", {}) for c in kubeconfig.get("contexts") or []}
    cluster = (contexts.get(context) or {}).get("cluster")
    for entry in kubeconfig.get("clusters") or []:
        if entry.get("name") != cluster:
            continue
        for extension in (entry.get("cluster") or {}).get("extensions") or []:
            provider = (extension.get("extension") or {}).get("provider")
            if provider:
                return str(provider)
    return None


def choose_route(
    context: str | None,
    *,
    devenv_cluster: str,
    kind_clusters: Sequence[str],
    push_to: str | None = None,
    provider: str | None = None,
) -> ImageRoute:
    """The route for ``context`` (None: devenv's own kind cluster)."""
    if context is None:
        return ImageRoute("devenv-kind", devenv_cluster)
    if push_to:
        return ImageRoute("registry", push_to.rstrip("/"))
    if context.startswith("kind-") and context.removeprefix("kind-") in kind_clusters:
        name = context.removeprefix("kind-")
        return ImageRoute("devenv-kind" if name == devenv_cluster else "kind", name)
    if context.startswith("k3d-"):
        return ImageRoute("k3d", context.removeprefix("k3d-"))
    if provider == MINIKUBE_PROVIDER or context == "minikube":
        return ImageRoute("minikube", context)
    if context == "docker-desktop":
        return ImageRoute("docker-desktop")
    return ImageRoute("pull")
