"""OpenBao bootstrap: KV v2, Kubernetes auth, one policy and one role per
service account (read on exactly its topology paths), and a dev value for
every secret. Idempotent: a second run changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from devenv.secrets.client import BaoClient, OpenBaoError
from devenv.secrets.dev_values import (
    DataAddresses,
    DevCredentials,
    secret_values,
    tenant_seed_key,
)
from devenv.secrets.files import KV_MOUNT, OPENBAO_AUDIENCE
from devenv.topology.model import ComponentSpec, Topology

__all__ = [
    "IN_CLUSTER",
    "POLICY_PREFIX",
    "BootstrapReport",
    "KubernetesAuth",
    "bootstrap",
    "component_token",
    "policy_document",
    "role_name",
    "simulator_policy_name",
    "simulator_token",
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


def _read_block(path: str) -> str:
    return f'path "{KV_MOUNT}/data/{path}" {{\n  capabilities = ["read"]\n}}\n'


def policy_document(topology: Topology, component: ComponentSpec) -> str:
    """Read on exactly the component's secrets: nothing else, not even listing. A
    runtime secret: every tenant's entry for the component's own clouds only."""
    blocks = []
    for secret in component.secrets:
        spec = topology.secrets[secret]
        if spec.injection == "runtime":
            blocks += [_read_block(f"{spec.path}/+/{cloud}") for cloud in component.clouds]
        else:
            blocks.append(_read_block(spec.path))
    return "\n".join(blocks)


def simulator_policy_name(endpoint: str) -> str:
    return f"{POLICY_PREFIX}simulator-{endpoint}"


def simulator_policy_document(topology: Topology) -> str:
    """A cloud-API simulator checks signed calls against every tenant's current
    credential: read on the runtime secret's entries, nothing else ("" without one)."""
    runtime = topology.runtime_secret
    return _read_block(f"{runtime.path}/+/+") if runtime is not None else ""


def simulator_token(client: BaoClient, endpoint: str, ttl: str = "768h") -> str:
    """A token for a simulator (outside the cluster: no service account to log in with)."""
    body = client.request(
        "POST", "auth/token/create", {"policies": [simulator_policy_name(endpoint)], "ttl": ttl}
    )
    return str((body or {})["auth"]["client_token"])


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
    simulators = _simulator_policies(topology)
    for name, document in simulators.items():
        existing = (client.request("GET", f"sys/policies/acl/{name}") or {}).get("data") or {}
        if existing.get("policy") != document:
            client.request("PUT", f"sys/policies/acl/{name}", {"policy": document})
            report.record(f"policy {name}", "created" if not existing else "updated")
        else:
            report.record(f"policy {name}", "unchanged")
    # Components removed from the topology lose their access.
    policies = (client.request("LIST", "sys/policies/acl") or {}).get("data", {}).get("keys", [])
    for policy in policies:
        if policy in simulators:
            continue
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


def _simulator_policies(topology: Topology) -> dict[str, str]:
    """Policy name -> document for each external endpoint's simulator, when some
    secret is read at run time (the simulators check what it signs)."""
    document = simulator_policy_document(topology)
    if not document:
        return {}
    return {
        simulator_policy_name(name): document
        for name, endpoint in topology.spec.external.items()
        if endpoint.simulator is not None
    }


def _ensure_secrets(
    client: BaoClient,
    topology: Topology,
    credentials: DevCredentials,
    addresses: DataAddresses,
    report: BootstrapReport,
) -> None:
    for name, secret in topology.secrets.items():
        if secret.injection == "runtime":
            _ensure_tenant_entries(client, topology, name, credentials, report)
            continue
        if client.read_kv(KV_MOUNT, secret.path) is None:
            client.write_kv(KV_MOUNT, secret.path, secret_values(name, credentials, addresses))
            report.record(f"secret {secret.path}", "created")
        else:
            report.record(f"secret {secret.path}", "unchanged")  # rotations are kept


def _ensure_tenant_entries(
    client: BaoClient,
    topology: Topology,
    name: str,
    credentials: DevCredentials,
    report: BootstrapReport,
) -> None:
    """Each synthetic tenant's credential for each cloud (kept: rotations too)."""
    for tenant, cloud, path in topology.tenant_paths(name):
        if client.read_kv(KV_MOUNT, path) is None:
            client.write_kv(
                KV_MOUNT, path, dict(credentials.seeds[tenant_seed_key(name, tenant, cloud)])
            )
            report.record(f"secret {path}", "created")
        else:
            report.record(f"secret {path}", "unchanged")


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


def component_token(client: BaoClient, component: ComponentSpec, ttl: str = "768h") -> str:
    """A token with exactly the component's policy (compose's stand-in for Kubernetes auth)."""
    body = (
        client.request(
            "POST", "auth/token/create", {"policies": [policy_name(component)], "ttl": ttl}
        )
        or {}
    )
    return str(body["auth"]["client_token"])
