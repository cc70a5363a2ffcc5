"""The Tiltfile stays in step with devenv (Tilt itself cannot be built on CI's
machines: bench/tilt_check.py runs it by hand; see the README's figures)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from devenv.topology.images import catalog

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
    assert 'sync("stubs/finops_stub", "/opt/app/finops_stub")' in TILTFILE


def test_image_names_and_base_follow_devenvs_overrides() -> None:
    assert '[DEVENV, "images", "list", "--json"]' in TILTFILE
    assert 'repository(images[family]["ref"])' in TILTFILE
    assert '"BASE_IMAGE": images["python"]["ref"]' in TILTFILE
    assert "localhost:5001" not in TILTFILE.split("def repository")[1].split('"""', 2)[2]


def test_devenv_owns_the_platform_and_tilt_only_the_stubs() -> None:
    assert '[DEVENV, "render", "--profile", profile, "--only", "stubs"]' in TILTFILE
    assert 'cmd = [DEVENV, "up", "--context", context, "--profile", profile]' in TILTFILE
    follow = '[DEVENV, "secrets", "bootstrap", "--follow", "--context", context]'
    assert f"serve_cmd = {follow}" in TILTFILE
    assert 'resource_deps = ["devenv-up"]' in TILTFILE  # stubs after the injector serves
    assert 'if not component["stub"]:\n        continue' in TILTFILE
