"""OpenBao bootstrap: KV v2, Kubernetes auth, one policy and one role per
service account (read on exactly its topology paths), and a dev value for
every secret. Idempotent: a second run changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from devenv.errors import ConfigError
from devenv.secrets.client import BaoClient, OpenBaoError
from devenv.secrets.dev_values import DataAddresses, DevCredentials, rotated_values, secret_values
from devenv.secrets.files import KV_MOUNT, OPENBAO_AUDIENCE
from devenv.topology.model import ComponentSpec, Topology

__all__ = [
    "IN_CLUSTER",
    "POLICY_PREFIX",
    "BootstrapReport",
    "KubernetesAuth",
    "SecretStatus",
    "bootstrap",
    "component_token",
    "list_secrets",
    "policy_document",
    "role_name",
    "rotate",
    "secret_names",
]

POLICY_PREFIX = "finops-"
KUBERNETES_HOST = "https://kubernetes.default.svc"
Action = Literal["created", "updated", "unchanged", "deleted"]


# Written last by a bootstrap that completed: an OpenBao without it started empty
# since (dev mode), or was never fully bootstrapped.
COMPLETED_MARKER = "devenv/bootstrap-completed"


@dataclass
class BootstrapReport:
    actions: list[tuple[str, Action]] = field(default_factory=list)
    # No bootstrap had completed on this OpenBao before: tokens its agents got
    # from an earlier OpenBao are unknown to it.
    fresh_openbao: bool = False

    def record(self, what: str, action: Action) -> None:
        self.actions.append((what, action))

    @property
    def changed(self) -> list[str]:
        return [what for what, action in self.actions if action != "unchanged"]


def policy_name(component: ComponentSpec) -> str:
    return f"{POLICY_PREFIX}{component.name}"


def role_name(component: ComponentSpec) -> str:
    """The component's Kubernetes-auth role: prefixed like its policy, so that
    bootstrap removes only roles devenv made, never another tenant's."""
    return f"{POLICY_PREFIX}{component.name}"


def policy_document(topology: Topology, component: ComponentSpec) -> str:
    """Read on exactly the component's secrets: nothing else, not even listing."""
    blocks = []
    for secret in component.secrets:
        path = topology.secrets[secret].path
        blocks.append(f'path "{KV_MOUNT}/data/{path}" {{\n  capabilities = ["read"]\n}}\n')
    return "\n".join(blocks)


def role_payload(component: ComponentSpec) -> dict[str, Any]:
    """The Kubernetes auth role: the component's service account, its policy only.
    TTLs in seconds, as OpenBao reports them back (so a re-run compares equal)."""
    return {
        "bound_service_account_names": [component.name],
        "bound_service_account_namespaces": [component.namespace],
        "token_policies": [policy_name(component)],
        # Only tokens projected for OpenBao log in (the agent's own; not the API's).
        "audience": OPENBAO_AUDIENCE,
        "token_ttl": 3600,
        "token_max_ttl": 14400,
    }


def _ensure_kv(client: BaoClient, report: BootstrapReport) -> None:
    mount = client.mounts().get(f"{KV_MOUNT}/")
    if mount is None:
        client.request(
            "POST", f"sys/mounts/{KV_MOUNT}", {"type": "kv", "options": {"version": "2"}}
        )
        report.record(f"mount {KV_MOUNT}/ (kv v2)", "created")
    elif (mount.get("options") or {}).get("version") != "2":
        client.request("POST", f"sys/mounts/{KV_MOUNT}/tune", {"options": {"version": "2"}})
        report.record(f"mount {KV_MOUNT}/ upgraded to kv v2", "updated")
    else:
        report.record(f"mount {KV_MOUNT}/ (kv v2)", "unchanged")


@dataclass(frozen=True)
class KubernetesAuth:
    """How OpenBao reaches the API server to review service-account tokens.

    In the cluster (the default) OpenBao uses its own service account and the
    CA in its pod, so the host is all it needs. Elsewhere (tests, compose)
    pass the CA and turn the local lookups off.
    """

    host: str = KUBERNETES_HOST
    ca_pem: str | None = None

    def payload(self) -> dict[str, Any]:
        payload: dict[str, Any] = {"kubernetes_host": self.host}
        if self.ca_pem is not None:
            payload |= {"kubernetes_ca_cert": self.ca_pem, "disable_local_ca_jwt": True}
        return payload


IN_CLUSTER = KubernetesAuth()


def _ensure_kubernetes_auth(
    client: BaoClient, kubernetes: KubernetesAuth, report: BootstrapReport
) -> None:
    if "kubernetes/" not in client.auth_methods():
        client.request("POST", "sys/auth/kubernetes", {"type": "kubernetes"})
        report.record("auth kubernetes/", "created")
    else:
        report.record("auth kubernetes/", "unchanged")
    wanted = kubernetes.payload()
    current = (client.request("GET", "auth/kubernetes/config") or {}).get("data") or {}
    if any(current.get(key) != value for key, value in wanted.items()):
        client.request("POST", "auth/kubernetes/config", wanted)
        report.record("auth kubernetes/ config", "updated")
    else:
        report.record("auth kubernetes/ config", "unchanged")


