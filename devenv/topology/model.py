"""The platform topology as frozen data: the file's schema and the resolved view.

``devenv.topology.loader.load_topology`` reads and cross-checks a file into a ``Topology``.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from devenv.errors import ConfigError
from devenv.topology.lifetime import CertificateLifetime
from devenv.topology.quantity import parse_cpu, parse_memory

__all__ = [
    "KUBE_APISERVER",
    "SECRET_READERS",
    "STUB_KINDS",
    "ComponentSpec",
    "PortSpec",
    "Topology",
    "TopologyFile",
]

ComponentKind = Literal["gateway", "frontend", "agent", "mcp", "worker", "data", "platform"]
STUB_KINDS: frozenset[str] = frozenset({"gateway", "frontend", "agent", "mcp", "worker"})
SECRET_READERS = "secret-readers"  # noqa: S105 - a rule keyword, not a credential
KUBE_APISERVER = "kube-apiserver"

_PORT_NAME = re.compile(r"^(?=.*[a-z])[a-z0-9]([-a-z0-9]{0,13}[a-z0-9])?$")


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


class PortSpec(_Model):
    name: str
    port: int = Field(ge=1, le=65535)
    service_port: int | None = Field(default=None, ge=1, le=65535)
    # Published on every node (Service type NodePort); kind maps it to the host.
    node_port: int | None = Field(default=None, ge=30000, le=32767)
    protocol: Literal["TCP", "UDP"] = "TCP"

    @field_validator("name")
    @classmethod
    def _port_name(cls, value: str) -> str:
        if not _PORT_NAME.match(value):
            raise ValueError("a port name is 1-15 lowercase letters, digits or '-' (IANA_SVC_NAME)")
        return value

    @property
    def exposed_port(self) -> int:
        """The port the Service offers (defaults to the container port)."""
        return self.service_port or self.port

    def matches(self, wanted: int | str) -> bool:
        """A rule's port (number or name) names this port."""
        if isinstance(wanted, str):
            return wanted == self.name
        return wanted in (self.port, self.service_port)


# Probed by exec (pg_isready, redis-cli: devenv/render/data.py): no port admits the kubelet.
EXEC_PROBED_IMAGES = frozenset({"timescaledb", "redis"})


class DnsSpec(_Model):
    namespace: str
    pod_labels: dict[str, str]
    port: int = 53


class ClusterSpec(_Model):
    name: str
    kubernetes_version: str
    pod_cidrs: tuple[ipaddress.IPv4Network, ...]
    service_cidrs: tuple[ipaddress.IPv4Network, ...]
    node_cidrs: tuple[ipaddress.IPv4Network, ...] = Field(min_length=1)
    # The nodes' own addresses, once known (`up` reads them from the cluster); until
    # then every address of the node networks counts as a node.
    node_addresses: tuple[ipaddress.IPv4Address, ...] = ()
    api_server_ports: tuple[int, ...]
    dns: DnsSpec

    @property
    def node_networks(self) -> tuple[ipaddress.IPv4Network, ...]:
        """Where the kubelet, the API server and its webhook calls come from: each
        node's address when known, else the whole node networks."""
        if self.node_addresses:
            return tuple(ipaddress.IPv4Network(address) for address in self.node_addresses)
        return self.node_cidrs

    @property
    def cluster_internal_cidrs(self) -> tuple[ipaddress.IPv4Network, ...]:
        """Pod and Service ranges: excluded from every ipBlock so that rules about
        the outside world never open pod-to-pod paths."""
        return self.pod_cidrs + self.service_cidrs


class ZoneSpec(_Model):
    description: str
    ref: str | None = None


class SimulatorSpec(_Model):
    """A stand-in for an external endpoint: `devenv up` runs it outside the
    cluster and gives pods a selector-less Service that leads to it."""

    namespace: str
    service: str
    port: int = Field(ge=1, le=65535)


