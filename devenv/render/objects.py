"""The builders every renderer shares: metadata, and the objects every component
gets (ServiceAccount, Service, its Deployment or StatefulSet, probes, the
restricted security context). Everything returns plain dicts."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from devenv.render.context import RenderContext
from devenv.secrets.files import DATA_CREDENTIALS_SECRET
from devenv.topology.labels import COMPONENT_LABEL, MANAGED_BY, component_labels
from devenv.topology.model import ComponentSpec

__all__ = [
    "RESTRICTED_CONTAINER",
    "Manifest",
    "component_objects",
    "component_of",
    "container_ports",
    "credentials_volume",
    "drop_none",
    "exec_probe",
    "metadata",
    "pod_security",
    "probe_timing",
    "selector_for",
]

Manifest = dict[str, Any]

RESTRICTED_CONTAINER: Manifest = {
    "allowPrivilegeEscalation": False,
    "capabilities": {"drop": ["ALL"]},
    "readOnlyRootFilesystem": True,
}


def drop_none(value: Any) -> Any:
    """Remove None values (and the keys holding them) at every depth, like kr8s."""
    if isinstance(value, Mapping):
        return {k: drop_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [drop_none(item) for item in value if item is not None]
    return value


def metadata(
    name: str,
    namespace: str | None = None,
    *,
    labels: Mapping[str, str] | None = None,
    annotations: Mapping[str, str] | None = None,
) -> Manifest:
    built: Manifest = drop_none(
        {
            "name": name,
            "namespace": namespace,
            "labels": {**MANAGED_BY, **(labels or {})},
            "annotations": dict(annotations) if annotations else None,
        }
    )
    return built


def selector_for(component: str) -> Manifest:
    return {"matchLabels": {COMPONENT_LABEL: component}}


def container_ports(component: ComponentSpec) -> list[Manifest]:
    return [
        {"name": p.name, "containerPort": p.port, "protocol": p.protocol} for p in component.ports
    ]


def probe_timing(handler: Manifest, *, period: int, timeout: int, failures: int) -> Manifest:
    return {
        **handler,
        "periodSeconds": period,
        "timeoutSeconds": timeout,
        "failureThreshold": failures,
    }


def exec_probe(*command: str) -> Manifest:
    return {"exec": {"command": list(command)}}


def pod_security(uid: int) -> Manifest:
    """What Pod Security's "restricted" level asks of a pod, run as ``uid``."""
    return {
        "runAsNonRoot": True,
        "runAsUser": uid,
        "runAsGroup": uid,
        "fsGroup": uid,
        "seccompProfile": {"type": "RuntimeDefault"},
    }


def credentials_volume(*keys: str) -> Manifest:
    """The data layer's bootstrap credentials (the Secret `up` makes), as files."""
    return {
        "name": "credentials",
        "secret": {
            "secretName": DATA_CREDENTIALS_SECRET,
            "defaultMode": 0o440,
            "items": [{"key": key, "path": key} for key in keys],
        },
    }


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
            "selector": {COMPONENT_LABEL: component.name},
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
    kind: Literal["Deployment", "StatefulSet"],
    component: ComponentSpec,
    labels: dict[str, str],
    *,
    replicas: int,
    pod_spec: Manifest,
    annotations: Mapping[str, str] | None,
) -> Manifest:
    spec: Manifest = {
        "replicas": replicas,
        "selector": selector_for(component.name),
        "template": {
            "metadata": drop_none(
                {"labels": labels, "annotations": dict(annotations or {}) or None}
            ),
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


def component_objects(
    context: RenderContext,
    component: ComponentSpec,
    *,
    pod_spec: Manifest,
    token: bool,
    kind: Literal["Deployment", "StatefulSet"] = "Deployment",
    annotations: Mapping[str, str] | None = None,
) -> list[Manifest]:
    """What every component gets: its ServiceAccount (with the token mounted only
    where ``token``), its Service and its workload running ``pod_spec``."""
    return [
        _service_account(component, token=token),
        _service(component),
        _workload(
            kind,
            component,
            component_labels(context.topology, component.name),
            replicas=context.sizing(component).replicas,
            pod_spec={
                "serviceAccountName": component.name,
                "automountServiceAccountToken": token,
                **pod_spec,
            },
            annotations=annotations,
        ),
    ]


def component_of(manifest: Manifest) -> str | None:
    """The component a rendered object belongs to (None: namespaces, policies, ...):
    the one its component label names (a second Service, a ConfigMap, cert-manager's
    RBAC and issuers), else the one it is named for."""
    owner = (manifest["metadata"].get("labels") or {}).get(COMPONENT_LABEL)
    if owner:
        return str(owner)
    if manifest["kind"] in ("Service", "ServiceAccount", "Deployment", "StatefulSet"):
        return str(manifest["metadata"]["name"])
    if manifest["kind"] in ("ClusterRole", "ClusterRoleBinding", "MutatingWebhookConfiguration"):
        return "openbao-agent-injector"
    return None
