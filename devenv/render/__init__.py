"""Stage 2, topology in, Kubernetes manifests out. Pure: no I/O, same input, same bytes.

Owns every object devenv applies: namespaces with quotas (``namespaces``),
NetworkPolicies (``policies``), each component's objects (``stubs``, ``data``,
``openbao``, ``cert_manager``, built on the shared ``objects``), the Secrets devenv makes
(``dev_secrets``), the simulators' Service and EndpointSlice (``simulators``),
kind's cluster config and the registry ConfigMap (``kind_config``), the
NetworkPolicy enforcer `up` may install (``policy_enforcer``: kube-router) and
the compose layout (``compose``). Renderers take one ``RenderContext``
(``context``: topology, profile, images).

Must not: read files, run programs or talk to a cluster; values such as
credentials come in as arguments.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from devenv.render.cert_manager import render_cainjector, render_controller, render_webhook
from devenv.render.context import RenderContext
from devenv.render.data import render_postgres, render_redis
from devenv.render.namespaces import render_namespaces, render_quotas
from devenv.render.objects import Manifest, component_of
from devenv.render.openbao import render_injector, render_openbao
from devenv.render.policies import render_network_policies
from devenv.render.simulators import render_simulator_services
from devenv.render.stubs import render_stub
from devenv.topology.images import ImageSet
from devenv.topology.model import ComponentSpec, Topology

__all__ = [
    "PARTS",
    "Manifest",
    "RenderContext",
    "RenderedFiles",
    "is_stub_object",
    "render_component",
    "render_files",
    "render_manifests",
]

CLUSTER_FILE = "00-cluster.yaml"

# What a component that is not a stub runs decides how it is rendered.
_BY_IMAGE: dict[str, Callable[[RenderContext, ComponentSpec], list[Manifest]]] = {
    "timescaledb": render_postgres,
    "redis": render_redis,
    "openbao": render_openbao,
    "vault-k8s": render_injector,
    "cert-manager-controller": render_controller,
    "cert-manager-webhook": render_webhook,
    "cert-manager-cainjector": render_cainjector,
}


def render_component(context: RenderContext, component: ComponentSpec) -> list[Manifest]:
    """The objects of one component, chosen by what it runs."""
    if component.is_stub:
        return render_stub(context, component)
    renderer = _BY_IMAGE.get(component.image)
    if renderer is None:
        raise ValueError(f"no renderer for {component.name} (image {component.image})")
    return renderer(context, component)


@dataclass(frozen=True)
class RenderedFiles:
    """Manifests grouped into files: cluster-scoped objects first, then one per namespace."""

    files: Mapping[str, list[Manifest]]

    def all(self) -> list[Manifest]:
        return [manifest for manifests in self.files.values() for manifest in manifests]


def render_files(topology: Topology, profile: str, images: ImageSet) -> RenderedFiles:
    context = RenderContext.of(topology, profile, images)
    files: dict[str, list[Manifest]] = {CLUSTER_FILE: render_namespaces(topology)}
    for index, namespace in enumerate(topology.namespaces, start=1):
        manifests = render_quotas(topology, context.profile, namespace)
        manifests += render_network_policies(topology, namespace)
        manifests += render_simulator_services(topology, namespace)
        for component in topology.components_in(namespace):
            for manifest in render_component(context, component):
                if "namespace" in manifest["metadata"]:
                    manifests.append(manifest)
                else:
                    files[CLUSTER_FILE].append(manifest)
        files[f"{index:02d}-{namespace}.yaml"] = manifests
    return RenderedFiles(files)


def render_manifests(topology: Topology, profile: str, images: ImageSet) -> list[Manifest]:
    """Every object of the environment, in apply order."""
    return render_files(topology, profile, images).all()


PARTS = ("platform", "stubs")


def is_stub_object(topology: Topology, manifest: Manifest) -> bool:
    """The stubs' own objects (what Tilt's inner loop applies); the rest is the
    platform: namespaces, policies, data layer, OpenBao, the simulators' Services."""
    owner = component_of(manifest)
    return owner is not None and owner in topology.components and topology.components[owner].is_stub
