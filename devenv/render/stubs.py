"""The stub services: what each plays (its ``STUB_CONFIG``), and its pod, with
the OpenBao agent annotations that make the injector write its secrets as files.

Secrets never appear here: stubs get theirs as files from the agent (§6.1).
"""

from __future__ import annotations

import json
from typing import Any

from devenv.render.context import RenderContext
from devenv.render.objects import (
    RESTRICTED_CONTAINER,
    Manifest,
    component_objects,
    container_ports,
    pod_security,
)
from devenv.secrets.bootstrap import role_name
from devenv.secrets.files import (
    AGENT_TLS_DIR,
    CA_DIR,
    DEV_CA_SECRET,
    KV_MOUNT,
    OPENBAO_AUDIENCE,
    SECRET_FILE_MODE,
    SECRETS_DIR,
    STATIC_SECRET_RENDER_INTERVAL,
    TLS_DIR,
    secret_file_template,
)
from devenv.topology.labels import AGENT_ANNOTATION_PREFIX
from devenv.topology.model import ComponentSpec, Topology
from devenv.topology.sizing import Footprint

__all__ = ["render_stub", "service_url", "stub_config", "tls_secret_name"]

STUB_UID = 10001
STOP_GRACE_SECONDS = 5
# The agent's own service-account token: projected for OpenBao only and mounted in
# the agent's containers alone (the app container gets no token at all).
AGENT_TOKEN_VOLUME = "openbao-token"  # noqa: S105 - a volume name
AGENT_TOKEN_SECONDS = 600  # the kubelet renews it at 80 % of its life
# Seconds between SIGTERM and the agent's `token revoke -self` (its preStop hook):
# well inside the pod's grace, so the token dies with the pod.
AGENT_REVOKE_GRACE = 1


def service_url(topology: Topology, name: str) -> str:
    component = topology.components[name]
    port = component.primary_port
    scheme = "https" if component.probe_scheme == "HTTPS" else "http"
    host = f"{name}.{component.namespace}.svc.cluster.local"
    return f"{scheme}://{host}:{port.exposed_port}"


def tls_secret_name(component: ComponentSpec) -> str:
    return f"{component.name}-tls"


def injection_annotations(
    topology: Topology, component: ComponentSpec, agent: Footprint, agent_image: str
) -> dict[str, str]:
    """The vault.hashicorp.com/* annotations that make the injector write the secrets."""
    secrets = topology.injected_secrets(component)
    if not secrets:
        return {}
    resources = agent.as_resources()
    prefix = AGENT_ANNOTATION_PREFIX
    annotations = {
        f"{prefix}agent-inject": "true",
        f"{prefix}role": role_name(component),
        f"{prefix}agent-pre-populate": "true",
        # Named per pod (not only in the injector's defaults) so that a new agent
        # image changes the pod template and rolls the pods.
        f"{prefix}agent-image": agent_image,
        f"{prefix}template-static-secret-render-interval": STATIC_SECRET_RENDER_INTERVAL,
        f"{prefix}agent-requests-cpu": resources["requests"]["cpu"],
        f"{prefix}agent-requests-mem": resources["requests"]["memory"],
        f"{prefix}agent-limits-cpu": resources["limits"]["cpu"],
        f"{prefix}agent-limits-mem": resources["limits"]["memory"],
        # OpenBao serves TLS from the dev CA: the agent mounts the CA's Secret.
        f"{prefix}tls-secret": DEV_CA_SECRET,
        f"{prefix}ca-cert": f"{AGENT_TLS_DIR}/ca.crt",
        f"{prefix}agent-service-account-token-volume-name": AGENT_TOKEN_VOLUME,
        f"{prefix}agent-revoke-on-shutdown": "true",
        f"{prefix}agent-revoke-grace": str(AGENT_REVOKE_GRACE),
        # The revoke hook's CLI reads its token from $HOME/.vault-token, where the
        # agent writes it in Vault's image; OpenBao's image makes $HOME
        # /home/openbao, so without this the hook finds no token and the token
        # outlives the pod.
        f"{prefix}agent-json-patch": json.dumps(
            [{"op": "add", "path": "/env/-", "value": {"name": "HOME", "value": "/home/vault"}}]
        ),
    }
    for secret in secrets:
        path = topology.secrets[secret].path
        annotations[f"{prefix}agent-inject-secret-{secret}"] = f"{KV_MOUNT}/data/{path}"
        annotations[f"{prefix}agent-inject-template-{secret}"] = secret_file_template(path)
        annotations[f"{prefix}agent-inject-perms-{secret}"] = SECRET_FILE_MODE
    return annotations


def agent_token_volume() -> Manifest:
    """The token the injected agent logs in with, for OpenBao's audience only."""
    token = {
        "path": "token",
        "audience": OPENBAO_AUDIENCE,
        "expirationSeconds": AGENT_TOKEN_SECONDS,
    }
    return {"name": AGENT_TOKEN_VOLUME, "projected": {"sources": [{"serviceAccountToken": token}]}}


# The stub's own copy of the token the agent logs in with (OpenBao's audience):
# the cloud MCPs log in with it to read tenant credentials per request.
OPENBAO_TOKEN_DIR = "/var/run/secrets/openbao"  # noqa: S105 - a directory


