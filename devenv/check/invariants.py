"""Invariants every rendered environment keeps, checked offline.

* every long-running container has a liveness and a readiness probe (DEV-INF-002)
* every container has requests and limits; every namespace has a ResourceQuota
  with both, and a LimitRange (DEV-INF-006)
* no image is unpinned: a digest, or an image devenv builds itself (DEV-INF-004)
* no secret value in an env var or a ConfigMap: applications read files (§6.1)
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from devenv.check.kubernetes_schema import object_name
from devenv.topology.images import ImageSet, catalog, is_digest_pinned

__all__ = ["Violation", "lint_manifests"]

# Variable and key names that end in a secret's kind hold the secret itself;
# MY_PASSWORD_FILE or SECRET_RENDER_INTERVAL hold a path or a setting.
_SECRET_NAME = re.compile(
    r"(PASSWORD|PASSWD|SECRET|TOKEN(_ID)?|API_?KEY|PRIVATE_?KEY|CREDENTIALS?)$", re.I
)
_URL_WITH_PASSWORD = re.compile(r"://[^/\s:@]+:[^/\s@]+@")
_LONG_RUNNING = {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Pod"}
_QUOTA_KEYS = ("requests.cpu", "requests.memory", "limits.cpu", "limits.memory")


@dataclass(frozen=True)
class Violation:
    rule: str
    subject: str
    message: str

    def __str__(self) -> str:
        return f"{self.subject}: {self.message} [{self.rule}]"


def _pod_spec(obj: Mapping[str, Any]) -> Mapping[str, Any] | None:
    if obj.get("kind") == "Pod":
        return obj.get("spec")
    template = (obj.get("spec") or {}).get("template")
    return (template or {}).get("spec") if template is not None else None


def _locally_built(images: ImageSet) -> set[str]:
    """References of images devenv builds (no registry digest exists before the build)."""
    return {images.ref(name) for name, image in catalog().items() if image.build_context}


def _check_containers(
    obj: Mapping[str, Any], pod_spec: Mapping[str, Any], local: set[str]
) -> Iterable[Violation]:
    subject = object_name(obj)
    long_running = obj.get("kind") in _LONG_RUNNING
    containers = [(c, False) for c in pod_spec.get("containers") or []]
    containers += [(c, True) for c in pod_spec.get("initContainers") or []]
    for container, is_init in containers:
        where = f"{subject} container {container.get('name')}"
        image = container.get("image", "")
        if not is_digest_pinned(image) and image not in local:
            yield Violation("pinned-images", where, f"image {image!r} is not pinned by digest")
        if long_running and not is_init:
            for probe in ("livenessProbe", "readinessProbe"):
                if probe not in container:
                    yield Violation("probes", where, f"has no {probe}")
        resources = container.get("resources") or {}
        for part in ("requests", "limits"):
            if not {"cpu", "memory"} <= set(resources.get(part) or {}):
                yield Violation("resources", where, f"sets no cpu and memory {part}")
        for env in container.get("env") or []:
            name, value = env.get("name", ""), env.get("value")
            if (env.get("valueFrom") or {}).get("secretKeyRef"):
                yield Violation("secrets-as-files", where, f"env {name} comes from a Secret")
            elif isinstance(value, str) and _URL_WITH_PASSWORD.search(value):
                yield Violation(
                    "secrets-as-files", where, f"env {name} holds a URL with a password"
                )
            elif value and _SECRET_NAME.search(name):
                yield Violation("secrets-as-files", where, f"env {name} looks like a secret value")
            if name.endswith("_IMAGE") and isinstance(value, str) and not is_digest_pinned(value):
                yield Violation(
                    "pinned-images", where, f"env {name} names unpinned image {value!r}"
                )
        for source in container.get("envFrom") or []:
            if "secretRef" in source:
                yield Violation("secrets-as-files", where, "envFrom takes a whole Secret")


def _check_config_map(obj: Mapping[str, Any]) -> Iterable[Violation]:
    for key, value in (obj.get("data") or {}).items():
        if _SECRET_NAME.search(key) or _URL_WITH_PASSWORD.search(str(value)):
            yield Violation(
                "secrets-as-files", object_name(obj), f"key {key!r} looks like a secret value"
            )


def lint_manifests(objects: Sequence[Mapping[str, Any]], images: ImageSet) -> list[Violation]:
    """Every broken invariant, in object order."""
    violations: list[Violation] = []
    local = _locally_built(images)
    namespaces = [o["metadata"]["name"] for o in objects if o.get("kind") == "Namespace"]
    quotas: dict[str, set[str]] = {}
    limit_ranges: set[str] = set()
    for obj in objects:
        kind = obj.get("kind")
        namespace = (obj.get("metadata") or {}).get("namespace", "default")
        if kind == "ResourceQuota":
            quotas.setdefault(namespace, set()).update((obj.get("spec") or {}).get("hard") or {})
        elif kind == "LimitRange":
            limit_ranges.add(namespace)
        elif kind == "ConfigMap":
            violations.extend(_check_config_map(obj))
        pod_spec = _pod_spec(obj)
        if pod_spec is not None:
            violations.extend(_check_containers(obj, pod_spec, local))
    for namespace in namespaces:
        missing = [key for key in _QUOTA_KEYS if key not in quotas.get(namespace, set())]
        if missing:
            violations.append(
                Violation("quotas", f"Namespace/{namespace}", f"quota lacks {', '.join(missing)}")
            )
        if namespace not in limit_ranges:
            violations.append(Violation("quotas", f"Namespace/{namespace}", "has no LimitRange"))
    return violations
