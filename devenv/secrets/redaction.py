"""Nothing devenv prints shows a secret: every value in devenv's state files is
replaced by ``[redacted]`` in what devenv passes on from elsewhere (container
logs, a failed command's stderr, test reports), and so are the unseal key and
root token that `bao server -dev` prints in its banner, known or not."""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from devenv.errors import ConfigError
from devenv.state import read_json

__all__ = ["REDACTED", "Redactor", "known_secret_values", "redactor"]

REDACTED = "[redacted]"
# What dev mode prints at start: "Unseal Key: <base64>" and "Root Token: <token>".
_BANNER = re.compile(r"((?:Unseal Key|Root Token)s?:\s*)(\S+)", re.IGNORECASE)
_SHORTEST = 8  # shorter strings (usernames, versions) are not secrets and too common


def _strings(value: Any) -> Iterable[str]:
    if isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)
    elif isinstance(value, str):
        yield value


def known_secret_values(environ: dict[str, str] | None = None) -> set[str]:
    """Every secret value in devenv's state, for every cluster it knows."""
    env = dict(os.environ) if environ is None else environ
    base = Path(env.get("XDG_STATE_HOME") or Path.home() / ".local" / "state") / "finops-devenv"
    values = {env["DEVENV_OPENBAO_TOKEN"]} if env.get("DEVENV_OPENBAO_TOKEN") else set()
    for path in sorted(base.glob("*/dev-secrets.json")):
        values |= {v for v in _strings(_readable(path)) if len(v) >= _SHORTEST}
    keys = [*base.glob("*/*-certificate.json"), *base.glob("*/dev-ca.json")]
    for path in sorted(keys):  # the TLS private keys and the dev CA's
        values |= {
            line for v in _strings(_readable(path)) if "PRIVATE KEY" in v
            for line in v.splitlines() if len(line) >= _SHORTEST and "-----" not in line
        }  # fmt: skip
    return values


def _readable(path: Path) -> dict[str, Any]:
    """A state file's content; {} for one that cannot be read (the error being
    reported may be about that very file)."""
    try:
        return read_json(path) or {}
    except ConfigError:
        return {}


class Redactor:
    def __init__(self, values: Iterable[str]) -> None:
        # Longest first: a value that contains another is replaced whole.
        self.values = sorted({v for v in values if len(v) >= _SHORTEST}, key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for value in self.values:
            if value in text:
                text = text.replace(value, REDACTED)
        return _BANNER.sub(lambda m: m.group(1) + REDACTED, text)


def redactor() -> Redactor:
    """A redactor for every secret devenv knows on this machine, now."""
    return Redactor(known_secret_values())
