"""Reads from a local Docker engine over its API socket, without a docker process.

Every docker CLI call costs 0.1-0.3 s of process start (and `docker info` 0.2 s
more of the engine gathering what it reports); a re-run of `devenv up` asks the
engine a dozen small questions (is it up, which images does it hold, is the
registry running, where is the simulator). Over the socket each is one request
of a few milliseconds. Only where the docker CLI would talk to a local unix
socket itself: ``DOCKER_HOST=unix://...``, or the current context's endpoint,
or the default socket. For a TCP or SSH engine ``engine_socket`` gives None and
the caller runs the CLI, which knows them all. Only reads: every write (build,
push, run, network connect) still goes through the docker CLI.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

from devenv.errors import ToolError
from devenv.tools.process import START_DOCKER_HINT, DaemonDown

__all__ = ["DockerApi", "engine_socket"]

DEFAULT_SOCKET = Path("/var/run/docker.sock")


def engine_socket(environ: Mapping[str, str] | None = None) -> Path | None:
    """The unix socket the docker CLI would use, or None when it would use something
    else (TCP, SSH) or the socket is not there for this user."""
    env = os.environ if environ is None else environ
    host = env.get("DOCKER_HOST") or _context_host(env)
    if host is None:
        path = DEFAULT_SOCKET
    elif host.startswith("unix://"):
        path = Path(host.removeprefix("unix://"))
    else:
        return None
    return path if path.is_socket() and os.access(path, os.R_OK | os.W_OK) else None


def _context_host(env: Mapping[str, str]) -> str | None:
    """The current docker context's endpoint; None for the default context. A context
    that cannot be read gives "" (not a unix socket: the CLI decides)."""
    config_dir = Path(env.get("DOCKER_CONFIG") or Path.home() / ".docker")
    name = env.get("DOCKER_CONTEXT")
    if not name:
        try:
            config = json.loads((config_dir / "config.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        name = config.get("currentContext") if isinstance(config, dict) else None
    if not name or name == "default":
        return None
    # The CLI keeps each context's metadata under the SHA-256 of its name.
    meta = config_dir / "contexts" / "meta" / hashlib.sha256(name.encode()).hexdigest()
    try:
        endpoint = json.loads((meta / "meta.json").read_text(encoding="utf-8"))
        host = endpoint["Endpoints"]["docker"]["Host"]
    except (OSError, ValueError, KeyError, TypeError):
        return ""
    return str(host)


class DockerApi:
    """A local engine's API: the answers the docker CLI's inspect commands give."""

    def __init__(self, socket: Path) -> None:
        self.socket = socket

    @classmethod
    def local(cls) -> DockerApi | None:
        """The engine's API where the CLI would use a local socket; else None."""
        socket = engine_socket()
        return cls(socket) if socket is not None else None

    def _get(self, path: str) -> httpx.Response:
        try:
            return _client(self.socket).get(path)
        except httpx.TransportError as error:  # the socket is there, nobody answers
            raise DaemonDown(
                f"the Docker engine does not answer on {self.socket} ({error})",
                hint=START_DOCKER_HINT,
            ) from None

    def _json_or_none(self, path: str) -> dict[str, Any] | None:
        response = self._get(path)
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise ToolError(f"Docker engine: GET {path} answered {response.status_code}")
        data: dict[str, Any] = response.json()
        return data

    def ping(self) -> None:
        response = self._get("/_ping")
        if response.status_code != 200:
            raise DaemonDown(
                f"the Docker engine answers {response.status_code} on {self.socket}",
                hint=START_DOCKER_HINT,
            )

    def info(self) -> dict[str, Any]:
        return self._json_or_none("/info") or {}

    def image(self, reference: str) -> dict[str, Any] | None:
        """`docker image inspect` of one reference; None when the engine lacks it."""
        return self._json_or_none(f"/images/{quote(reference, safe='/:@')}/json")

    def container(self, name: str) -> dict[str, Any] | None:
        """`docker container inspect` of one container; None when there is none."""
        return self._json_or_none(f"/containers/{quote(name, safe='')}/json")


@cache
def _client(socket: Path) -> httpx.Client:
    # One connection pool per socket for the whole process (phases ask side by side).
    return httpx.Client(
        transport=httpx.HTTPTransport(uds=str(socket)),
        base_url="http://docker",
        timeout=httpx.Timeout(30.0, connect=5.0),
    )
