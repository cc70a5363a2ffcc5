"""`devenv secrets rotate`: new versions in OpenBao, kept in devenv's state so a
restarted (in-memory) OpenBao is re-seeded with them. Every input is checked
before anything is written."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from devenv.errors import ConfigError
from devenv.secrets.client import BaoClient
from devenv.secrets.connection import credentials_path, openbao_session
from devenv.secrets.dev_values import load_credentials, save_credentials
from devenv.secrets.inventory import rotate, secret_names
from devenv.topology.model import Topology

__all__ = ["rotate_and_keep", "rotate_secrets"]


def rotate_secrets(
    topology: Topology,
    keys: Sequence[str],
    *,
    all_secrets: bool,
    address: str | None,
    context: str,
) -> dict[str, int]:
    """Rotate the named secrets (names or KV paths), or all; their new versions."""
    if all_secrets == bool(keys):
        raise ConfigError(
            "name the secrets to rotate, or pass --all (not both)",
            hint="`devenv secrets list` shows them",
        )
    names = secret_names(topology, list(topology.secrets) if all_secrets else keys)
    load_credentials(credentials_path(topology), topology)  # an environment exists
    with openbao_session(topology, address=address, context=context) as client:
        return rotate_and_keep(client, topology, names)


def rotate_and_keep(client: BaoClient, topology: Topology, names: list[str]) -> dict[str, int]:
    """New versions in OpenBao, their values kept in devenv's state: a restarted
    OpenBao is re-seeded with them, and devenv's output redacts them."""
    path = credentials_path(topology)
    credentials = load_credentials(path, topology)
    seeds = {name: dict(fields) for name, fields in credentials.seeds.items()}

    def remember(name: str, values: dict[str, object]) -> None:
        if name in seeds:
            seeds[name] = {k: str(v) for k, v in values.items()}

    try:
        return rotate(client, topology, names, on_rotated=remember)
    finally:  # what was rotated before a failure is kept too
        save_credentials(path, replace(credentials, seeds=seeds))
