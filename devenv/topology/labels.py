"""Every label and annotation name devenv writes or selects on, in one place.

A pod's labels follow from the model (its component, zone and kind), so they
live here, below every stage: the renderers write them, the evaluator and the
zone rules select on them, ``up``'s drift check, ``status`` and the live suite
find objects by them. A rename here is a rename everywhere.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from devenv.topology.model import Topology

__all__ = [
    "AGENT_ANNOTATION_PREFIX",
    "COMPONENT_LABEL",
    "ENVIRONMENT_LABEL",
    "KIND_LABEL",
    "MANAGED_BY",
    "MANAGED_SELECTOR",
    "NAMESPACE_NAME_LABEL",
    "PART_OF",
    "PART_OF_SELECTOR",
    "REF_ANNOTATION",
    "RULE_LABEL",
    "SERVICE_NAME_LABEL",
    "SIMULATES_LABEL",
    "ZONE_LABEL",
    "component_labels",
    "component_selector",
    "zone_member_label",
]

COMPONENT_LABEL = "app.kubernetes.io/name"
KIND_LABEL = "finops.io/kind"
ZONE_LABEL = "finops.io/zone"
# Set by the API server on every namespace (namespace selectors by name).
NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name"
# Ties an EndpointSlice to its Service.
SERVICE_NAME_LABEL = "kubernetes.io/service-name"

# On every object devenv renders. The ownership check selects on finops.io/environment:
# Tilt overwrites app.kubernetes.io/managed-by with "tilt" on what it applies (the
# stubs in the inner loop), which must still count as the environment's.
ENVIRONMENT_LABEL = "finops.io/environment"
MANAGED_BY = {"app.kubernetes.io/managed-by": "finops-devenv", ENVIRONMENT_LABEL: "finops-devenv"}
MANAGED_SELECTOR = f"{ENVIRONMENT_LABEL}=finops-devenv"
PART_OF = {"app.kubernetes.io/part-of": "finops"}
PART_OF_SELECTOR = "app.kubernetes.io/part-of=finops"

# On each NetworkPolicy: the flow it implements, and the seed section behind it.
RULE_LABEL = "finops.io/rule"
REF_ANNOTATION = "finops.io/ref"
# On the selector-less Service of an external endpoint whose simulator `up` runs.
SIMULATES_LABEL = "finops.io/simulates"
# The OpenBao agent injector reads its per-pod settings from these annotations.
AGENT_ANNOTATION_PREFIX = "vault.hashicorp.com/"
# Pod Security Admission: the namespace labels the API server enforces.
POD_SECURITY_PREFIX = "pod-security.kubernetes.io/"
POD_SECURITY_MODES = ("enforce", "warn", "audit")


def zone_member_label(zone: str) -> str:
    """A namespace label per zone it hosts: finops-agents hosts app and dmz pods."""
    return f"zone.finops.io/{zone}"


def component_labels(topology: Topology, name: str) -> dict[str, str]:
    """The labels every pod of a component carries (selectors rely on them)."""
    component = topology.components[name]
    return {
        COMPONENT_LABEL: name,
        **PART_OF,
        ZONE_LABEL: component.zone,
        KIND_LABEL: component.kind,
    }


def component_selector(name: str) -> str:
    """The label selector for a component's pods, as kubectl's ``-l`` takes it."""
    return f"{COMPONENT_LABEL}={name}"