class ExternalSpec(_Model):
    description: str
    cidrs: tuple[ipaddress.IPv4Network, ...] = Field(min_length=1)
    # Carved out of ``cidrs`` (private and link-local ranges, for cloud APIs).
    excluded_cidrs: tuple[ipaddress.IPv4Network, ...] = ()
    probe_address: ipaddress.IPv4Address
    ports: tuple[int, ...] = Field(min_length=1)
    simulator: SimulatorSpec | None = None
    # Where the simulator runs once `up` started it (kind's network: admitted even if excluded).
    simulator_address: ipaddress.IPv4Address | None = None

    def covers(self, address: ipaddress.IPv4Address) -> bool:
        """Whether ``address`` is this endpoint (cluster ranges are the caller's to exclude)."""
        if address == self.simulator_address:
            return True
        if any(address in excluded for excluded in self.excluded_cidrs):
            return False
        return any(address in cidr for cidr in self.cidrs)

    def simulator_url(self) -> str | None:
        if self.simulator is None:
            return None
        sim = self.simulator
        return f"https://{sim.service}.{sim.namespace}.svc.cluster.local:{sim.port}"


class NamespaceSpec(_Model):
    zone: str
    ref: str | None = None


Ports = Literal["any"] | tuple[int | str, ...]


class ZoneRule(_Model):
    name: str
    source: str = Field(alias="from")
    destination: str = Field(alias="to")
    ports: Ports
    ref: str


class SameZoneSpec(_Model):
    allowed: bool
    ref: str


class Denial(_Model):
    source: str = Field(alias="from")
    destination: str = Field(alias="to")
    ref: str


class PlatformRuleSpec(_Model):
    ref: str


class PlatformRules(_Model):
    dns: PlatformRuleSpec
    kubelet_probes: PlatformRuleSpec


class ExceptionRule(_Model):
    """A documented exception to §5.2, with the reason and how it is bounded."""

    name: str
    source: str | tuple[str, ...] = Field(alias="from")
    destination: str | tuple[str, ...] = Field(alias="to")
    ports: Ports
    ref: str
    resolution: str


Cloud = Literal["aws", "azure", "gcp"]
CLOUDS: tuple[Cloud, ...] = ("aws", "azure", "gcp")


class SecretSpec(_Model):
    path: str
    injection: Literal["sidecar", "runtime"]
    ref: str
    description: str | None = None
    # A runtime secret is one entry per tenant and cloud, at <path>/<tenant>/<cloud>:
    # the synthetic tenants the environment seeds (dev data, never real ones).
    tenants: tuple[str, ...] = ()


class KindDefaults(_Model):
    image: str | None = None
    ports: tuple[PortSpec, ...] | None = None
    probe_scheme: Literal["HTTP", "HTTPS"] | None = None


class ComponentFile(_Model):
    namespace: str
    zone: str | None = None
    kind: ComponentKind
    image: str | None = None
    ports: tuple[PortSpec, ...] | None = None
    probe_scheme: Literal["HTTP", "HTTPS"] | None = None
    secrets: tuple[str, ...] = ()
    calls: tuple[str, ...] = ()
    # The clouds whose tenant credentials it reads at run time (a runtime secret's).
    clouds: tuple[Cloud, ...] = ()
    ref: str | None = None


class Resources(_Model):
    cpu: str
    memory: str

    @field_validator("cpu")
    @classmethod
    def _cpu(cls, value: str) -> str:
        parse_cpu(value)
        return value

    @field_validator("memory")
    @classmethod
    def _memory(cls, value: str) -> str:
        parse_memory(value)
        return value


class ResourceSpec(_Model):
    requests: Resources | None = None
    limits: Resources | None = None
    replicas: int | None = Field(default=None, ge=0)


class ProfileSpec(_Model):
    description: str
    replicas: int = Field(ge=0)
    kinds: dict[ComponentKind, ResourceSpec]
    components: dict[str, ResourceSpec] = {}
    secret_agent: ResourceSpec
    certificates: CertificateLifetime = CertificateLifetime()


class TopologyFile(_Model):
    schema_version: Literal[1]
    cluster: ClusterSpec
    zones: dict[str, ZoneSpec]
    external: dict[str, ExternalSpec]
    namespaces: dict[str, NamespaceSpec]
    zone_rules: tuple[ZoneRule, ...]
    same_zone: SameZoneSpec
    denied: tuple[Denial, ...] = ()
    platform_rules: PlatformRules
    exceptions: tuple[ExceptionRule, ...] = ()
    secrets: dict[str, SecretSpec]
    kind_defaults: dict[ComponentKind, KindDefaults] = {}
    components: dict[str, ComponentFile]
    profiles: dict[str, ProfileSpec]


