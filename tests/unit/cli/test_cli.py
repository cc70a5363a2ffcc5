"""The command line through typer's runner: output streams, exit codes, errors."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from devenv.cli import app
from devenv.topology.images import catalog


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def run(runner: CliRunner, *args: str, env: dict[str, str] | None = None) -> Any:
    return runner.invoke(app, list(args), env=env, catch_exceptions=False)


def test_render_is_byte_for_byte_deterministic(runner: CliRunner) -> None:
    first = run(runner, "render")
    assert first.exit_code == 0
    assert first.stdout == run(runner, "render").stdout
    kinds = {doc["kind"] for doc in yaml.safe_load_all(first.stdout)}
    assert {"Namespace", "ResourceQuota", "LimitRange", "NetworkPolicy", "Deployment"} <= kinds


def test_render_out_writes_one_file_per_namespace(runner: CliRunner, tmp_path: Path) -> None:
    result = run(runner, "render", "--out", str(tmp_path / "out"))
    assert result.exit_code == 0
    assert result.stdout == ""
    names = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert names[0] == "00-cluster.yaml"
    assert "06-finops-data.yaml" in names


def test_render_check_passes(runner: CliRunner) -> None:
    result = run(runner, "render", "--check")
    assert result.exit_code == 0, result.stderr
    assert "valid against Kubernetes 1.34" in result.stderr
    assert result.stdout == ""


def test_policy_check_passes_on_the_default_topology(runner: CliRunner) -> None:
    result = run(runner, "policy", "--check")
    assert result.exit_code == 0, result.stderr
    assert "cells match the zone rules" in result.stderr
    assert "each direction holds on its own" in result.stderr


def test_policy_check_names_cells_when_a_policy_is_deleted(
    runner: CliRunner, tmp_path: Path
) -> None:
    out = tmp_path / "manifests"
    run(runner, "render", "--out", str(out))
    data_file = out / "06-finops-data.yaml"
    docs = [
        d
        for d in yaml.safe_load_all(data_file.read_text())
        if not (d["kind"] == "NetworkPolicy" and d["metadata"]["name"] == "secret-delivery-ingress")
    ]
    data_file.write_text(yaml.safe_dump_all(docs))
    result = run(runner, "policy", "--check", "--manifests", str(out))
    assert result.exit_code == 1
    assert "cell(s) differ from the zone rules" in result.stderr
    assert "next-app -> openbao:8200/TCP: expected allowed" in result.stderr
    assert "Traceback" not in result.stderr


def test_policy_check_fails_when_a_zone_rule_is_removed_from_a_topology_copy(
    runner: CliRunner,
    tmp_path: Path,
    raw_topology: dict[str, Any],
    write_topology: Callable[[dict[str, Any]], Path],
) -> None:
    out = tmp_path / "manifests"
    run(runner, "render", "--out", str(out))
    raw_topology["zone_rules"] = [
        r for r in raw_topology["zone_rules"] if r["name"] != "app-to-cloud-apis"
    ]
    # No declared call may need the rule, or loading fails first (tested elsewhere).
    for component in raw_topology["components"].values():
        component["calls"] = [c for c in component.get("calls", []) if c != "cloud-apis"]
    copy_path = write_topology(raw_topology)
    result = run(runner, "policy", "--check", "--topology", str(copy_path), "--manifests", str(out))
    assert result.exit_code == 1
    assert (
        "aws-mcp -> cloud-apis:443/TCP: expected blocked (no zone rule allows it), policies allowed"
        in result.stderr
    )


def test_policy_check_names_a_rule_wider_than_the_zone_rules_on_its_own_side(
    runner: CliRunner, tmp_path: Path
) -> None:
    """Every pod may reach the Data Zone by its ingress; the sources' egress still
    blocks, so no cell differs: the per-direction audit fails the check alone."""
    out = tmp_path / "manifests"
    run(runner, "render", "--out", str(out))
    (out / "99-from-every-pod.yaml").write_text(
        yaml.safe_dump(
            {
                "apiVersion": "networking.k8s.io/v1",
                "kind": "NetworkPolicy",
                "metadata": {"name": "from-every-pod", "namespace": "finops-data"},
                "spec": {"podSelector": {}, "ingress": [{"from": [{"namespaceSelector": {}}]}]},
            }
        )
    )
    result = run(runner, "policy", "--check", "--manifests", str(out))
    assert result.exit_code == 1
    first = result.stderr.splitlines()[0]
    assert first == "error: 1 policy rule(s) admit on their own side what the zone rules block"
    assert (
        "finops-data/from-every-pod ingress[0] (from: pods(*) in namespaces(*), ports: any) admits"
        in result.stderr
    )
    assert "hint: " in result.stderr
    assert "Traceback" not in result.stderr
    data = json.loads(run(runner, "policy", "--json", "--manifests", str(out)).stdout)
    assert data["mismatches"] == 0
    [wider] = data["wider"]
    assert wider["policy"] == "finops-data/from-every-pod"
    assert {"from": "next-app", "to": "postgresql-timescaledb", "port": "5432/TCP"} in wider[
        "connections"
    ]


def test_policy_live_with_manifests_is_a_usage_error(runner: CliRunner, tmp_path: Path) -> None:
    result = run(runner, "policy", "--live", "--manifests", str(tmp_path))
    assert result.exit_code == 2
    assert "--live reads the cluster and --manifests reads files" in result.stderr


def test_policy_json_is_machine_readable(runner: CliRunner) -> None:
    result = run(runner, "policy", "--json", "--from", "redis")
    data = json.loads(result.stdout)
    assert data["mismatches"] == 0
    assert data["wider"] == []
    assert {c["from"] for c in data["cells"]} == {"redis"}
    internet = [c for c in data["cells"] if c["to"] == "internet"]
    assert internet
    assert not any(c["observed"] for c in internet)


def test_policy_table_and_detail(runner: CliRunner) -> None:
    table = run(runner, "policy")
    assert table.exit_code == 0
    assert "exception secret-delivery" in table.stdout
    detail = run(runner, "policy", "--to", "openbao")
    assert "next-app -> openbao:8200/TCP exception" in detail.stdout
    assert "finops-data/secret-delivery-ingress" in detail.stdout


def test_bad_topology_is_one_pointed_error_and_exit_1(runner: CliRunner, tmp_path: Path) -> None:
    bad = tmp_path / "t.yaml"
    bad.write_text("schema_version: 1\nzones: [oops\n")
    result = run(runner, "render", "--topology", str(bad))
    assert result.exit_code == 1
    assert result.stderr.startswith(f"error: {bad}: not valid YAML: line")
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("args", "env", "expected"),
    [
        (["render", "--profile", "huge"], None, "unknown profile 'huge'"),
        (["policy", "--from", "nobody"], None, "--from nobody: no such endpoint"),
        (["render"], {"DEVENV_IMAGE_NOPE": "x/y:1"}, "DEVENV_IMAGE_NOPE: names no known image"),
    ],
)
def test_bad_input_is_one_line_and_exit_1(
    runner: CliRunner, args: list[str], env: dict[str, str] | None, expected: str
) -> None:
    result = run(runner, *args, env=env)
    assert result.exit_code == 1
    assert result.stderr.startswith(f"error: {expected}")
    assert "Traceback" not in result.stderr


def test_render_out_onto_a_file(runner: CliRunner, tmp_path: Path) -> None:
    target = tmp_path / "file"
    target.write_text("keep me")
    result = run(runner, "render", "--out", str(target))
    assert result.exit_code == 1
    assert "cannot write manifests" in result.stderr
    assert target.read_text() == "keep me"


def test_images_list(runner: CliRunner) -> None:
    env = {"DEVENV_IMAGE_REDIS": "mirror.example/redis:7"}
    assert run(runner, "images", "list", env=env).exit_code == 0
    rows = json.loads(run(runner, "images", "list", "--json", env=env).stdout)
    assert rows["redis"] == {
        "ref": "mirror.example/redis:7",
        "from": "DEVENV_IMAGE_REDIS",
        "pinned_from": catalog()["redis"].source,  # where the catalog's digest came from
        "variable": "DEVENV_IMAGE_REDIS",
    }
    assert rows["openbao"]["from"] == "catalog"
