"""External endpoints' dev simulators (the cloud-API simulator): a selector-less
Service in the cluster, and the EndpointSlice that points it at the simulator
`devenv up` runs outside the cluster, so calls leave the pod network as real
cloud API calls do."""

from __future__ import annotations

from devenv.render.objects import Manifest, metadata
from devenv.topology.labels import SERVICE_NAME_LABEL, SIMULATES_LABEL
from devenv.topology.model import Topology

__all__ = [
    "kind_cluster_of",
    "render_simulator_endpoints",
    "render_simulator_services",
    "simulated_endpoints",
    "simulator_config",
    "simulator_container",
    "simulator_hosts",
    "simulator_tls_volume",
]


def simulated_endpoints(topology: Topology) -> list[str]:
    """The external endpoints that have a dev simulator."""
    return [name for name, spec in topology.spec.external.items() if spec.simulator is not None]


def kind_cluster_of(topology: Topology, context: str) -> str:
    """The kind cluster a context names (kind-<name>), else the topology's."""
    return context.removeprefix("kind-") if context.startswith("kind-") else topology.cluster.name


def simulator_container(topology: Topology, endpoint: str, context: str) -> str:
    """The container `up` runs beside the kind cluster of ``context`` for an
    external endpoint's simulator (one per cluster: two may share kind's network)."""
    return f"{kind_cluster_of(topology, context)}-{endpoint}-simulator"


def simulator_tls_volume(topology: Topology, endpoint: str, context: str) -> str:
    """The Docker volume holding the simulator's certificate and key."""
    return f"{simulator_container(topology, endpoint, context)}-tls"


def render_simulator_services(topology: Topology, namespace: str) -> list[Manifest]:
    """Selector-less Services for external endpoints with a dev simulator."""
    return [
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": metadata(spec.simulator.service, namespace, labels={SIMULATES_LABEL: name}),
            "spec": {"ports": [{"port": spec.simulator.port, "protocol": "TCP"}]},
        }
        for name, spec in topology.spec.external.items()
        if spec.simulator is not None and spec.simulator.namespace == namespace
    ]


def render_simulator_endpoints(topology: Topology, endpoint: str, address: str) -> Manifest:
    """The EndpointSlice that sends the simulator Service's traffic to ``address``."""
    simulator = topology.spec.external[endpoint].simulator
    assert simulator is not None  # noqa: S101 - only endpoints with a simulator get here
    return {
        "apiVersion": "discovery.k8s.io/v1",
        "kind": "EndpointSlice",
        "metadata": metadata(
            f"{simulator.service}-simulator",
            simulator.namespace,
            labels={SERVICE_NAME_LABEL: simulator.service},
        ),
        "addressType": "IPv4",
        "ports": [{"port": simulator.port, "protocol": "TCP"}],
        "endpoints": [{"addresses": [address]}],
    }


def simulator_config(topology: Topology, endpoint: str) -> dict[str, object]:
    """The ``STUB_CONFIG`` of a simulator: a stub in the cloud-api role."""
    simulator = topology.spec.external[endpoint].simulator
    assert simulator is not None  # noqa: S101 - only endpoints with a simulator get here
    # HTTPS like the API it stands for, with a certificate from the dev CA.
    return {"component": endpoint, "kind": "cloud-api", "port": simulator.port, "tls": True}


def simulator_hosts(topology: Topology, endpoint: str) -> list[str]:
    """The names pods reach the simulator by (its Service): its certificate's names."""
    simulator = topology.spec.external[endpoint].simulator
    assert simulator is not None  # noqa: S101 - only endpoints with a simulator get here
    service = f"{simulator.service}.{simulator.namespace}.svc"
    return [f"{service}.cluster.local", service, simulator.service]
