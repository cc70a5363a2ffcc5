"""Offline validation against the Kubernetes OpenAPI schemas of the pinned version,
with the `kubernetes-validate` package, and of custom resources against their
CRDs' schemas (strict: unknown fields are errors, where the API server would
drop them silently)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import jsonschema
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


def _strict(schema: Any) -> Any:
    """A CRD's structural schema with unknown fields refused (not pruned)."""
    if isinstance(schema, list):
        return [_strict(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    strict = {key: _strict(value) for key, value in schema.items() if key != "properties"}
    if "properties" in schema:
        # Property names are keys here, not schemas: only their values are walked.
        strict["properties"] = {name: _strict(sub) for name, sub in schema["properties"].items()}
        open_ended = "additionalProperties" in schema or schema.get(
            "x-kubernetes-preserve-unknown-fields"
        )
        if not open_ended:
            strict["additionalProperties"] = False
    return strict


def _crd_schemas(crds: Iterable[Mapping[str, Any]]) -> dict[tuple[str, str], Any]:
    """(apiVersion, kind) -> the strict schema of that served version."""
    schemas = {}
    for crd in crds:
        spec = crd["spec"]
        for version in spec["versions"]:
            api_version = f"{spec['group']}/{version['name']}"
            schemas[api_version, spec["names"]["kind"]] = _strict(
                version["schema"]["openAPIV3Schema"]
            )
    return schemas


def schema_problems(
    objects: Iterable[Mapping[str, Any]],
    kubernetes_version: str,
    crds: Iterable[Mapping[str, Any]] = (),
) -> list[str]:
    """One line per object that does not validate; empty when all do. Custom
    resources validate against ``crds``."""
    problems = []
    custom = _crd_schemas(crds)
    for obj in objects:
        schema = custom.get((str(obj.get("apiVersion")), str(obj.get("kind"))))
        if schema is not None:
            for error in jsonschema.Draft7Validator(schema).iter_errors(dict(obj)):
                path = ".".join(str(part) for part in error.path) or "(object)"
                problems.append(f"{object_name(obj)}: {path}: {error.message}")
            continue
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
