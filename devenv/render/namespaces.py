"""Namespaces with their zone labels, and a ResourceQuota and LimitRange in each."""

from __future__ import annotations

from devenv.render.objects import Manifest, metadata
from devenv.topology.labels import (
    PART_OF,
    POD_SECURITY_MODES,
    POD_SECURITY_PREFIX,
    REF_ANNOTATION,
    ZONE_LABEL,
    zone_member_label,
)
from devenv.topology.model import ProfileSpec, Topology
from devenv.topology.sizing import Footprint, component_sizing, namespace_footprint

__all__ = ["POD_SECURITY_LEVEL", "pod_security_labels", "render_namespaces", "render_quotas"]

POD_SECURITY_LEVEL = "restricted"


def pod_security_labels(topology: Topology) -> dict[str, str]:
    """Every namespace enforces "restricted" (and warns and audits by it), judged by
    the rules of the cluster's own Kubernetes version, not whatever is newest."""
    version = f"v{topology.cluster.kubernetes_version}"
    labels = {}
    for mode in POD_SECURITY_MODES:
        labels[f"{POD_SECURITY_PREFIX}{mode}"] = POD_SECURITY_LEVEL
        labels[f"{POD_SECURITY_PREFIX}{mode}-version"] = version
    return labels


def render_namespaces(topology: Topology) -> list[Manifest]:
    manifests = []
    for name, namespace in topology.namespaces.items():
        labels = {**PART_OF, ZONE_LABEL: namespace.zone, **pod_security_labels(topology)}
        labels.update({zone_member_label(zone): "true" for zone in topology.zones_in(name)})
        manifests.append(
            {
                "apiVersion": "v1",
                "kind": "Namespace",
                "metadata": metadata(
                    name, labels=labels, annotations={REF_ANNOTATION: namespace.ref or ""}
                ),
            }
        )
    return manifests


def render_quotas(topology: Topology, profile: ProfileSpec, namespace: str) -> list[Manifest]:
    """Quota = steady state plus spare pods; LimitRange defaults fit the OpenBao agent."""
    footprint = namespace_footprint(topology, profile, namespace)
    quota = footprint.quota
    largest_container = Footprint()
    for component in topology.components_in(namespace):
        sizing = component_sizing(topology, profile, component)
        largest_container = largest_container.max(sizing.container)
        if sizing.secret_agent is not None:
            largest_container = largest_container.max(sizing.secret_agent)
    default = Footprint.of(profile.secret_agent).as_resources()
    resource_quota = {
        "apiVersion": "v1",
        "kind": "ResourceQuota",
        "metadata": metadata("finops-quota", namespace),
        "spec": {
            "hard": {
                "pods": str(footprint.quota_pods),
                **{f"requests.{k}": v for k, v in quota.as_resources()["requests"].items()},
                **{f"limits.{k}": v for k, v in quota.as_resources()["limits"].items()},
            }
        },
    }
    limit_range = {
        "apiVersion": "v1",
        "kind": "LimitRange",
        "metadata": metadata("finops-limits", namespace),
        "spec": {
            "limits": [
                {
                    "type": "Container",
                    # Containers that declare nothing get the agent's size: small, and
                    # counted by the quota like everything else.
                    "default": default["limits"],
                    "defaultRequest": default["requests"],
                    "max": largest_container.as_resources()["limits"],
                }
            ]
        },
    }
    return [resource_quota, limit_range]
