"""Topology in, Kubernetes manifests out. Pure: no I/O, same input, same bytes."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from devenv._images import ImageSet
from devenv._topology import Topology
from devenv.render._common import Manifest
from devenv.render.namespaces import render_namespaces, render_quotas
from devenv.render.policies import render_network_policies
from devenv.render.workloads import render_component, render_simulator_services

__all__ = ["Manifest", "RenderedFiles", "render_files", "render_manifests"]

CLUSTER_FILE = "00-cluster.yaml"


@dataclass(frozen=True)
class RenderedFiles:
    """Manifests grouped into files: cluster-scoped objects first, then one per namespace."""

    files: Mapping[str, list[Manifest]]

    def all(self) -> list[Manifest]:
        return [manifest for manifests in self.files.values() for manifest in manifests]


def render_files(topology: Topology, profile: str, images: ImageSet) -> RenderedFiles:
    spec = topology.profile(profile)
    files: dict[str, list[Manifest]] = {CLUSTER_FILE: render_namespaces(topology)}
    for index, namespace in enumerate(topology.namespaces, start=1):
        manifests = render_quotas(topology, spec, namespace)
        manifests += render_network_policies(topology, namespace)
        manifests += render_simulator_services(topology, namespace)
        for component in topology.components_in(namespace):
            for manifest in render_component(topology, component, images, spec):
                if "namespace" in manifest["metadata"]:
                    manifests.append(manifest)
                else:
                    files[CLUSTER_FILE].append(manifest)
        files[f"{index:02d}-{namespace}.yaml"] = manifests
    return RenderedFiles(files)


def render_manifests(topology: Topology, profile: str, images: ImageSet) -> list[Manifest]:
    """Every object of the environment, in apply order."""
    return render_files(topology, profile, images).all()
