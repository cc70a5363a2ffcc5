"""`devenv images pin` against the local registry `devenv up` runs: push an
image, pin it, push another under the same tag, and see the pin follow."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from typer.testing import CliRunner

from devenv.cli import app
from devenv.render.kind_config import REGISTRY_HOST
from devenv.tools.docker import Docker
from devenv.topology.images import resolve_images

TAG = f"{REGISTRY_HOST}/finops-devenv-test/pinned:1"


def _push(base: str, label: str) -> str:
    """A new image (``base`` plus a label) pushed under TAG; its registry digest."""
    subprocess.run(
        ["docker", "build", "-t", TAG, "-"], input=f"FROM {base}\nLABEL pin-test={label}\n",
        text=True, capture_output=True, check=True, timeout=300,
    )  # fmt: skip
    Docker().push(TAG)
    inspect = ["docker", "image", "inspect", "-f", "{{json .RepoDigests}}", TAG]
    listing = subprocess.run(inspect, capture_output=True, text=True, check=True, timeout=60)
    digests = json.loads(listing.stdout)
    return str(next(d for d in digests if d.startswith(REGISTRY_HOST)).split("@", 1)[1])


def test_pin_follows_the_tag(live_context: str, tmp_path: Path) -> None:
    base = resolve_images(None, os.environ).ref("redis")
    first = _push(base, "1")
    catalog = tmp_path / "images.yaml"
    catalog.write_text(
        "images:\n  pinned:\n"
        f"    ref: {TAG}@sha256:{'0' * 64}  # stale on purpose\n"
        "    purpose: a test image\n    source: the registry beside the cluster\n"
    )

    def pin(*args: str) -> str:
        result = CliRunner().invoke(app, ["images", "pin", "--catalog", str(catalog), *args])
        assert result.exit_code == 0, result.stderr
        return result.stdout

    assert "pinned:" in pin()
    assert first not in catalog.read_text()  # printed, not written
    pin("--write")
    assert f"ref: {TAG}@{first}  # stale on purpose" in catalog.read_text()
    assert "unchanged" in pin()
    second = _push(base, "2")
    assert second != first
    assert second in pin("--write")
    assert f"ref: {TAG}@{second}" in catalog.read_text()
