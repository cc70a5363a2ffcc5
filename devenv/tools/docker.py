"""docker, through the one subprocess wrapper: the commands devenv runs, each
built in one place (argument lists only)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from devenv.errors import ToolError
from devenv.tools.docker_api import DockerApi
from devenv.tools.process import run

__all__ = ["KIND_NETWORK", "Docker", "containerd_store"]

KIND_NETWORK = "kind"  # the Docker network kind puts its nodes on


def containerd_store(info: dict[str, Any]) -> bool:
    """Whether `docker info` describes Docker's containerd image store (Docker 29's
    default, OrbStack, Docker Desktop's option), where `kind load` is broken (kind
    #3795): its storage driver is a containerd snapshotter, not a graph driver."""
    status = info.get("DriverStatus") or []
    return any(
        isinstance(pair, list)
        and len(pair) == 2
        and str(pair[1]).startswith("io.containerd.snapshotter")
        for pair in status
    )


def _running(container: Mapping[str, Any]) -> bool:
    return bool((container.get("State") or {}).get("Running"))


def _networks(container: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    return dict((container.get("NetworkSettings") or {}).get("Networks") or {})


# Runs in a throwaway container as root: writes each file, then hands it over.
_FILL_VOLUME = """
import json, os, sys
spec = json.load(sys.stdin)
for name, text in spec["files"].items():
    path = os.path.join("/volume", name)
    with open(path, "w") as handle:
        handle.write(text)
    os.chown(path, spec["uid"], spec["uid"])
    os.chmod(path, spec["mode"])
"""


class Docker:
    """The Docker engine the docker CLI talks to. Reads go over its API socket when
    the CLI would use a local one (``docker_api``), else through the CLI."""

    def __init__(self) -> None:
        self.api = DockerApi.local()

    def ping(self) -> None:
        """Returns when the engine answers; DaemonDown, with how to start it, if not."""
        if self.api is not None:
            self.api.ping()
        else:
            run(["docker", "version", "--format", "{{.Server.Version}}"], timeout=30)

    def info(self) -> dict[str, Any]:
        if self.api is not None:
            return self.api.info()
        data: dict[str, Any] = json.loads(
            run(["docker", "info", "--format", "{{json .}}"], timeout=30).stdout
        )
        return data

    def image_id(self, reference: str) -> str | None:
        """The local image's ID, or None when the engine does not have it."""
        if self.api is not None:
            image = self.api.image(reference)
            return str(image["Id"]) if image is not None else None
        result = run(
            ["docker", "image", "inspect", "--format", "{{.Id}}", reference],
            check=False, timeout=60,
        )  # fmt: skip
        return result.stdout.strip() if result.returncode == 0 else None

    def container(self, name: str) -> dict[str, Any] | None:
        """`docker container inspect` of one container; None when there is none."""
        if self.api is not None:
            return self.api.container(name)
        result = run(
            ["docker", "container", "inspect", "--format", "{{json .}}", name],
            check=False, timeout=30,
        )  # fmt: skip
        if result.returncode != 0:
            return None
        data: dict[str, Any] = json.loads(result.stdout)
        return data

    def build(self, argv: Sequence[str]) -> None:
        run(["docker", "build", *argv], timeout=1800)

    def push(self, reference: str) -> None:
        run(["docker", "push", reference], timeout=900)

    def tag(self, source: str, target: str) -> None:
        run(["docker", "tag", source, target], timeout=60)

    def repo_digests(self, reference: str) -> list[str]:
        """``repository@digest`` for each registry the image was pushed to or pulled
        from; [] for an image that exists only here (or not at all)."""
        result = run(
            ["docker", "image", "inspect", "--format", "{{json .RepoDigests}}", reference],
            check=False, timeout=60,
        )  # fmt: skip
        if result.returncode != 0:
            return []
        return [str(entry) for entry in json.loads(result.stdout or "[]") or []]

    def pushed_digest(self, reference: str) -> str | None:
        """The digest the registry gave ``reference`` (repository:tag) when pushed."""
        repository = reference.rsplit(":", 1)[0]
        for entry in self.repo_digests(reference):
            name, _, digest = entry.partition("@")
            if name == repository and digest:
                return digest
        return None

    def run_detached(
        self,
        name: str,
        image: str,
        *,
        network: str,
        options: Sequence[str] = (),
        env: Mapping[str, str] | None = None,
        command: Sequence[str] = (),
    ) -> None:
        """Start a container in the background, replacing one of the same name."""
        self.remove(name)
        env_args = [arg for key, value in (env or {}).items() for arg in ("-e", f"{key}={value}")]
        run(
            ["docker", "run", "-d", "--name", name, "--network", network,
             *options, *env_args, image, *command],
            timeout=300,
        )  # fmt: skip

    def remove(self, name: str, *, volumes: bool = False) -> None:
        """Remove a container if it exists (running or not); with ``volumes``, its
        anonymous volumes too (a registry's storage)."""
        run(["docker", "rm", "-f", *(["-v"] if volumes else []), name], check=False, timeout=60)

    def _existing(self, name: str) -> dict[str, Any]:
        container = self.container(name)
        if container is None:
            raise ToolError(
                f"no Docker container named {name}", hint="`devenv up` starts it; re-run it"
            )
        return container

    def container_id(self, name: str) -> str | None:
        """A running container's ID; None when it is not running."""
        container = self.container(name)
        return str(container["Id"]) if container and _running(container) else None

    def label(self, name: str, key: str) -> str | None:
        """A container's label value; None without that label or that container."""
        container = self.container(name)
        labels = ((container or {}).get("Config") or {}).get("Labels") or {}
        return str(labels[key]) if labels.get(key) else None

    def image_ids(self, references: Sequence[str]) -> dict[str, str]:
        """Each reference the engine holds, with its image ID: over the API, a few
        milliseconds each; else one `docker image inspect` for all (each docker
        process costs 20-100 ms), and when some are missing (it then answers for the
        others only, unordered) one lookup each, side by side."""
        wanted = list(dict.fromkeys(references))
        if not wanted:
            return {}
        if self.api is not None:  # a few milliseconds each
            found = {ref: self.image_id(ref) for ref in wanted}
            return {ref: image_id for ref, image_id in found.items() if image_id is not None}
        result = run(
            ["docker", "image", "inspect", "--format", "{{.Id}}", *wanted],
            check=False, timeout=60,
        )  # fmt: skip
        ids = result.stdout.split()
        if result.returncode == 0 and len(ids) == len(wanted):
            return dict(zip(wanted, ids, strict=True))
        if len(wanted) == 1:
            return {}
        with ThreadPoolExecutor(max_workers=4) as pool:
            found = dict(zip(wanted, pool.map(self.image_id, wanted), strict=True))
        return {ref: image_id for ref, image_id in found.items() if image_id is not None}

    def fill_volume(
        self, volume: str, image: str, files: Mapping[str, str], *, uid: int, mode: int = 0o400
    ) -> None:
        """Write ``files`` into a named volume, owned by ``uid`` with ``mode``: how a
        container that runs as that uid gets a key it alone reads. The contents go on
        stdin, never in argv or the environment; ``image`` needs Python."""
        run(["docker", "volume", "create", volume], timeout=60)
        run(
            ["docker", "run", "--rm", "-i", "--user", "0", "--network", "none",
             "-v", f"{volume}:/volume", "--entrypoint", "python", image, "-c", _FILL_VOLUME],
            input_text=json.dumps({"files": dict(files), "uid": uid, "mode": mode}),
            timeout=120,
        )  # fmt: skip

    def volume_exists(self, volume: str) -> bool:
        result = run(["docker", "volume", "inspect", volume], check=False, timeout=30)
        return result.returncode == 0

    def remove_volume(self, volume: str) -> None:
        run(["docker", "volume", "rm", "-f", volume], check=False, timeout=60)

    def is_running(self, name: str) -> bool:
        container = self.container(name)
        return container is not None and _running(container)

    def networks(self, name: str) -> set[str]:
        return set(_networks(self._existing(name)))

    def network_exists(self, network: str) -> bool:
        return (
            run(["docker", "network", "inspect", network], check=False, timeout=30).returncode == 0
        )

    def connect(self, network: str, name: str) -> None:
        run(["docker", "network", "connect", network, name], timeout=60)

    def address(self, name: str, network: str = KIND_NETWORK) -> str:
        """A container's IPv4 address on a Docker network (e.g. a simulator on kind's)."""
        networks = _networks(self._existing(name))
        return str(networks.get(network, {}).get("IPAddress") or "")

    def running_address(self, name: str, network: str = KIND_NETWORK) -> str | None:
        """The address of a running container on ``network``; None if it is not running."""
        container = self.container(name)
        if container is None or not _running(container):
            return None
        return str(_networks(container).get(network, {}).get("IPAddress") or "") or None

    def exec(
        self,
        name: str,
        argv: Sequence[str],
        *,
        input_text: str | None = None,
        check: bool = True,
        timeout: float = 60,
    ) -> str | None:
        """Run a command in a container; its output, or None when it failed and not ``check``."""
        flags = ["-i"] if input_text is not None else []
        result = run(
            ["docker", "exec", *flags, name, *argv],
            input_text=input_text, check=check, timeout=timeout,
        )  # fmt: skip
        return result.stdout if result.returncode == 0 else None

    def logs(self, name: str, *, tail: int = 2000) -> str:
        return run(["docker", "logs", "--tail", str(tail), name], timeout=60).stdout

    def ports(self, name: str) -> str:
        """The container's published ports as `docker port` lists them ("" when none)."""
        return run(["docker", "port", name], check=False, timeout=20).stdout