def _ensure_policies_and_roles(
    client: BaoClient, topology: Topology, report: BootstrapReport, *, roles: bool
) -> None:
    wanted = {c.name: c for c in topology.components.values() if c.secrets}
    for component in wanted.values():
        document = policy_document(topology, component)
        existing = (client.request("GET", f"sys/policies/acl/{policy_name(component)}") or {}).get(
            "data"
        ) or {}
        if existing.get("policy") != document:
            client.request(
                "PUT", f"sys/policies/acl/{policy_name(component)}", {"policy": document}
            )
            report.record(
                f"policy {policy_name(component)}", "created" if not existing else "updated"
            )
        else:
            report.record(f"policy {policy_name(component)}", "unchanged")
        if not roles:
            continue
        payload = role_payload(component)
        role_path = f"auth/kubernetes/role/{role_name(component)}"
        role = (client.request("GET", role_path) or {}).get("data") or {}
        if any(role.get(key) != value for key, value in payload.items()):
            client.request("POST", role_path, payload)
            report.record(f"role {role_name(component)}", "created" if not role else "updated")
        else:
            report.record(f"role {role_name(component)}", "unchanged")
    # Components removed from the topology lose their access.
    policies = (client.request("LIST", "sys/policies/acl") or {}).get("data", {}).get("keys", [])
    for policy in policies:
        if policy.startswith(POLICY_PREFIX) and policy[len(POLICY_PREFIX) :] not in wanted:
            client.request("DELETE", f"sys/policies/acl/{policy}")
            report.record(f"policy {policy}", "deleted")
    if not roles:
        return
    existing = (
        (client.request("LIST", "auth/kubernetes/role") or {}).get("data", {}).get("keys", [])
    )
    ours = {role_name(component) for component in wanted.values()}
    for existing_role in existing:
        if existing_role.startswith(POLICY_PREFIX) and existing_role not in ours:
            client.request("DELETE", f"auth/kubernetes/role/{existing_role}")
            report.record(f"role {existing_role}", "deleted")


def _ensure_secrets(
    client: BaoClient,
    topology: Topology,
    credentials: DevCredentials,
    addresses: DataAddresses,
    report: BootstrapReport,
) -> None:
    for name, secret in topology.secrets.items():
        if client.read_kv(KV_MOUNT, secret.path) is None:
            client.write_kv(KV_MOUNT, secret.path, secret_values(name, credentials, addresses))
            report.record(f"secret {secret.path}", "created")
        else:
            report.record(f"secret {secret.path}", "unchanged")  # rotations are kept


def bootstrap(
    client: BaoClient,
    topology: Topology,
    credentials: DevCredentials,
    addresses: DataAddresses,
    kubernetes: KubernetesAuth | None = IN_CLUSTER,
) -> BootstrapReport:
    """``kubernetes=None`` (compose): no Kubernetes auth and no roles; tokens with
    the same policies stand in for the service accounts."""
    report = BootstrapReport()
    health = client.health()
    if health.get("sealed") or not health.get("initialized", True):
        raise OpenBaoError("OpenBao is sealed or not initialised", hint="restart it in dev mode")
    _ensure_kv(client, report)
    report.fresh_openbao = client.read_kv(KV_MOUNT, COMPLETED_MARKER) is None
    if kubernetes is not None:
        _ensure_kubernetes_auth(client, kubernetes, report)
    _ensure_policies_and_roles(client, topology, report, roles=kubernetes is not None)
    _ensure_secrets(client, topology, credentials, addresses, report)
    if report.fresh_openbao:
        client.write_kv(KV_MOUNT, COMPLETED_MARKER, {"by": "devenv"})
    return report


@dataclass(frozen=True)
class SecretStatus:
    name: str
    path: str
    version: int | None  # None: not in OpenBao yet
    injection: str
    readers: tuple[str, ...]


def component_token(client: BaoClient, component: ComponentSpec, ttl: str = "768h") -> str:
    """A token with exactly the component's policy (compose's stand-in for Kubernetes auth)."""
    body = (
        client.request(
            "POST", "auth/token/create", {"policies": [policy_name(component)], "ttl": ttl}
        )
        or {}
    )
    return str(body["auth"]["client_token"])


def list_secrets(client: BaoClient, topology: Topology) -> list[SecretStatus]:
    statuses = []
    for name, secret in topology.secrets.items():
        metadata = client.request("GET", f"{KV_MOUNT}/metadata/{secret.path}")
        version = (metadata or {}).get("data", {}).get("current_version") if metadata else None
        readers = tuple(c.name for c in topology.components.values() if name in c.secrets)
        statuses.append(SecretStatus(name, secret.path, version, secret.injection, readers))
    return statuses


def secret_names(topology: Topology, keys: Sequence[str]) -> list[str]:
    """The secrets named by name or KV path; ConfigError naming the first unknown one.
    Callers check before their first write: a typo must not leave half a rotation."""
    by_key = {
        **{n: n for n in topology.secrets},
        **{s.path: n for n, s in topology.secrets.items()},
    }
    unknown = [key for key in keys if key not in by_key]
    if unknown:
        raise ConfigError(
            f"unknown secret {unknown[0]!r}",
            hint=f"secrets: {', '.join(sorted(topology.secrets))} (or their KV paths)",
        )
    return [by_key[key] for key in keys]


def rotate(
    client: BaoClient,
    topology: Topology,
    names: list[str],
    *,
    on_rotated: Callable[[str, dict[str, Any]], None] | None = None,
) -> dict[str, int]:
    """Write a new version of each named secret (by name or KV path)."""
    versions = {}
    for name in secret_names(topology, names):
        path = topology.secrets[name].path
        current = client.read_kv(KV_MOUNT, path)
        if current is None:
            raise OpenBaoError(f"secret {path} is not in OpenBao", hint="run `devenv up` first")
        new = rotated_values(name, current[0])
        versions[name] = client.write_kv(KV_MOUNT, path, new)
        if on_rotated is not None:
            on_rotated(name, new)
    return versions
