"""What OpenBao holds of the topology's secrets, entry by entry, and rotating
them: a sidecar secret is one KV entry, a runtime secret one per tenant and
cloud. Used by `devenv secrets list` and `rotate`."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from devenv.errors import ConfigError
from devenv.secrets.client import BaoClient, OpenBaoError
from devenv.secrets.dev_values import generate_cloud_fields, rotated_values, tenant_seed_key
from devenv.secrets.files import KV_MOUNT
from devenv.topology.model import Topology

__all__ = [
    "SecretEntry",
    "SecretStatus",
    "list_secrets",
    "rotate",
    "secret_entries",
    "secret_names",
]


@dataclass(frozen=True)
class SecretStatus:
    name: str
    path: str
    version: int | None  # None: not in OpenBao yet
    injection: str
    readers: tuple[str, ...]


@dataclass(frozen=True)
class SecretEntry:
    """One KV entry of a topology secret: the secret itself, or one tenant's
    credential for one cloud (a runtime secret has one entry per tenant and cloud)."""

    key: str  # the secret's name, or <name>/<tenant>/<cloud> (its seed's key)
    secret: str
    path: str
    cloud: str | None = None


def secret_entries(topology: Topology) -> list[SecretEntry]:
    entries = []
    for name, secret in topology.secrets.items():
        if secret.injection == "runtime":
            entries += [
                SecretEntry(tenant_seed_key(name, tenant, cloud), name, path, cloud)
                for tenant, cloud, path in topology.tenant_paths(name)
            ]
        else:
            entries.append(SecretEntry(name, name, secret.path))
    return entries


def list_secrets(client: BaoClient, topology: Topology) -> list[SecretStatus]:
    statuses = []
    for entry in secret_entries(topology):
        metadata = client.request("GET", f"{KV_MOUNT}/metadata/{entry.path}")
        version = (metadata or {}).get("data", {}).get("current_version") if metadata else None
        readers = tuple(
            c.name
            for c in topology.components.values()
            if entry.secret in c.secrets and (entry.cloud is None or entry.cloud in c.clouds)
        )
        injection = topology.secrets[entry.secret].injection
        statuses.append(SecretStatus(entry.key, entry.path, version, injection, readers))
    return statuses


def secret_names(topology: Topology, keys: Sequence[str]) -> list[str]:
    """The entries named by secret name, entry key or KV path (a runtime secret's
    name: every tenant's entries); ConfigError naming the first unknown one.
    Callers check before their first write: a typo must not leave half a rotation."""
    entries = secret_entries(topology)
    by_key: dict[str, list[str]] = {}
    for entry in entries:
        for alias in {entry.key, entry.path, entry.secret, topology.secrets[entry.secret].path}:
            by_key.setdefault(alias, []).append(entry.key)
    unknown = [key for key in keys if key not in by_key]
    if unknown:
        raise ConfigError(
            f"unknown secret {unknown[0]!r}",
            hint=f"secrets: {', '.join(sorted(topology.secrets))} (or their KV paths;"
            " `devenv secrets list` shows every tenant's)",
        )
    return list(dict.fromkeys(found for key in keys for found in by_key[key]))


def rotate(
    client: BaoClient,
    topology: Topology,
    names: list[str],
    *,
    on_rotated: Callable[[str, dict[str, Any]], None] | None = None,
) -> dict[str, int]:
    """Write a new version of each named entry (by name, entry key or KV path)."""
    entries = {entry.key: entry for entry in secret_entries(topology)}
    versions = {}
    for key in secret_names(topology, names):
        entry = entries[key]
        current = client.read_kv(KV_MOUNT, entry.path)
        if current is None:
            raise OpenBaoError(
                f"secret {entry.path} is not in OpenBao", hint="run `devenv up` first"
            )
        if entry.cloud is not None:
            new = generate_cloud_fields(entry.cloud)
        else:
            new = rotated_values(entry.secret, current[0])
        versions[key] = client.write_kv(KV_MOUNT, entry.path, new)
        if on_rotated is not None:
            on_rotated(key, new)
    return versions
