"""Peers from rendered manifests: one endpoint per workload (with the ports its
Services expose), plus the topology's pseudo-endpoints, for the evaluator."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from devenv.topology.labels import COMPONENT_LABEL, ZONE_LABEL
from devenv.topology.model import Topology
from devenv.topology.peers import DestPort, Endpoint, pseudo_endpoints

__all__ = ["manifest_endpoints", "pod_template"]

WORKLOAD_KINDS = frozenset(
    {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "Pod", "ReplicationController"}
)


def pod_template(obj: Mapping[str, Any]) -> Mapping[str, Any] | None:
    kind = obj.get("kind")
    if kind == "Pod":
        return obj
    if kind in WORKLOAD_KINDS:
        template: Mapping[str, Any] | None = obj.get("spec", {}).get("template")
        return template
    return None


def _service_port_for(
    services: Sequence[Mapping[str, Any]], namespace: str, labels: Mapping[str, str], port: DestPort
) -> int | None:
    """The port a Service of this pod offers for a container port, when it differs (443 -> 8443)."""
    for service in services:
        spec = service.get("spec", {})
        selector = spec.get("selector") or {}
        if service.get("metadata", {}).get("namespace", "default") != namespace or not selector:
            continue
        if any(labels.get(key) != value for key, value in selector.items()):
            continue
        for service_port in spec.get("ports", []) or []:
            target = service_port.get("targetPort", service_port.get("port"))
            if target in (port.number, port.name) and service_port.get("port") != port.number:
                return int(service_port["port"])
    return None


def manifest_endpoints(objects: Sequence[Mapping[str, Any]], topology: Topology) -> list[Endpoint]:
    """One endpoint per workload in the manifests, plus the topology's pseudo-endpoints."""
    services = [obj for obj in objects if obj.get("kind") == "Service"]
    endpoints = []
    for obj in objects:
        template = pod_template(obj)
        if template is None:
            continue
        metadata = obj.get("metadata", {})
        namespace = metadata.get("namespace", "default")
        labels = dict(template.get("metadata", {}).get("labels", {}) or {})
        ports: list[DestPort] = []
        for container in template.get("spec", {}).get("containers", []) or []:
            for declared in container.get("ports", []) or []:
                port = DestPort(
                    declared["containerPort"], declared.get("protocol", "TCP"), declared.get("name")
                )
                service_port = _service_port_for(services, namespace, labels, port)
                ports.append(replace(port, service_port=service_port))
        endpoints.append(
            Endpoint(
                name=labels.get(COMPONENT_LABEL, metadata.get("name", "?")),
                category="pod",
                namespace=namespace,
                labels=labels,
                zone=labels.get(ZONE_LABEL),
                ports=tuple(ports),
            )
        )
    return endpoints + pseudo_endpoints(topology)
