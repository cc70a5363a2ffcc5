"""Invariants every rendered environment keeps, checked offline.

* every long-running container has a liveness and a readiness probe (DEV-INF-002)
* every container has requests and limits; every namespace has a ResourceQuota
  with both, and a LimitRange (DEV-INF-006)
* no image is unpinned: a digest, or an image devenv builds itself (DEV-INF-004)
* no secret value in an env var or a ConfigMap: applications read files (§6.1)
* every pod meets Pod Security's "restricted" level, and every namespace enforces
  it (the API server's admission then refuses anything less, live)
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from devenv.check.kubernetes_schema import object_name
from devenv.topology.images import ImageSet, catalog, is_digest_pinned
from devenv.topology.labels import POD_SECURITY_PREFIX

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


# Pod Security Standards, "restricted":
# https://kubernetes.io/docs/concepts/security/pod-security-standards/
_RESTRICTED_VOLUMES = frozenset(
    {
        "configMap", "csi", "downwardAPI", "emptyDir", "ephemeral",
        "persistentVolumeClaim", "projected", "secret",
    }
)  # fmt: skip
_SECCOMP_ALLOWED = frozenset({"RuntimeDefault", "Localhost"})


def _check_pod_security(obj: Mapping[str, Any], pod_spec: Mapping[str, Any]) -> Iterable[Violation]:
    """The "restricted" rules a rendered pod can break (the injector's containers are
    added at admission, with their own restricted security context)."""
    subject = object_name(obj)
    pod = pod_spec.get("securityContext") or {}
    for flag in ("hostNetwork", "hostPID", "hostIPC"):
        if pod_spec.get(flag):
            yield Violation("pod-security", subject, f"sets {flag}")
    for volume in pod_spec.get("volumes") or []:
        kind = next((key for key in volume if key != "name"), None)
        if kind not in _RESTRICTED_VOLUMES:
            yield Violation("pod-security", subject, f"volume {volume.get('name')} is {kind}")
    containers = [*(pod_spec.get("initContainers") or []), *(pod_spec.get("containers") or [])]
    for container in containers:
        where = f"{subject} container {container.get('name')}"
        own = container.get("securityContext") or {}
        if own.get("privileged"):
            yield Violation("pod-security", where, "is privileged")
        if own.get("allowPrivilegeEscalation") is not False:
            yield Violation("pod-security", where, "does not set allowPrivilegeEscalation: false")
        capabilities = own.get("capabilities") or {}
        if "ALL" not in (capabilities.get("drop") or []):
            yield Violation("pod-security", where, "does not drop ALL capabilities")
        if set(capabilities.get("add") or []) - {"NET_BIND_SERVICE"}:
            yield Violation("pod-security", where, "adds capabilities")
        if not own.get("runAsNonRoot", pod.get("runAsNonRoot")):
            yield Violation("pod-security", where, "may run as root (no runAsNonRoot)")
        if own.get("runAsUser", pod.get("runAsUser")) == 0:
            yield Violation("pod-security", where, "runs as uid 0")
        seccomp = (own.get("seccompProfile") or pod.get("seccompProfile") or {}).get("type")
        if seccomp not in _SECCOMP_ALLOWED:
            yield Violation("pod-security", where, "has no RuntimeDefault seccomp profile")


def _check_namespace(obj: Mapping[str, Any]) -> Iterable[Violation]:
    labels = (obj.get("metadata") or {}).get("labels") or {}
    if labels.get(f"{POD_SECURITY_PREFIX}enforce") != "restricted":
        yield Violation("pod-security", object_name(obj), "does not enforce restricted")


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
        elif kind == "Namespace":
            violations.extend(_check_namespace(obj))
        pod_spec = _pod_spec(obj)
        if pod_spec is not None:
            violations.extend(_check_containers(obj, pod_spec, local))
            violations.extend(_check_pod_security(obj, pod_spec))
    for namespace in namespaces:
        missing = [key for key in _QUOTA_KEYS if key not in quotas.get(namespace, set())]
        if missing:
            violations.append(
                Violation("quotas", f"Namespace/{namespace}", f"quota lacks {', '.join(missing)}")
            )
        if namespace not in limit_ranges:
            violations.append(Violation("quotas", f"Namespace/{namespace}", "has no LimitRange"))
    return violations
