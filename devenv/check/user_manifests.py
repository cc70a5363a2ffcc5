"""Manifests a user gives to `devenv policy --manifests`, checked as the API
server would before any is evaluated: strict Kubernetes schema validation,
label selectors that the API server's validation accepts, and at least one
workload for the policies to select. Each problem is named as
``file: Kind/name: field: message``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from devenv.check.kubernetes_schema import object_name, schema_problems
from devenv.check.workload_peers import pod_template
from devenv.errors import ConfigError, ManifestError
from devenv.render.cert_manager import is_issuance_object
from devenv.tools.go_module import pinned_crds
from devenv.yamlio import load_documents, manifest_files

__all__ = ["load_user_manifests", "selector_problems"]

_OPERATORS = ("In", "NotIn", "Exists", "DoesNotExist")


def _mappings(value: Any) -> list[Mapping[str, Any]]:
    """The mappings of a list (others are the schema check's to report)."""
    return [item for item in value if isinstance(item, Mapping)] if isinstance(value, list) else []


def _selectors(policy: Mapping[str, Any]) -> Iterator[tuple[str, Any]]:
    """Every label selector of a NetworkPolicy, with its field path."""
    spec = policy.get("spec")
    if not isinstance(spec, Mapping):
        return
    yield "spec.podSelector", spec.get("podSelector")
    for direction, peers_key in (("ingress", "from"), ("egress", "to")):
        for r, rule in enumerate(_mappings(spec.get(direction))):
            for p, peer in enumerate(_mappings(rule.get(peers_key))):
                for key in ("podSelector", "namespaceSelector"):
                    if key in peer:
                        yield f"spec.{direction}[{r}].{peers_key}[{p}].{key}", peer[key]


def selector_problems(objects: Sequence[Mapping[str, Any]]) -> list[str]:
    """What the API server's label-selector validation refuses in NetworkPolicies
    (the OpenAPI schema types the operator as any string)."""
    problems = []
    for obj in objects:
        if obj.get("kind") != "NetworkPolicy":
            continue
        for path, selector in _selectors(obj):
            if not isinstance(selector, Mapping):
                continue
            for e, expression in enumerate(_mappings(selector.get("matchExpressions"))):
                where = f"{object_name(obj)}: {path}.matchExpressions[{e}]"
                operator, values = expression.get("operator"), expression.get("values") or []
                if operator not in _OPERATORS:
                    problems.append(
                        f"{where}.operator: {operator!r} is not one of {', '.join(_OPERATORS)}"
                    )
                elif operator in ("In", "NotIn") and not values:
                    problems.append(f"{where}.values: must be non-empty for {operator}")
                elif operator in ("Exists", "DoesNotExist") and values:
                    problems.append(f"{where}.values: must be empty for {operator}")
    return problems


def _crds_for(documents: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """cert-manager's CRDs (the pinned release's) when the manifests hold its resources."""
    if any(map(is_issuance_object, documents)):
        return pinned_crds("cert-manager")
    return []


def load_user_manifests(path: Path, kubernetes_version: str) -> list[dict[str, Any]]:
    """Every object under ``path``, or ManifestError naming every invalid field."""
    objects: list[dict[str, Any]] = []
    problems: list[str] = []
    for file in manifest_files(path):
        documents = load_documents(file)
        found = schema_problems(documents, kubernetes_version, _crds_for(documents))
        found += selector_problems(documents)
        problems += [f"{file}: {problem}" for problem in found]
        objects += documents
    if problems:
        raise ManifestError(str(path), problems)
    if not any(pod_template(obj) is not None for obj in objects):
        raise ConfigError(
            f"{path}: no workloads (Deployment, StatefulSet, DaemonSet, Job, Pod):"
            " there is nothing for the NetworkPolicies to select",
            hint="give the workloads' manifests too, e.g. from `devenv render --out DIR`",
        )
    return objects
