"""Offline validation against the Kubernetes OpenAPI schemas of the pinned version,
with the `kubernetes-validate` package (strict: unknown fields are errors)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import kubernetes_validate
from kubernetes_validate.utils import VersionNotSupportedError

from devenv.errors import ConfigError

__all__ = ["object_name", "schema_problems"]


def object_name(obj: Mapping[str, Any]) -> str:
    metadata = obj.get("metadata") or {}
    namespace = metadata.get("namespace")
    name = metadata.get("name", "?")
    return (
        f"{obj.get('kind', '?')}/{namespace}/{name}"
        if namespace
        else f"{obj.get('kind', '?')}/{name}"
    )


def schema_problems(objects: Iterable[Mapping[str, Any]], kubernetes_version: str) -> list[str]:
    """One line per object that does not validate; empty when all do."""
    problems = []
    for obj in objects:
        try:
            kubernetes_validate.validate(dict(obj), kubernetes_version, strict=True)
        except VersionNotSupportedError:
            raise ConfigError(
                f"kubernetes-validate has no schemas for Kubernetes {kubernetes_version}",
                hint="set cluster.kubernetes_version to a supported release (1.25 to 1.34)",
            ) from None
        except kubernetes_validate.SchemaNotFoundError:
            problems.append(
                f"{object_name(obj)}: no schema for {obj.get('apiVersion')} {obj.get('kind')}"
            )
        except kubernetes_validate.ValidationError as error:
            path = ".".join(str(part) for part in error.path) or "(object)"
            problems.append(f"{object_name(obj)}: {path}: {error.message}")
    return problems
