"""Dev-mode OpenBao and its agent injector, as the official chart installs them.

The root token comes from the data credentials Secret as a file; the injector
fails open like the chart's, which `devenv secrets check` makes up for.
"""

from __future__ import annotations

from devenv.render.context import RenderContext
from devenv.render.objects import (
    RESTRICTED_CONTAINER,
    Manifest,
    component_objects,
    container_ports,
    credentials_volume,
    metadata,
    pod_security,
    probe_timing,
)
from devenv.render.simulators import OPENBAO_SIMULATOR_NODE_PORT, simulated_endpoints
from devenv.render.stubs import tls_secret_name
from devenv.secrets.files import CREDENTIALS_DIR, STATIC_SECRET_RENDER_INTERVAL
from devenv.topology.labels import COMPONENT_LABEL, PART_OF
from devenv.topology.model import ComponentSpec
from devenv.topology.sizing import Footprint

__all__ = ["OPENBAO_PORT", "openbao_listener_config", "render_injector", "render_openbao"]

OPENBAO_UID = 100
OPENBAO_PORT = 8200
OPENBAO_LOOPBACK = "127.0.0.1:8210"  # dev mode's own listener: plain HTTP, in the pod only
OPENBAO_CONFIG_DIR = "/openbao/config"
OPENBAO_TLS_DIR = "/openbao/tls"


def _cluster_role_binding(name: str, role: str, component: ComponentSpec) -> Manifest:
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRoleBinding",
        "metadata": metadata(name),
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role},
        "subjects": [
            {"kind": "ServiceAccount", "name": component.name, "namespace": component.namespace}
        ],
    }


def openbao_listener_config() -> str:
    """The TLS listener, beside dev mode's own (moved to loopback, plain HTTP, for
    in-pod tools only): everything that crosses the network is HTTPS."""
    return (
        'listener "tcp" {\n'
        f'  address         = "0.0.0.0:{OPENBAO_PORT}"\n'
        f'  cluster_address = "0.0.0.0:{OPENBAO_PORT + 1}"\n'
        f'  tls_cert_file   = "{OPENBAO_TLS_DIR}/tls.crt"\n'
        f'  tls_key_file    = "{OPENBAO_TLS_DIR}/tls.key"\n'
        '  tls_min_version = "tls12"\n'
        "}\n"
    )


def render_openbao(context: RenderContext, component: ComponentSpec) -> list[Manifest]:
    health = {
        "httpGet": {
            "path": "/v1/sys/health",
            "port": component.primary_port.name,
            "scheme": "HTTPS",
        }
    }
    token_file = f"{CREDENTIALS_DIR}/openbao-root-token"
    # Dev mode: one in-memory node. The root token comes from a file and is handed
    # over in the environment (both prefixes: OpenBao reads VAULT_* as a fallback).
    start = (
        f'BAO_DEV_ROOT_TOKEN_ID="$(cat {token_file})"; export BAO_DEV_ROOT_TOKEN_ID; '
        "export VAULT_DEV_ROOT_TOKEN_ID=$BAO_DEV_ROOT_TOKEN_ID; "
        f"exec bao server -dev -dev-listen-address={OPENBAO_LOOPBACK} -dev-no-store-token"
        f" -config={OPENBAO_CONFIG_DIR}/listener.hcl"
    )
    container = {
        "name": "openbao",
        "image": context.image(component.image),
        "imagePullPolicy": "IfNotPresent",
        "command": ["/bin/sh", "-ec", start],
        "env": [
            {"name": "BAO_ADDR", "value": f"http://{OPENBAO_LOOPBACK}"},
            {"name": "SKIP_SETCAP", "value": "true"},
        ],
        "ports": container_ports(component),
        "readinessProbe": probe_timing(health, period=2, timeout=3, failures=3),
        "livenessProbe": probe_timing(health, period=10, timeout=3, failures=6),
        "resources": context.sizing(component).container.as_resources(),
        "securityContext": RESTRICTED_CONTAINER,
        "volumeMounts": [
            {"name": "credentials", "mountPath": CREDENTIALS_DIR, "readOnly": True},
            {"name": "home", "mountPath": "/home/openbao"},
            {"name": "config", "mountPath": OPENBAO_CONFIG_DIR, "readOnly": True},
            {"name": "tls", "mountPath": OPENBAO_TLS_DIR, "readOnly": True},
        ],
    }
    config_map = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": metadata(
            f"{component.name}-config",
            component.namespace,
            labels={COMPONENT_LABEL: component.name},
        ),
        "data": {"listener.hcl": openbao_listener_config()},
    }
    pod_spec = {
        "securityContext": pod_security(OPENBAO_UID),
        "containers": [container],
        "volumes": [
            credentials_volume("openbao-root-token"),
            {"name": "home", "emptyDir": {}},
            {"name": "config", "configMap": {"name": f"{component.name}-config"}},
            # Its serving certificate, from the dev CA (`up` makes the Secret).
            {
                "name": "tls",
                "secret": {"secretName": tls_secret_name(component), "defaultMode": 0o440},
            },
        ],
    }
    # Kubernetes auth reviews the agents' tokens with this account's token and the
    # TokenReview API, as the chart's server.authDelegator does.
    auth_delegator = _cluster_role_binding(
        f"{component.name}-auth-delegator", "system:auth-delegator", component
    )
    return [
        config_map,
        *component_objects(context, component, pod_spec=pod_spec, token=True),
        auth_delegator,
        *_simulator_service(context, component),
    ]


