"""devenv's own state on this machine, never in the repository.

``$XDG_STATE_HOME/finops-devenv/<cluster>/`` (default ``~/.local/state``) holds
the generated dev credentials (mode 0600) and the record of what `up` did,
which also answers the one rule for the kube context: every command that talks
to a cluster uses the ``--context`` given, else the context of the environment
`up` recorded, else the topology's kind cluster.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from pathlib import Path
from typing import Any

from devenv.errors import ConfigError
from devenv.tools.kind import kind_context

__all__ = [
    "environment_context",
    "forget_context",
    "last_context_path",
    "read_json",
    "read_record",
    "record_path",
    "state_dir",
    "write_private_json",
    "write_private_text",
    "write_record",
]


def state_dir(cluster: str, environ: dict[str, str] | None = None) -> Path:
    env = os.environ if environ is None else environ
    base = Path(env.get("XDG_STATE_HOME") or Path.home() / ".local" / "state")
    return base / "finops-devenv" / cluster


def read_json(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as error:
        raise ConfigError(
            f"{path}: unreadable state ({error})",
            hint="move the file aside; devenv recreates it (dev secrets are then regenerated)",
        ) from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a JSON object", hint="move the file aside")
    return data


def write_private_json(path: Path, data: dict[str, Any]) -> None:
    """Write atomically, readable by this user only (it may hold dev credentials)."""
    write_private_text(path, json.dumps(data, indent=2, sort_keys=True))


def write_private_text(path: Path, text: str) -> None:
    """Write atomically, mode 0600, in a directory only this user enters."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    path.parent.chmod(0o700)  # mkdir's mode applies only to a directory it creates
    # A name of its own per writer (mkstemp creates it 0600): two devenv processes
    # (Tilt's OpenBao keeper and a rotate) never interleave in one temporary file.
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        Path(tmp).replace(path)
    finally:
        Path(tmp).unlink(missing_ok=True)


def record_path(cluster: str, context: str) -> Path:
    """The record of what `up` did (and created) on one kube context: one file per
    context, so `up` or `down` on one never changes what devenv knows of another."""
    slug = re.sub(r"[^A-Za-z0-9._-]", "_", context)
    return state_dir(cluster) / "records" / f"{slug}.json"


def last_context_path(cluster: str) -> Path:
    return state_dir(cluster) / "last-context.json"


def read_record(cluster: str, context: str) -> dict[str, Any]:
    """What `up` recorded on ``context``; {} when it has not deployed there."""
    record = read_json(record_path(cluster, context))
    if record is None:
        # Written before records were kept per context: one file, for one context.
        legacy = read_json(_legacy_record_path(cluster)) or {}
        record = legacy if legacy.get("context") == context else None
    return record or {}


def _legacy_record_path(cluster: str) -> Path:
    """Where records were kept before they were kept per context (one file)."""
    return state_dir(cluster) / "up-record.json"


def write_record(cluster: str, context: str, record: dict[str, Any]) -> None:
    legacy = _legacy_record_path(cluster)
    old = read_json(legacy)
    if old and old.get("context") and not record_path(cluster, str(old["context"])).exists():
        # Moved to its own context's file, never lost: it may say `up` made a cluster.
        write_private_json(record_path(cluster, str(old["context"])), old)
    legacy.unlink(missing_ok=True)
    write_private_json(record_path(cluster, context), {**record, "context": context})
    write_private_json(last_context_path(cluster), {"context": context})


def forget_context(cluster: str, context: str) -> None:
    """After `down` on ``context``: the one rule no longer points there."""
    if (read_json(last_context_path(cluster)) or {}).get("context") == context:
        last_context_path(cluster).unlink(missing_ok=True)
    legacy = _legacy_record_path(cluster)
    if (read_json(legacy) or {}).get("context") == context:
        legacy.unlink(missing_ok=True)


def environment_context(cluster: str, given: str | None = None) -> str:
    """The kube context a command talks to: ``given``, else the one `up` last
    deployed to, else the kind cluster's (what `up` creates). Never kubectl's
    current context."""
    if given:
        return given
    last = (read_json(last_context_path(cluster)) or {}).get("context")
    if not last:
        last = (read_json(_legacy_record_path(cluster)) or {}).get("context")
    return str(last) if last else kind_context(cluster)
