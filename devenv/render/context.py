"""What every renderer is given: the topology, the chosen profile and the images."""

from __future__ import annotations

from dataclasses import dataclass

from devenv.topology.images import ImageSet
from devenv.topology.model import ComponentSpec, ProfileSpec, Topology
from devenv.topology.sizing import Sizing, component_sizing

__all__ = ["RenderContext"]


@dataclass(frozen=True)
class RenderContext:
    topology: Topology
    profile: ProfileSpec
    images: ImageSet

    @classmethod
    def of(cls, topology: Topology, profile: str, images: ImageSet) -> RenderContext:
        return cls(topology, topology.profile(profile), images)

    def sizing(self, component: ComponentSpec) -> Sizing:
        return component_sizing(self.topology, self.profile, component)

    def image(self, name: str) -> str:
        return self.images.ref(name)
