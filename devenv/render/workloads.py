"""ServiceAccount, Service and Deployment for every stub; the data layer; the injector.

Secrets never appear here: stubs get theirs as files from the OpenBao agent
(§6.1), and the data layer reads its bootstrap credentials from the
``finops-data-credentials`` Secret, mounted as files, which `devenv up`
creates with random values.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from devenv._endpoints import component_labels
from devenv._images import ImageSet
from devenv._resources import Footprint, component_sizing
from devenv._topology import ComponentSpec, ProfileSpec, Topology
from devenv.render._common import SIMULATES_LABEL, Manifest, drop_none, metadata, selector_for

__all__ = [
    "AGENT_ANNOTATION_PREFIX",
    "DATA_CREDENTIALS_SECRET",
    "SECRETS_DIR",
    "STATIC_SECRET_RENDER_INTERVAL",
    "TLS_DIR",
    "render_component",
    "render_simulator_services",
    "secret_file_content",
    "secret_file_template",
    "service_url",
    "stub_config",
    "tls_secret_name",
]

AGENT_ANNOTATION_PREFIX = "vault.hashicorp.com/"
SECRETS_DIR = "/vault/secrets"
# Short in dev so a rotation reaches the files within a minute (the agent's default is 5 min).
STATIC_SECRET_RENDER_INTERVAL = "15s"  # noqa: S105 - a duration
DATA_CREDENTIALS_SECRET = "finops-data-credentials"  # noqa: S105 - the Secret's name
CREDENTIALS_DIR = "/run/secrets/finops"
KV_MOUNT = "secret"
TLS_DIR = "/etc/finops/tls"  # where the stub looks for tls.crt and tls.key
STUB_UID = 10001

_RESTRICTED_CONTAINER = {
    "allowPrivilegeEscalation": False,
    "capabilities": {"drop": ["ALL"]},
    "readOnlyRootFilesystem": True,
}


def service_url(topology: Topology, name: str) -> str:
    component = topology.components[name]
    port = component.primary_port
    scheme = "https" if component.probe_scheme == "HTTPS" else "http"
    host = f"{name}.{component.namespace}.svc.cluster.local"
    return f"{scheme}://{host}:{port.exposed_port}"


def tls_secret_name(component: ComponentSpec) -> str:
    return f"{component.name}-tls"


def secret_file_template(kv_path: str) -> str:
    """The agent template for one secret: its KV v2 data and version as one JSON line."""
    api_path = f"{KV_MOUNT}/data/{kv_path}"
    return (
        f'{{{{- with secret "{api_path}" -}}}}'
        '{"version": {{ .Data.metadata.version }}, "data": {{ .Data.data | toJSON }}}'
        "{{- end -}}"
    )


def secret_file_content(data: Mapping[str, Any], version: int) -> str:
    """What the agent writes for ``secret_file_template``: its toJSON is Go's
    json.Marshal (sorted keys, no spaces), so the bytes, and their hash, are known."""
    encoded = json.dumps(dict(data), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return f'{{"version": {version}, "data": {encoded}}}'


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
        f"{prefix}role": component.name,
        f"{prefix}agent-pre-populate": "true",
        # Named per pod (not only in the injector's defaults) so that a new agent
        # image changes the pod template and rolls the pods.
        f"{prefix}agent-image": agent_image,
        f"{prefix}template-static-secret-render-interval": STATIC_SECRET_RENDER_INTERVAL,
        f"{prefix}agent-requests-cpu": resources["requests"]["cpu"],
        f"{prefix}agent-requests-mem": resources["requests"]["memory"],
        f"{prefix}agent-limits-cpu": resources["limits"]["cpu"],
        f"{prefix}agent-limits-mem": resources["limits"]["memory"],
    }
    for secret in secrets:
        path = topology.secrets[secret].path
        annotations[f"{prefix}agent-inject-secret-{secret}"] = f"{KV_MOUNT}/data/{path}"
        annotations[f"{prefix}agent-inject-template-{secret}"] = secret_file_template(path)
    return annotations


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
        "runtime_secrets": [
            s for s in component.secrets if topology.secrets[s].injection == "runtime"
        ],
        "secrets_dir": SECRETS_DIR,
        "checks": checks,
    }


def _probe(component: ComponentSpec, path: str, period: int, failures: int) -> Manifest:
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


def _container_ports(component: ComponentSpec) -> list[Manifest]:
    return [
        {"name": p.name, "containerPort": p.port, "protocol": p.protocol} for p in component.ports
    ]


def _service_account(component: ComponentSpec, *, token: bool) -> Manifest:
    return {
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": metadata(component.name, component.namespace),
        # Only pods whose OpenBao agent logs in with the token get it mounted.
        "automountServiceAccountToken": token,
    }


def _service(component: ComponentSpec) -> Manifest:
    published = any(p.node_port for p in component.ports)
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": metadata(component.name, component.namespace),
        "spec": {
            "type": "NodePort" if published else "ClusterIP",
            "selector": {"app.kubernetes.io/name": component.name},
            "ports": [
                drop_none(
                    {
                        "name": p.name,
                        "port": p.exposed_port,
                        "targetPort": p.name,
                        "nodePort": p.node_port,
                        "protocol": p.protocol,
                    }
                )
                for p in component.ports
            ],
        },
    }


def _workload(
    kind: str,
    component: ComponentSpec,
    labels: dict[str, str],
    *,
    replicas: int,
    pod_spec: Manifest,
    annotations: dict[str, str] | None = None,
) -> Manifest:
    spec: Manifest = {
        "replicas": replicas,
        "selector": selector_for(component.name),
        "template": {
            "metadata": drop_none({"labels": labels, "annotations": annotations or None}),
            "spec": pod_spec,
        },
    }
    if kind == "StatefulSet":
        spec = {"serviceName": component.name, **spec}
    else:
        # Replace pods one at a time without a surge: a rollout of a whole namespace
        # then fits the quota, which holds the steady state plus two spare pods.
        spec["strategy"] = {
            "type": "RollingUpdate",
            "rollingUpdate": {"maxSurge": 0, "maxUnavailable": 1},
        }
    return {
        "apiVersion": "apps/v1",
        "kind": kind,
        "metadata": metadata(component.name, component.namespace, labels=labels),
        "spec": spec,
    }


def _pod_security(uid: int | None) -> Manifest:
    if uid is None:
        return {"seccompProfile": {"type": "RuntimeDefault"}}
    return {
        "runAsNonRoot": True,
        "runAsUser": uid,
        "runAsGroup": uid,
        "fsGroup": uid,
        "seccompProfile": {"type": "RuntimeDefault"},
    }


def _credentials_volume(*keys: str) -> Manifest:
    return {
        "name": "credentials",
        "secret": {
            "secretName": DATA_CREDENTIALS_SECRET,
            "defaultMode": 0o440,
            "items": [{"key": key, "path": key} for key in keys],
        },
    }


def _exec(*command: str) -> Manifest:
    return {"exec": {"command": list(command)}}


def _render_stub(
    topology: Topology, component: ComponentSpec, images: ImageSet, profile: ProfileSpec
) -> list[Manifest]:
    sizing = component_sizing(topology, profile, component)
    labels = component_labels(topology, component.name)
    annotations = (
        injection_annotations(topology, component, sizing.secret_agent, images.ref("openbao"))
        if sizing.secret_agent
        else {}
    )
    mounts: list[Manifest] = [{"name": "tmp", "mountPath": "/tmp"}]  # noqa: S108 - its own tmpfs
    container: Manifest = {
        "name": "stub",
        "image": images.ref(component.image),
        "imagePullPolicy": "IfNotPresent",
        "env": [
            {
                "name": "STUB_CONFIG",
                "value": json.dumps(stub_config(topology, component), sort_keys=True),
            },
        ],
        "ports": _container_ports(component),
        "livenessProbe": _probe(component, "/health", 10, 6),
        "readinessProbe": _probe(component, "/ready", 5, 3),
        "resources": sizing.container.as_resources(),
        "securityContext": _RESTRICTED_CONTAINER,
        "volumeMounts": mounts,
    }
    volumes: list[Manifest] = [
        {"name": "tmp", "emptyDir": {"medium": "Memory", "sizeLimit": "16Mi"}}
    ]
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
        "serviceAccountName": component.name,
        "automountServiceAccountToken": bool(annotations),
        "securityContext": _pod_security(STUB_UID),
        "containers": [container],
        "volumes": volumes,
    }
    return [
        _service_account(component, token=bool(annotations)),
        _service(component),
        _workload(
            "Deployment",
            component,
            labels,
            replicas=sizing.replicas,
            pod_spec=pod_spec,
            annotations=annotations,
        ),
    ]


def _render_postgres(
    topology: Topology, component: ComponentSpec, images: ImageSet, profile: ProfileSpec
) -> list[Manifest]:
    sizing = component_sizing(topology, profile, component)
    ready = _exec("pg_isready", "-U", "finops", "-d", "finops", "-h", "127.0.0.1")
    container = {
        "name": "postgres",
        "image": images.ref(component.image),
        "imagePullPolicy": "IfNotPresent",
        "env": [
            {"name": "POSTGRES_USER", "value": "finops"},
            {"name": "POSTGRES_DB", "value": "finops"},
            {"name": "POSTGRES_PASSWORD_FILE", "value": f"{CREDENTIALS_DIR}/postgres-password"},
            {"name": "PGDATA", "value": "/var/lib/postgresql/data/pgdata"},
            {"name": "TIMESCALEDB_TELEMETRY", "value": "off"},
            {"name": "NO_TS_TUNE", "value": "true"},
        ],
        "ports": _container_ports(component),
        "readinessProbe": {**ready, "periodSeconds": 5, "timeoutSeconds": 3, "failureThreshold": 3},
        "livenessProbe": {**ready, "periodSeconds": 10, "timeoutSeconds": 5, "failureThreshold": 6},
        "resources": sizing.container.as_resources(),
        "securityContext": {"allowPrivilegeEscalation": False},
        "volumeMounts": [
            {"name": "data", "mountPath": "/var/lib/postgresql/data"},
            {"name": "credentials", "mountPath": CREDENTIALS_DIR, "readOnly": True},
        ],
    }
    pod_spec = {
        "serviceAccountName": component.name,
        "automountServiceAccountToken": False,
        "securityContext": _pod_security(None),
        "containers": [container],
        # Dev data is synthetic (§1.2): an emptyDir keeps the cluster free of storage drivers.
        "volumes": [{"name": "data", "emptyDir": {}}, _credentials_volume("postgres-password")],
    }
    return [
        _service_account(component, token=False),
        _service(component),
        _workload(
            "StatefulSet",
            component,
            component_labels(topology, component.name),
            replicas=sizing.replicas,
            pod_spec=pod_spec,
        ),
    ]


def _render_redis(
    topology: Topology, component: ComponentSpec, images: ImageSet, profile: ProfileSpec
) -> list[Manifest]:
    sizing = component_sizing(topology, profile, component)
    # The password stays in files: redis.conf for the server, REDISCLI_AUTH for the probe.
    ping = _exec(
        "sh",
        "-c",
        f'REDISCLI_AUTH="$(cat {CREDENTIALS_DIR}/redis-password)" redis-cli ping | grep -q PONG',
    )
    container = {
        "name": "redis",
        "image": images.ref(component.image),
        "imagePullPolicy": "IfNotPresent",
        "args": ["redis-server", f"{CREDENTIALS_DIR}/redis.conf"],
        "ports": _container_ports(component),
        "readinessProbe": {**ping, "periodSeconds": 5, "timeoutSeconds": 3, "failureThreshold": 3},
        "livenessProbe": {**ping, "periodSeconds": 10, "timeoutSeconds": 5, "failureThreshold": 6},
        "resources": sizing.container.as_resources(),
        "securityContext": {**_RESTRICTED_CONTAINER, "readOnlyRootFilesystem": False},
        "volumeMounts": [
            {"name": "data", "mountPath": "/data"},
            {"name": "credentials", "mountPath": CREDENTIALS_DIR, "readOnly": True},
        ],
    }
    pod_spec = {
        "serviceAccountName": component.name,
        "automountServiceAccountToken": False,
        "securityContext": _pod_security(999),
        "containers": [container],
        "volumes": [
            {"name": "data", "emptyDir": {}},
            _credentials_volume("redis.conf", "redis-password"),
        ],
    }
    return [
        _service_account(component, token=False),
        _service(component),
        _workload(
            "Deployment",
            component,
            component_labels(topology, component.name),
            replicas=sizing.replicas,
            pod_spec=pod_spec,
        ),
    ]


def _render_openbao(
    topology: Topology, component: ComponentSpec, images: ImageSet, profile: ProfileSpec
) -> list[Manifest]:
    sizing = component_sizing(topology, profile, component)
    health = {"httpGet": {"path": "/v1/sys/health", "port": "http", "scheme": "HTTP"}}
    token_file = f"{CREDENTIALS_DIR}/openbao-root-token"
    # Dev mode: one in-memory node. The root token comes from a file and is handed
    # over in the environment (both prefixes: OpenBao reads VAULT_* as a fallback).
    start = (
        f'BAO_DEV_ROOT_TOKEN_ID="$(cat {token_file})"; export BAO_DEV_ROOT_TOKEN_ID; '
        "export VAULT_DEV_ROOT_TOKEN_ID=$BAO_DEV_ROOT_TOKEN_ID; "
        "exec bao server -dev -dev-listen-address=0.0.0.0:8200 -dev-no-store-token"
    )
    container = {
        "name": "openbao",
        "image": images.ref(component.image),
        "imagePullPolicy": "IfNotPresent",
        "command": ["/bin/sh", "-ec", start],
        "env": [
            {"name": "BAO_ADDR", "value": "http://127.0.0.1:8200"},
            {"name": "SKIP_SETCAP", "value": "true"},
        ],
        "ports": _container_ports(component),
        "readinessProbe": {
            **health,
            "periodSeconds": 5,
            "timeoutSeconds": 3,
            "failureThreshold": 2,
        },
        "livenessProbe": {
            **health,
            "periodSeconds": 10,
            "timeoutSeconds": 3,
            "failureThreshold": 6,
        },
        "resources": sizing.container.as_resources(),
        "securityContext": _RESTRICTED_CONTAINER,
        "volumeMounts": [
            {"name": "credentials", "mountPath": CREDENTIALS_DIR, "readOnly": True},
            {"name": "home", "mountPath": "/home/openbao"},
        ],
    }
    pod_spec = {
        "serviceAccountName": component.name,
        # Kubernetes auth reviews other pods' tokens with this account's token.
        "automountServiceAccountToken": True,
        "securityContext": _pod_security(100),
        "containers": [container],
        "volumes": [_credentials_volume("openbao-root-token"), {"name": "home", "emptyDir": {}}],
    }
    # Kubernetes auth reviews the agents' tokens with the TokenReview API, as the
    # chart's server.authDelegator does.
    auth_delegator = {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRoleBinding",
        "metadata": metadata(f"{component.name}-auth-delegator"),
        "roleRef": {
            "apiGroup": "rbac.authorization.k8s.io",
            "kind": "ClusterRole",
            "name": "system:auth-delegator",
        },
        "subjects": [
            {"kind": "ServiceAccount", "name": component.name, "namespace": component.namespace}
        ],
    }
    return [
        _service_account(component, token=True),
        _service(component),
        _workload(
            "Deployment",
            component,
            component_labels(topology, component.name),
            replicas=sizing.replicas,
            pod_spec=pod_spec,
        ),
        auth_delegator,
    ]


def _render_injector(
    topology: Topology, component: ComponentSpec, images: ImageSet, profile: ProfileSpec
) -> list[Manifest]:
    """The OpenBao agent injector as the official chart installs it (chart 0.30 defaults)."""
    sizing = component_sizing(topology, profile, component)
    namespace = component.namespace
    agent = Footprint.of(profile.secret_agent).as_resources()
    webhook_name = f"{component.name}-cfg"
    hosts = [component.name, f"{component.name}.{namespace}", f"{component.name}.{namespace}.svc"]
    env = {
        "AGENT_INJECT_LISTEN": f":{component.primary_port.port}",
        "AGENT_INJECT_LOG_LEVEL": "info",
        "AGENT_INJECT_VAULT_ADDR": f"http://openbao.{namespace}.svc:8200",
        "AGENT_INJECT_VAULT_AUTH_PATH": "auth/kubernetes",
        "AGENT_INJECT_VAULT_IMAGE": images.ref("openbao"),
        "AGENT_INJECT_TLS_AUTO": webhook_name,
        "AGENT_INJECT_TLS_AUTO_HOSTS": ",".join(hosts),
        "AGENT_INJECT_LOG_FORMAT": "standard",
        "AGENT_INJECT_REVOKE_ON_SHUTDOWN": "false",
        "AGENT_INJECT_CPU_REQUEST": agent["requests"]["cpu"],
        "AGENT_INJECT_CPU_LIMIT": agent["limits"]["cpu"],
        "AGENT_INJECT_MEM_REQUEST": agent["requests"]["memory"],
        "AGENT_INJECT_MEM_LIMIT": agent["limits"]["memory"],
        "AGENT_INJECT_DEFAULT_TEMPLATE": "map",
        "AGENT_INJECT_TEMPLATE_CONFIG_EXIT_ON_RETRY_FAILURE": "true",
        "AGENT_INJECT_TEMPLATE_STATIC_SECRET_RENDER_INTERVAL": STATIC_SECRET_RENDER_INTERVAL,
    }
    health = {
        "httpGet": {
            "path": "/health/ready",
            "port": component.primary_port.name,
            "scheme": "HTTPS",
        },
        "periodSeconds": 2,
        "timeoutSeconds": 5,
        "failureThreshold": 2,
    }
    container = {
        "name": "sidecar-injector",
        "image": images.ref(component.image),
        "imagePullPolicy": "IfNotPresent",
        "args": ["agent-inject", "2>&1"],
        "env": [
            *({"name": key, "value": value} for key, value in env.items()),
            {"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
        ],
        "ports": _container_ports(component),
        "livenessProbe": health,
        "readinessProbe": health,
        "startupProbe": {**health, "periodSeconds": 5, "failureThreshold": 12},
        "resources": sizing.container.as_resources(),
        "securityContext": _RESTRICTED_CONTAINER,
    }
    pod_spec = {
        "serviceAccountName": component.name,
        "automountServiceAccountToken": True,
        "securityContext": {**_pod_security(100), "runAsGroup": 1000, "fsGroup": 1000},
        "containers": [container],
    }
    labels = component_labels(topology, component.name)
    cluster_role = {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRole",
        "metadata": metadata(f"{component.name}-clusterrole"),
        "rules": [
            {
                "apiGroups": ["admissionregistration.k8s.io"],
                "resources": ["mutatingwebhookconfigurations"],
                "verbs": ["get", "list", "watch", "patch"],
            }
        ],
    }
    binding = {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRoleBinding",
        "metadata": metadata(f"{component.name}-binding"),
        "roleRef": {
            "apiGroup": "rbac.authorization.k8s.io",
            "kind": "ClusterRole",
            "name": f"{component.name}-clusterrole",
        },
        "subjects": [{"kind": "ServiceAccount", "name": component.name, "namespace": namespace}],
    }
    webhook = {
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "MutatingWebhookConfiguration",
        "metadata": metadata(webhook_name),
        "webhooks": [
            {
                "name": "vault.hashicorp.com",
                "admissionReviewVersions": ["v1", "v1beta1"],
                "clientConfig": {
                    "service": {"name": component.name, "namespace": namespace, "path": "/mutate"},
                },
                # Fails open, as the chart does: `devenv secrets check` reports any pod
                # that came up without its agent.
                "failurePolicy": "Ignore",
                "matchPolicy": "Exact",
                "sideEffects": "None",
                "timeoutSeconds": 30,
                # Only the platform's namespaces, so a shared cluster's other pods are untouched.
                "namespaceSelector": {"matchLabels": {"app.kubernetes.io/part-of": "finops"}},
                "objectSelector": {
                    "matchExpressions": [
                        {
                            "key": "app.kubernetes.io/name",
                            "operator": "NotIn",
                            "values": [component.name],
                        }
                    ]
                },
                "rules": [
                    {
                        "apiGroups": [""],
                        "apiVersions": ["v1"],
                        "operations": ["CREATE", "UPDATE"],
                        "resources": ["pods"],
                    }
                ],
            }
        ],
    }
    return [
        _service_account(component, token=True),
        _service(component),
        _workload("Deployment", component, labels, replicas=sizing.replicas, pod_spec=pod_spec),
        cluster_role,
        binding,
        webhook,
    ]


def render_simulator_services(topology: Topology, namespace: str) -> list[Manifest]:
    """Selector-less Services for external endpoints with a dev simulator; `devenv up`
    points them (an EndpointSlice) at the simulator it runs outside the cluster."""
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


_DATA_RENDERERS = {
    "timescaledb": _render_postgres,
    "redis": _render_redis,
    "openbao": _render_openbao,
    "vault-k8s": _render_injector,
}


def render_component(
    topology: Topology, component: ComponentSpec, images: ImageSet, profile: ProfileSpec
) -> list[Manifest]:
    """The objects of one component, chosen by what it runs."""
    if component.is_stub:
        return _render_stub(topology, component, images, profile)
    renderer = _DATA_RENDERERS.get(component.image)
    if renderer is None:
        raise ValueError(f"no renderer for {component.name} (image {component.image})")
    return renderer(topology, component, images, profile)