def _simulator_service(context: RenderContext, component: ComponentSpec) -> list[Manifest]:
    """OpenBao on a NodePort for the cloud-API simulators (outside the cluster), which
    check signed calls against the tenants' current credentials. Local: the node
    keeps the caller's address, which is what OpenBao's NetworkPolicy admits."""
    topology = context.topology
    if not simulated_endpoints(topology) or topology.runtime_secret is None:
        return []
    return [
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": metadata(
                f"{component.name}-simulators",
                component.namespace,
                labels={COMPONENT_LABEL: component.name},
            ),
            "spec": {
                "type": "NodePort",
                "externalTrafficPolicy": "Local",
                "selector": {COMPONENT_LABEL: component.name},
                "ports": [
                    {
                        "name": "https",
                        "port": OPENBAO_PORT,
                        "targetPort": OPENBAO_PORT,
                        "nodePort": OPENBAO_SIMULATOR_NODE_PORT,
                        "protocol": "TCP",
                    }
                ],
            },
        }
    ]


def render_injector(context: RenderContext, component: ComponentSpec) -> list[Manifest]:
    """The OpenBao agent injector as the official chart installs it (chart 0.30 defaults)."""
    namespace = component.namespace
    agent = Footprint.of(context.profile.secret_agent).as_resources()
    webhook_name = f"{component.name}-cfg"
    hosts = [component.name, f"{component.name}.{namespace}", f"{component.name}.{namespace}.svc"]
    env = {
        "AGENT_INJECT_LISTEN": f":{component.primary_port.port}",
        "AGENT_INJECT_LOG_LEVEL": "info",
        "AGENT_INJECT_VAULT_ADDR": f"https://openbao.{namespace}.svc:{OPENBAO_PORT}",
        "AGENT_INJECT_VAULT_AUTH_PATH": "auth/kubernetes",
        "AGENT_INJECT_VAULT_IMAGE": context.image("openbao"),
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
    health = probe_timing(
        {
            "httpGet": {
                "path": "/health/ready",
                "port": component.primary_port.name,
                "scheme": "HTTPS",
            }
        },
        period=2, timeout=5, failures=2,
    )  # fmt: skip
    container = {
        "name": "sidecar-injector",
        "image": context.image(component.image),
        "imagePullPolicy": "IfNotPresent",
        "args": ["agent-inject", "2>&1"],
        "env": [
            *({"name": key, "value": value} for key, value in env.items()),
            {"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
        ],
        "ports": container_ports(component),
        "livenessProbe": health,
        "readinessProbe": health,
        # Probed every second while it starts (it serves within about 2 s), for a minute.
        "startupProbe": {**health, "periodSeconds": 1, "failureThreshold": 60},
        "resources": context.sizing(component).container.as_resources(),
        "securityContext": RESTRICTED_CONTAINER,
    }
    pod_spec = {
        "securityContext": {**pod_security(OPENBAO_UID), "runAsGroup": 1000, "fsGroup": 1000},
        "containers": [container],
    }
    cluster_role = {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRole",
        "metadata": metadata(f"{component.name}-clusterrole"),
        # It patches the CA bundle into its own webhook only; listing and watching
        # (read-only) cannot be narrowed by name for every client, patching can.
        "rules": [
            {
                "apiGroups": ["admissionregistration.k8s.io"],
                "resources": ["mutatingwebhookconfigurations"],
                "verbs": ["list", "watch"],
            },
            {
                "apiGroups": ["admissionregistration.k8s.io"],
                "resources": ["mutatingwebhookconfigurations"],
                "resourceNames": [webhook_name],
                "verbs": ["get", "patch"],
            },
        ],
    }
    binding = _cluster_role_binding(
        f"{component.name}-binding", f"{component.name}-clusterrole", component
    )
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
                "namespaceSelector": {"matchLabels": dict(PART_OF)},
                "objectSelector": {
                    "matchExpressions": [
                        {"key": COMPONENT_LABEL, "operator": "NotIn", "values": [component.name]}
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
        *component_objects(context, component, pod_spec=pod_spec, token=True),
        cluster_role,
        binding,
        webhook,
    ]
