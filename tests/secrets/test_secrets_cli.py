"""`devenv secrets` against a real OpenBao: it works, and never shows a value."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import trustme
from typer.testing import CliRunner

from devenv.cli import app
from tests.secrets.conftest import ROOT_TOKEN, BaoServer


def _leaves(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [leaf for item in value.values() for leaf in _leaves(item)]
    return [value] if isinstance(value, str) else []


@pytest.fixture
def env(bao_server: BaoServer, tmp_path: Path) -> dict[str, str]:
    return {
        "XDG_STATE_HOME": str(tmp_path / "state"),
        "DEVENV_OPENBAO_TOKEN": ROOT_TOKEN,
        "DEVENV_OPENBAO_ADDR": bao_server.address,
    }


def test_secrets_commands_never_print_a_value(env: dict[str, str], tmp_path: Path) -> None:
    runner = CliRunner()
    ca = tmp_path / "ca.pem"
    trustme.CA().cert_pem.write_to_path(ca)
    state = tmp_path / "state" / "finops-devenv" / "finops-dev" / "dev-secrets.json"
    outputs = []
    values: set[str] = set()  # every value the state file has held: rotations replace some

    def devenv(*args: str) -> str:
        result = runner.invoke(app, list(args), env=env, catch_exceptions=False)
        assert result.exit_code == 0, result.stderr
        outputs.append(result.stdout + result.stderr)
        if state.exists():
            values.update(v for v in _leaves(json.loads(state.read_text())) if len(v) >= 8)
        return result.stdout

    k8s = ["--kubernetes-host", "https://127.0.0.1:6443", "--kubernetes-ca-file", str(ca)]
    assert "created" in devenv("secrets", "bootstrap", *k8s)
    assert "created" not in devenv("secrets", "bootstrap", *k8s)  # idempotent
    rows = {row["name"]: row for row in json.loads(devenv("secrets", "list", "--json"))}
    assert rows["llm-api-keys"]["version"] == 1
    assert "cost-agent" in rows["llm-api-keys"]["readers"]
    devenv("secrets", "list")
    assert "llm-api-keys: now version 2" in devenv("secrets", "rotate", "llm-api-keys")
    devenv("secrets", "rotate", "--all")
    rows = {row["name"]: row for row in json.loads(devenv("secrets", "list", "--json"))}
    assert rows["llm-api-keys"]["version"] == 3
    assert rows["database-url"]["version"] == 2

    assert state.stat().st_mode & 0o777 == 0o600
    assert len(values) > 20  # the first versions and the rotated ones
    for output in outputs:
        for value in values:
            assert value not in output


def test_rotate_needs_names_or_all(env: dict[str, str]) -> None:
    result = CliRunner().invoke(app, ["secrets", "rotate"], env=env)
    assert result.exit_code == 1
    assert "name the secrets to rotate, or pass --all" in result.stderr


def test_unknown_secret(env: dict[str, str], tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["secrets", "rotate", "nope"], env=env)
    assert result.exit_code == 1
    assert "unknown secret 'nope'" in result.stderr