def _tenant_credentials(topology: Topology, component: ComponentSpec) -> dict[str, Any]:
    """Where a runtime reader reads tenant credentials (§6.2): OpenBao over HTTPS,
    Kubernetes auth with its own role, its one cloud (the one it signs calls for)."""
    runtime = topology.runtime_secret
    if runtime is None or not topology.runtime_secrets(component) or not component.clouds:
        return {}
    settings = {
        "address": service_url(topology, "openbao"),
        "kv_mount": KV_MOUNT,
        "path_prefix": runtime.path,
        "auth_mount": "kubernetes",
        "role": role_name(component),
        "jwt_file": f"{OPENBAO_TOKEN_DIR}/token",
        "ca_file": f"{CA_DIR}/ca.crt",
    }
    cloud = component.clouds[0] if len(component.clouds) == 1 else None
    return {"tenant_credentials": settings, **({"cloud": cloud} if cloud else {})}


def stub_config(topology: Topology, component: ComponentSpec) -> dict[str, Any]:
    """What a stub needs to play its role. Names and addresses only, never values."""
    calls = {
        target: service_url(topology, target)
        for target in component.calls
        if target in topology.components and topology.components[target].is_stub
    }
    checks: dict[str, Any] = {}
    if "postgresql-timescaledb" in component.calls:
        checks["postgres"] = {"secret": "database-url"}
    if "redis" in component.calls:
        checks["redis"] = {
            "address": "redis.finops-data.svc.cluster.local:6379",
            "secret": "redis-password",
        }
    return {
        "component": component.name,
        "kind": component.kind,
        "zone": component.zone,
        "port": component.primary_port.port,
        "tls": component.probe_scheme == "HTTPS",
        "calls": calls,
        "external_calls": sorted(t for t in component.calls if t in topology.spec.external),
        "external_urls": {
            target: url
            for target in component.calls
            if target in topology.spec.external
            and (url := topology.spec.external[target].simulator_url())
        },
        "secrets": topology.injected_secrets(component),
        "runtime_secrets": topology.runtime_secrets(component),
        **_tenant_credentials(topology, component),
        "secrets_dir": SECRETS_DIR,
        "checks": checks,
        # The dev CA: external endpoints' certificates (the simulator's) are verified.
        "ca_file": f"{CA_DIR}/ca.crt",
    }


def _http_probe(component: ComponentSpec, path: str, period: int, failures: int) -> Manifest:
    # Generous timeouts: on a loaded laptop a throttled container answers late,
    # and a liveness restart then only makes it worse.
    return {
        "httpGet": {
            "path": path,
            "port": component.primary_port.name,
            "scheme": component.probe_scheme,
        },
        "periodSeconds": period,
        "timeoutSeconds": 5,
        "failureThreshold": failures,
    }


def render_stub(context: RenderContext, component: ComponentSpec) -> list[Manifest]:
    topology = context.topology
    sizing = context.sizing(component)
    annotations = (
        injection_annotations(topology, component, sizing.secret_agent, context.image("openbao"))
        if sizing.secret_agent
        else {}
    )
    mounts: list[Manifest] = [{"name": "tmp", "mountPath": "/tmp"}]  # noqa: S108 - its own tmpfs
    container: Manifest = {
        "name": "stub",
        "image": context.image(component.image),
        "imagePullPolicy": "IfNotPresent",
        "env": [
            {
                "name": "STUB_CONFIG",
                "value": json.dumps(stub_config(topology, component), sort_keys=True),
            },
        ],
        "ports": container_ports(component),
        "livenessProbe": _http_probe(component, "/health", 10, 6),
        # A stub answers /ready 0.3 s after it starts: probed every second (not 5), a
        # new pod joins its Service within about a second of starting.
        "readinessProbe": _http_probe(component, "/ready", 1, 5),
        "resources": sizing.container.as_resources(),
        "securityContext": RESTRICTED_CONTAINER,
        "volumeMounts": mounts,
    }
    volumes: list[Manifest] = [
        {"name": "tmp", "emptyDir": {"medium": "Memory", "sizeLimit": "16Mi"}}
    ]
    reads_at_run_time = "tenant_credentials" in _tenant_credentials(topology, component)
    if annotations or reads_at_run_time:
        volumes.append(agent_token_volume())
    if reads_at_run_time:
        mount = {"name": AGENT_TOKEN_VOLUME, "mountPath": OPENBAO_TOKEN_DIR, "readOnly": True}
        mounts.append(mount)
    # The dev CA's certificate (public): what the stub verifies external endpoints with.
    volumes.append({"name": "ca", "secret": {"secretName": DEV_CA_SECRET, "defaultMode": 0o444}})
    mounts.append({"name": "ca", "mountPath": CA_DIR, "readOnly": True})
    if component.probe_scheme == "HTTPS":
        # The serving certificate: `devenv up` creates this Secret (cert-manager's job in §6.2).
        volumes.append(
            {
                "name": "tls",
                "secret": {"secretName": tls_secret_name(component), "defaultMode": 0o440},
            }
        )
        mounts.append({"name": "tls", "mountPath": TLS_DIR, "readOnly": True})
    pod_spec = {
        "securityContext": pod_security(STUB_UID),
        # The stub stops within a second of SIGTERM; the injector's agent sidecar runs
        # under `sh -ec` as PID 1, which never passes SIGTERM on, so it is killed at
        # this deadline. The default 30 s held every replaced pod (and its quota slot)
        # that long, so a rollout of a whole namespace (Tilt's, or up's after an
        # image change) crawled two pods at a time.
        "terminationGracePeriodSeconds": STOP_GRACE_SECONDS,
        "containers": [container],
        "volumes": volumes,
    }
    # No automounted token: the agent gets its own (above), the stub needs none.
    return component_objects(
        context, component, pod_spec=pod_spec, token=False, annotations=annotations
    )
