"""A machine with only Python and Docker: `devenv up` installs the kind and
kubectl it lacks from a release site (here a local server standing in for it,
serving the real binaries this machine built), checks their SHA-256 and runs
them, with nothing else on PATH."""

from __future__ import annotations

import hashlib
import http.server
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import pytest
import yaml

from devenv.tools.install import host_platform, tool_pins
from devenv.tools.process import find_program
from tests.local_http import serving

# Where the stand-in release site keeps each program, as the real sites lay them out.
LAYOUT = {"kind": "kind/kind-{os}-{arch}", "kubectl": "kubectl/{os}/{arch}/kubectl"}


def _relative(name: str) -> str:
    os_name, arch = host_platform().split("-")
    return LAYOUT[name].format(os=os_name, arch=arch)


@pytest.fixture
def release_site(tmp_path: Path) -> Iterator[str]:
    root = tmp_path / "site"
    for name in LAYOUT:
        found = find_program(name)
        assert found is not None, f"{name} must be installed to serve it"
        (root / _relative(name)).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(found, root / _relative(name))
    with serving(partial(http.server.SimpleHTTPRequestHandler, directory=str(root))) as address:
        yield f"http://{address}"


def _pins_for(site: str, root: Path, destination: Path) -> Path:
    """devenv's pins, pointed at the local site, with the checksums of the binaries
    it serves (this machine's own builds, as a mirror with its own builds would)."""
    tools = {}
    for name, pin in tool_pins({}).items():
        served = (root / _relative(name)).read_bytes()
        tools[name] = {
            "version": pin.version, "minimum": pin.minimum, "url": f"{site}/{LAYOUT[name]}",
            "version_args": list(pin.version_args), "source": "this machine's builds",
            "sha256": {host_platform(): hashlib.sha256(served).hexdigest()},
        }  # fmt: skip
    destination.write_text(yaml.safe_dump({"tools": tools}))
    return destination


def test_up_installs_the_kind_and_kubectl_it_lacks(
    kind_context: str, release_site: str, tmp_path: Path
) -> None:
    only_docker = tmp_path / "path"
    only_docker.mkdir()
    docker = find_program("docker")
    assert docker is not None
    (only_docker / "docker").symlink_to(docker)
    data = tmp_path / "data"
    env = {
        **os.environ,
        "PATH": str(only_docker),
        "XDG_DATA_HOME": str(data),
        "DEVENV_TOOLS_FILE": str(_pins_for(release_site, tmp_path / "site", tmp_path / "t.yaml")),
    }
    up = subprocess.run(
        [sys.executable, "-m", "devenv", "up", "--json"],
        env=env, capture_output=True, text=True, timeout=900, check=False,
    )  # fmt: skip
    assert up.returncode == 0, up.stderr
    phases = {p["phase"]: p["skipped"] for p in json.loads(up.stdout)["phases"]}
    assert {name for name, skipped in phases.items() if not skipped} == {"preflight"}, phases
    installed = data / "finops-devenv" / "bin"
    for name in ("kind", "kubectl"):
        assert (installed / name).stat().st_mode & 0o111, name
    assert sorted(p.name for p in installed.iterdir()) == ["kind", "kubectl"]  # no partials
    doctor = subprocess.run(
        [sys.executable, "-m", "devenv", "doctor", "--json"],
        env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    rows = {row["check"]: row for row in json.loads(doctor.stdout)}
    for name in ("kind", "kubectl"):
        assert rows[name]["ok"], rows[name]
        assert f"installed by devenv up: {installed / name}" in rows[name]["detail"]
