"""External endpoints' dev simulators (the cloud-API simulator): a selector-less
Service in the cluster, and the EndpointSlice that points it at the simulator
`devenv up` runs outside the cluster, so calls leave the pod network as real
cloud API calls do."""

from __future__ import annotations

from devenv.render.objects import Manifest, metadata
from devenv.secrets.files import KV_MOUNT, TLS_DIR
from devenv.topology.labels import SERVICE_NAME_LABEL, SIMULATES_LABEL
from devenv.topology.model import Topology

__all__ = [
    "OPENBAO_SIMULATOR_NODE_PORT",
    "SIMULATOR_CA_FILE",
    "SIMULATOR_TOKEN_DIR",
    "SIMULATOR_TOKEN_FILE",
    "kind_cluster_of",
    "render_simulator_endpoints",
    "render_simulator_services",
    "simulated_endpoints",
    "simulator_config",
    "simulator_container",
    "simulator_hosts",
    "simulator_openbao_volume",
    "simulator_tls_volume",
]


# The NodePort on which a simulator (outside the cluster) reaches OpenBao: kind
# maps no host port to it, so only containers on kind's network can connect, and
# OpenBao's NetworkPolicy admits the simulator's address alone.
OPENBAO_SIMULATOR_NODE_PORT = 30820


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


def simulator_openbao_volume(topology: Topology, endpoint: str, context: str) -> str:
    """The Docker volume holding the simulator's OpenBao token (written by `up`)."""
    return f"{simulator_container(topology, endpoint, context)}-openbao"


# Where a simulator finds its OpenBao token and the CA that OpenBao's certificate
# is checked with (the dev CA's, beside its own serving certificate).
SIMULATOR_TOKEN_DIR = "/run/openbao"  # noqa: S105 - a directory
SIMULATOR_TOKEN_FILE = f"{SIMULATOR_TOKEN_DIR}/token"
SIMULATOR_CA_FILE = f"{TLS_DIR}/ca.crt"


def simulator_config(topology: Topology, endpoint: str, context: str) -> dict[str, object]:
    """The ``STUB_CONFIG`` of a simulator: a stub in the cloud-api role. Where a
    secret is read at run time, it checks signed calls against OpenBao, which it
    reaches on the kind node's NodePort (the certificate's name given as SNI)."""
    simulator = topology.spec.external[endpoint].simulator
    assert simulator is not None  # noqa: S101 - only endpoints with a simulator get here
    # HTTPS like the API it stands for, with a certificate from the dev CA.
    config: dict[str, object] = {
        "component": endpoint, "kind": "cloud-api", "port": simulator.port, "tls": True,
    }  # fmt: skip
    runtime = topology.runtime_secret
    if runtime is not None:
        openbao = topology.components["openbao"]
        node = f"{kind_cluster_of(topology, context)}-control-plane"
        config["tenant_credentials"] = {
            "address": f"https://{node}:{OPENBAO_SIMULATOR_NODE_PORT}",
            "tls_server_name": f"{openbao.name}.{openbao.namespace}.svc",
            "kv_mount": KV_MOUNT,
            "path_prefix": runtime.path,
            "token_file": SIMULATOR_TOKEN_FILE,
            "ca_file": SIMULATOR_CA_FILE,
        }
    return config


def simulator_hosts(topology: Topology, endpoint: str) -> list[str]:
    """The names pods reach the simulator by (its Service): its certificate's names."""
    simulator = topology.spec.external[endpoint].simulator
    assert simulator is not None  # noqa: S101 - only endpoints with a simulator get here
    service = f"{simulator.service}.{simulator.namespace}.svc"
    return [f"{service}.cluster.local", service, simulator.service]
