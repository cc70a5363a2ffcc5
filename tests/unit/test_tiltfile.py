"""The Tiltfile stays in step with the topology and the Dockerfile (Tilt itself
cannot be built on CI's machines; see ci/kind/README.md)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from devenv.apply.phases.data import DATA_COMPONENTS
from devenv.apply.phases.openbao import SECRETS_COMPONENTS
from devenv.topology.images import catalog
from devenv.topology.model import Topology

ROOT = Path(__file__).parents[2]
TILTFILE = (ROOT / "Tiltfile").read_text()


def test_tiltfile_is_valid_starlark_syntax() -> None:
    ast.parse(TILTFILE)  # Starlark's syntax is a subset of Python's


def test_it_builds_every_stub_family_from_the_dockerfile_targets() -> None:
    families = {name for name, image in catalog().items() if image.build_context == "stubs"}
    assert families == set(
        re.findall(r'"(stub-\w+)"', TILTFILE.split("for family in")[1].split(":")[0])
    )
    dockerfile = (ROOT / "stubs" / "Dockerfile").read_text()
    for family in families:
        assert f"AS {family}" in dockerfile
        assert catalog()[family].ref.startswith("localhost:5001/finops-devenv/" + family)
    assert '"localhost:5001/finops-devenv/" + family' in TILTFILE  # the same names
    assert 'sync("stubs/finops_stub", "/opt/app/finops_stub")' in TILTFILE


def test_it_applies_the_render_and_orders_data_before_stubs(topology: Topology) -> None:
    assert 'local(["devenv", "render", "--profile", profile]' in TILTFILE
    tilt_lists = dict(re.findall(r"^(DATA|SECRETS) = (\[.*\])$", TILTFILE, re.MULTILINE))
    assert ast.literal_eval(tilt_lists["DATA"]) == list(DATA_COMPONENTS)
    assert ast.literal_eval(tilt_lists["SECRETS"]) == list(SECRETS_COMPONENTS)
    assert "deps = DATA + SECRETS" in TILTFILE  # stubs wait for both
    assert "resource_deps = deps," in TILTFILE
    assert 'labels = [component["zone"], component["namespace"]]' in TILTFILE
