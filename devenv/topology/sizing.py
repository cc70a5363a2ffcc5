"""Resource sizing: each container's requests and limits, each pod's footprint,
and the namespace quotas that must hold them all (DEV-INF-006)."""

from __future__ import annotations

from dataclasses import dataclass

from devenv.topology.model import ComponentSpec, ProfileSpec, ResourceSpec, Topology
from devenv.topology.quantity import format_cpu, format_memory, parse_cpu, parse_memory

__all__ = ["Footprint", "Sizing", "component_sizing", "namespace_footprint"]

# Room a quota keeps above the steady state: one rolling-update surge pod and one
# pod for a Job or a debug session, each as large as the largest pod there.
QUOTA_SPARE_PODS = 2


@dataclass(frozen=True)
class Footprint:
    """Requests and limits, CPU in millicores and memory in bytes."""

    cpu_request: int = 0
    memory_request: int = 0
    cpu_limit: int = 0
    memory_limit: int = 0

    def __add__(self, other: Footprint) -> Footprint:
        return Footprint(
            self.cpu_request + other.cpu_request,
            self.memory_request + other.memory_request,
            self.cpu_limit + other.cpu_limit,
            self.memory_limit + other.memory_limit,
        )

    def times(self, count: int) -> Footprint:
        return Footprint(
            self.cpu_request * count,
            self.memory_request * count,
            self.cpu_limit * count,
            self.memory_limit * count,
        )

    def max(self, other: Footprint) -> Footprint:
        return Footprint(
            max(self.cpu_request, other.cpu_request),
            max(self.memory_request, other.memory_request),
            max(self.cpu_limit, other.cpu_limit),
            max(self.memory_limit, other.memory_limit),
        )

    @classmethod
    def of(cls, spec: ResourceSpec) -> Footprint:
        if spec.requests is None or spec.limits is None:
            raise ValueError("a footprint needs both requests and limits")
        return cls(
            parse_cpu(spec.requests.cpu),
            parse_memory(spec.requests.memory),
            parse_cpu(spec.limits.cpu),
            parse_memory(spec.limits.memory),
        )

    def as_resources(self) -> dict[str, dict[str, str]]:
        """The ``resources`` block of a container."""
        return {
            "requests": {
                "cpu": format_cpu(self.cpu_request),
                "memory": format_memory(self.memory_request),
            },
            "limits": {
                "cpu": format_cpu(self.cpu_limit),
                "memory": format_memory(self.memory_limit),
            },
        }


@dataclass(frozen=True)
class Sizing:
    """What one component runs with under a profile."""

    replicas: int
    container: Footprint
    secret_agent: Footprint | None  # the injected OpenBao agent, when the pod has one

    @property
    def pod(self) -> Footprint:
        """A pod's quota charge: its containers together, or its largest init container
        if that is larger (the agent's init container runs before the app starts)."""
        if self.secret_agent is None:
            return self.container
        return (self.container + self.secret_agent).max(self.secret_agent)


def component_sizing(topology: Topology, profile: ProfileSpec, component: ComponentSpec) -> Sizing:
    by_kind = profile.kinds.get(component.kind)
    override = profile.components.get(component.name)
    requests = (override and override.requests) or (by_kind and by_kind.requests)
    limits = (override and override.limits) or (by_kind and by_kind.limits)
    replicas = override.replicas if override and override.replicas is not None else None
    if replicas is None:
        replicas = (
            by_kind.replicas if by_kind and by_kind.replicas is not None else profile.replicas
        )
    container = Footprint.of(ResourceSpec(requests=requests, limits=limits))
    injected = bool(topology.injected_secrets(component))
    return Sizing(
        replicas=replicas,
        container=container,
        secret_agent=Footprint.of(profile.secret_agent) if injected else None,
    )


@dataclass(frozen=True)
class NamespaceFootprint:
    steady: Footprint
    largest_pod: Footprint
    pods: int

    @property
    def quota(self) -> Footprint:
        return self.steady + self.largest_pod.times(QUOTA_SPARE_PODS)

    @property
    def quota_pods(self) -> int:
        return self.pods + QUOTA_SPARE_PODS


def namespace_footprint(
    topology: Topology, profile: ProfileSpec, namespace: str
) -> NamespaceFootprint:
    steady, largest, pods = Footprint(), Footprint(), 0
    for component in topology.components_in(namespace):
        sizing = component_sizing(topology, profile, component)
        steady = steady + sizing.pod.times(sizing.replicas)
        largest = largest.max(sizing.pod)
        pods += sizing.replicas
    return NamespaceFootprint(steady=steady, largest_pod=largest, pods=pods)