@dataclass(frozen=True)
class ComponentSpec:
    """One component with every default applied."""

    name: str
    namespace: str
    zone: str
    kind: ComponentKind
    image: str
    ports: tuple[PortSpec, ...]
    probe_scheme: Literal["HTTP", "HTTPS"]
    secrets: tuple[str, ...]
    calls: tuple[str, ...]
    ref: str | None
    clouds: tuple[Cloud, ...] = ()

    @property
    def is_stub(self) -> bool:
        return self.kind in STUB_KINDS

    @property
    def http_probe_port(self) -> PortSpec | None:
        """The port the kubelet's HTTP(S) probes use; None for exec-probed servers."""
        return None if self.image in EXEC_PROBED_IMAGES else self.primary_port

    @property
    def primary_port(self) -> PortSpec:
        return self.ports[0]


@dataclass(frozen=True)
class Topology:
    """The validated topology. ``source`` names the file it came from."""

    source: str
    spec: TopologyFile
    components: Mapping[str, ComponentSpec]

    @property
    def cluster(self) -> ClusterSpec:
        return self.spec.cluster

    def pinned(
        self,
        *,
        node_addresses: Iterable[ipaddress.IPv4Address] = (),
        simulator_addresses: Mapping[str, ipaddress.IPv4Address] | None = None,
    ) -> Topology:
        """This topology with what only a running environment knows: its nodes'
        addresses (node rules then admit those alone) and where each external
        endpoint's simulator runs."""
        spec = self.spec
        if node_addresses:
            cluster = spec.cluster.model_copy(
                update={"node_addresses": tuple(sorted(node_addresses))}
            )
            spec = spec.model_copy(update={"cluster": cluster})
        if simulator_addresses:
            external = {
                name: endpoint.model_copy(
                    update={"simulator_address": simulator_addresses.get(name)}
                )
                for name, endpoint in spec.external.items()
            }
            spec = spec.model_copy(update={"external": external})
        return replace(self, spec=spec)

    @property
    def namespaces(self) -> Mapping[str, NamespaceSpec]:
        return self.spec.namespaces

    @property
    def secrets(self) -> Mapping[str, SecretSpec]:
        return self.spec.secrets

    @property
    def profiles(self) -> Mapping[str, ProfileSpec]:
        return self.spec.profiles

    def profile(self, name: str) -> ProfileSpec:
        if name not in self.spec.profiles:
            raise ConfigError(
                f"unknown profile {name!r}",
                hint=f"profiles in {self.source}: {', '.join(sorted(self.spec.profiles))}",
            )
        return self.spec.profiles[name]

    def components_in(self, namespace: str) -> list[ComponentSpec]:
        return [c for c in self.components.values() if c.namespace == namespace]

    def zones_in(self, namespace: str) -> list[str]:
        """Every zone with a component in the namespace, the namespace's own first."""
        own = self.namespaces[namespace].zone
        others = sorted({c.zone for c in self.components_in(namespace)} - {own})
        return [own, *others]

    def secret_readers(self, injection: str | None = None) -> list[ComponentSpec]:
        return [
            c
            for c in self.components.values()
            if any(injection is None or self.secrets[s].injection == injection for s in c.secrets)
        ]

    def injected_secrets(self, component: ComponentSpec) -> list[str]:
        return [s for s in component.secrets if self.secrets[s].injection == "sidecar"]

    @property
    def runtime_secret(self) -> SecretSpec | None:
        """The secret read at run time, per tenant and cloud (the loader allows one)."""
        return next((s for s in self.secrets.values() if s.injection == "runtime"), None)

    def runtime_secrets(self, component: ComponentSpec) -> list[str]:
        runtime = {name for name, s in self.secrets.items() if s.injection == "runtime"}
        return [s for s in component.secrets if s in runtime]

    def tenant_paths(self, secret: str) -> list[tuple[str, str, str]]:
        """(tenant, cloud, KV path): each seeded tenant, for each cloud its readers read."""
        spec = self.secrets[secret]
        clouds = {cl for c in self.components.values() if secret in c.secrets for cl in c.clouds}
        return [
            (tenant, cloud, f"{spec.path}/{tenant}/{cloud}")
            for tenant in spec.tenants
            for cloud in CLOUDS
            if cloud in clouds
        ]
