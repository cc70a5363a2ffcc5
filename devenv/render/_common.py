"""Small builders shared by the renderers. Everything returns plain dicts."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from devenv._endpoints import COMPONENT_LABEL

Manifest = dict[str, Any]

MANAGED_BY = {"app.kubernetes.io/managed-by": "finops-devenv"}
PART_OF = {"app.kubernetes.io/part-of": "finops"}
RULE_LABEL = "finops.io/rule"
# On the selector-less Service of an external endpoint whose simulator `up` runs.
SIMULATES_LABEL = "finops.io/simulates"
REF_ANNOTATION = "finops.io/ref"


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
