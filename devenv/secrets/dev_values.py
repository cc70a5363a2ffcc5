"""The dev environment's secret values: generated at random once, kept in a
private state file, written to OpenBao and to the data layer's credentials.

Never printed, never logged, never committed: only their names, versions and
short hashes ever leave this module's callers.
"""

from __future__ import annotations

import secrets
import string
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from devenv.errors import ConfigError
from devenv.state import read_json, write_private_json
from devenv.topology.model import Topology

__all__ = [
    "COMPOSE_ADDRESSES",
    "KUBERNETES_ADDRESSES",
    "DataAddresses",
    "DevCredentials",
    "load_or_create_credentials",
    "secret_values",
]

_ALPHABET = string.ascii_letters + string.digits


def _random(length: int = 32) -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(length))


@dataclass(frozen=True)
class DataAddresses:
    """Where clients reach the data layer (in-cluster DNS, or compose service names)."""

    postgres: str
    redis: str


KUBERNETES_ADDRESSES = DataAddresses(
    postgres="postgresql-timescaledb.finops-data.svc.cluster.local:5432",
    redis="redis.finops-data.svc.cluster.local:6379",
)
COMPOSE_ADDRESSES = DataAddresses(postgres="timescaledb:5432", redis="redis:6379")


@dataclass(frozen=True)
class DevCredentials:
    """The data layer's own credentials, from which the §6.2 secrets derive."""

    postgres_password: str
    redis_password: str
    openbao_root_token: str
    seeds: Mapping[str, Mapping[str, str]]  # secret name -> generated fields
    # What dev-mode OpenBao printed at its last start (read from its log, kept here,
    # 0600, so that devenv can unseal it and never needs to show the log).
    openbao_unseal_key: str = ""

    def kubernetes_secret_data(self) -> dict[str, str]:
        """stringData of the finops-data-credentials Secret (mounted as files)."""
        return {
            "postgres-password": self.postgres_password,
            "redis-password": self.redis_password,
            "redis.conf": f"requirepass {self.redis_password}\n",
            "openbao-root-token": self.openbao_root_token,
        }


_GENERATORS: dict[str, Callable[[], dict[str, str]]] = {
    "auth0-client-secret": lambda: {
        "client_id": f"finops-dev-{_random(8).lower()}",
        "client_secret": _random(48),
    },
    "llm-api-keys": lambda: {"gemini_api_key": _random(39), "claude_api_key": _random(48)},
}
# A tenant's credential for one cloud, named as that cloud names them (the stubs
# sign with secret_access_key, client_secret, private_key).
_CLOUD_GENERATORS: dict[str, Callable[[], dict[str, str]]] = {
    "aws": lambda: {
        "access_key_id": "AKIA" + _random(16).upper(),
        "secret_access_key": _random(40),
    },
    "azure": lambda: {"client_id": _uuid_like(), "client_secret": _random(34)},
    "gcp": lambda: {"private_key_id": _random(40).lower(), "private_key": _random(64)},
}
_DERIVED = frozenset({"database-url", "redis-password"})


def generate_fields(secret: str) -> dict[str, str]:
    """Fresh random values for a secret (its first version, or a rotation)."""
    generator = _GENERATORS.get(secret)
    return generator() if generator else {"value": _random(40)}


def tenant_seed_key(secret: str, tenant: str, cloud: str) -> str:
    """Where a tenant's credential for one cloud is kept among the seeds."""
    return f"{secret}/{tenant}/{cloud}"


def generate_cloud_fields(cloud: str) -> dict[str, str]:
    """A fresh credential for ``cloud`` (a tenant's first version, or a rotation)."""
    return _CLOUD_GENERATORS[cloud]()


def _uuid_like() -> str:
    digits = "".join(secrets.choice("0123456789abcdef") for _ in range(32))
    return "-".join((digits[:8], digits[8:12], digits[12:16], digits[16:20], digits[20:]))


def load_or_create_credentials(path: Path, topology: Topology) -> DevCredentials:
    """The credentials in ``path``; whatever is absent is created with random values
    and saved (mode 0600), so every later load returns the same ones."""
    stored = read_json(path) or {}
    seeds: dict[str, dict[str, str]] = dict(stored.get("seeds") or {})
    for name, secret in topology.secrets.items():
        if secret.injection == "runtime":
            for tenant, cloud, _ in topology.tenant_paths(name):
                key = tenant_seed_key(name, tenant, cloud)
                if key not in seeds:
                    seeds[key] = generate_cloud_fields(cloud)
        elif name not in _DERIVED and name not in seeds:
            seeds[name] = generate_fields(name)
    credentials = DevCredentials(
        postgres_password=stored.get("postgres_password") or _random(32),
        redis_password=stored.get("redis_password") or _random(32),
        # OpenBao reserves the "s." prefix for tokens it generates itself.
        openbao_root_token=stored.get("openbao_root_token") or "devenv-" + _random(24),
        seeds=seeds,
        openbao_unseal_key=str(stored.get("openbao_unseal_key") or ""),
    )
    if _as_json(credentials) != stored:
        save_credentials(path, credentials)
    return credentials


def load_credentials(path: Path, topology: Topology) -> DevCredentials:
    """The credentials an environment already has; ConfigError when there are none
    (nothing is created: rotating needs the environment `up` made)."""
    if not path.exists():
        raise ConfigError(
            f"no dev credentials at {path}: no environment has been set up",
            hint="run `devenv up` (or `devenv compose up`) first",
        )
    return load_or_create_credentials(path, topology)


def _as_json(credentials: DevCredentials) -> dict[str, Any]:
    return {
        "postgres_password": credentials.postgres_password,
        "redis_password": credentials.redis_password,
        "openbao_root_token": credentials.openbao_root_token,
        "seeds": {name: dict(fields) for name, fields in credentials.seeds.items()},
        "openbao_unseal_key": credentials.openbao_unseal_key,
    }


def save_credentials(path: Path, credentials: DevCredentials) -> None:
    write_private_json(path, _as_json(credentials))


def secret_values(
    name: str, credentials: DevCredentials, addresses: DataAddresses
) -> dict[str, Any]:
    """The KV data of one secret on first bootstrap."""
    if name == "database-url":
        password = credentials.postgres_password
        return {"url": f"postgresql://finops:{password}@{addresses.postgres}/finops"}
    if name == "redis-password":
        return {"password": credentials.redis_password, "address": addresses.redis}
    return dict(credentials.seeds[name])  # every seed exists: load_or_create_credentials


def rotated_values(name: str, current: Mapping[str, Any]) -> dict[str, Any]:
    """A new version of a secret. Values the data layer checks (its passwords) stay,
    so clients keep working; the version and a rotation stamp change."""
    if name in _DERIVED:
        return {**current, "rotated_at": datetime.now(UTC).isoformat(timespec="seconds")}
    return generate_fields(name)
