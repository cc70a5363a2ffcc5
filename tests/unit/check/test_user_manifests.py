"""Manifests given to `devenv policy --manifests` are checked as the API server
would, each problem named by file, object and field, before any evaluation."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from devenv.check.user_manifests import load_user_manifests
from devenv.cli import app
from devenv.errors import ConfigError, ManifestError
from devenv.render import render_manifests
from devenv.topology.images import ImageSet
from devenv.topology.model import Topology

VERSION = "1.34"


@pytest.fixture
def rendered(topology: Topology, image_set: ImageSet) -> list[dict[str, Any]]:
    return render_manifests(topology, "dev", image_set)


def _write(path: Path, objects: list[dict[str, Any]]) -> Path:
    path.write_text(yaml.safe_dump_all(objects), encoding="utf-8")
    return path


def _first_policy(objects: list[dict[str, Any]]) -> dict[str, Any]:
    return next(o for o in objects if o["kind"] == "NetworkPolicy")


def test_the_rendered_environment_is_valid(rendered: list[dict[str, Any]], tmp_path: Path) -> None:
    assert len(load_user_manifests(_write(tmp_path / "all.yaml", rendered), VERSION)) == len(
        rendered
    )


def test_a_selector_that_is_not_a_label_selector_is_refused(
    rendered: list[dict[str, Any]], tmp_path: Path
) -> None:
    policy = _first_policy(rendered)
    policy["spec"]["podSelector"] = {"role": "server"}  # evaluated as {} before: every pod
    path = _write(tmp_path / "p.yaml", rendered)
    with pytest.raises(ManifestError) as caught:
        load_user_manifests(path, VERSION)
    name = f"NetworkPolicy/{policy['metadata']['namespace']}/{policy['metadata']['name']}"
    assert caught.value.details() == [
        f"{path}: {name}: spec.podSelector: Additional properties are not allowed"
        " ('role' was unexpected)"
    ]


def test_an_unknown_operator_is_named_not_a_traceback(
    rendered: list[dict[str, Any]], tmp_path: Path
) -> None:
    policy = _first_policy(rendered)
    expression = {"key": "app", "operator": "Equals", "values": ["x"]}
    policy["spec"]["podSelector"] = {"matchExpressions": [expression]}
    path = _write(tmp_path / "p.yaml", rendered)
    result = CliRunner().invoke(app, ["policy", "--manifests", str(path), "--check"])
    assert result.exit_code == 1
    assert result.stderr.startswith(f"error: {path}: invalid manifests (1 problem)")
    assert "spec.podSelector.matchExpressions[0].operator: 'Equals' is not one of" in result.stderr
    assert "Traceback" not in result.stderr


def test_no_workloads_is_an_error_not_a_pass(
    rendered: list[dict[str, Any]], tmp_path: Path
) -> None:
    policies = [o for o in rendered if o["kind"] in ("Namespace", "NetworkPolicy")]
    path = _write(tmp_path / "policies.yaml", policies)
    with pytest.raises(ConfigError, match="no workloads"):
        load_user_manifests(path, VERSION)
    result = CliRunner().invoke(app, ["policy", "--manifests", str(path), "--check"])
    assert result.exit_code == 1
    assert "ok" not in result.stdout + result.stderr.split("\n")[0]


@pytest.mark.parametrize(
    "spec",
    [None, "oops", {"podSelector": {"matchExpressions": ["not-a-mapping"]}},
     {"podSelector": {}, "ingress": [None]}],
)  # fmt: skip
def test_odd_shapes_are_reported_not_a_traceback(
    rendered: list[dict[str, Any]], tmp_path: Path, spec: object
) -> None:
    _first_policy(rendered)["spec"] = spec
    path = _write(tmp_path / "p.yaml", rendered)
    result = CliRunner().invoke(app, ["policy", "--manifests", str(path), "--check"])
    assert "Traceback" not in result.stderr
    assert result.exception is None or isinstance(result.exception, SystemExit)
