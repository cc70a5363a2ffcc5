"""The product's own images, built for real through `devenv images build`."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from devenv.cli import app
from tests.integration.conftest import PG_PASSWORD, REDIS_PASSWORD, DataLayer
from tests.stub_processes import free_port, write_secret


def _docker(*args: str) -> str:
    return subprocess.run(
        ["docker", *args], check=True, capture_output=True, text=True, timeout=120
    ).stdout.strip()


@pytest.fixture(scope="module")
def built(docker_engine: None) -> dict[str, dict[str, object]]:
    result = CliRunner().invoke(app, ["images", "build", "--json"], catch_exceptions=False)
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def test_every_family_image_builds_and_a_rebuild_reuses_it(
    built: dict[str, dict[str, object]],
) -> None:
    assert set(built) == {"stub-agent", "stub-mcp", "stub-worker"}
    again = CliRunner().invoke(app, ["images", "build", "--json"], catch_exceptions=False)
    assert all(entry["built"] is False for entry in json.loads(again.stdout).values())
    assert {entry["ref"] for entry in json.loads(again.stdout).values()} == {
        entry["ref"] for entry in built.values()
    }


def test_the_image_runs_non_root_without_compilers(built: dict[str, dict[str, object]]) -> None:
    ref = str(built["stub-mcp"]["ref"])
    assert _docker("image", "inspect", "--format", "{{.Config.User}}", ref) == "10001:10001"
    found = _docker("run", "--rm", "--entrypoint", "sh", ref, "-c", "command -v gcc cc g++ || true")
    assert found == ""


def _wait_for_health(container: str, port: int) -> httpx.Response:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            return httpx.get(f"http://127.0.0.1:{port}/health", timeout=1)
        except httpx.HTTPError:
            time.sleep(0.2)
    pytest.fail(f"the container never answered: {_docker('logs', container)}")


def test_the_image_serves_its_role(built: dict[str, dict[str, object]]) -> None:
    port = free_port()
    config = json.dumps({"component": "celery-beat", "kind": "worker", "port": 8080})
    container = _docker(
        "run", "-d", "--rm", "-e", f"STUB_CONFIG={config}", "-p", f"127.0.0.1:{port}:8080",
        str(built["stub-worker"]["ref"]),
    )  # fmt: skip
    try:
        health = _wait_for_health(container, port)
        assert health.json() == {"status": "ok", "component": "celery-beat"}
        probe = subprocess.run(
            ["docker", "exec", container, "python", "-m", "finops_stub.probe", "127.0.0.1", "8080"],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        assert probe.returncode == 0, probe.stdout
    finally:
        subprocess.run(["docker", "rm", "-f", container], capture_output=True, check=False)


def test_the_image_reaches_postgresql_through_debian_libpq(
    built: dict[str, dict[str, object]], data_layer: DataLayer, tmp_path: Path
) -> None:
    """The image's psycopg runs on the system libpq5, not a bundled one: a real
    query and a real PING from inside the image, over the data layer's network."""
    secrets = tmp_path / "secrets"
    write_secret(
        secrets, "database-url",
        {"url": f"postgresql://finops:{PG_PASSWORD}@timescaledb:5432/finops"},
    )  # fmt: skip
    write_secret(secrets, "redis-password", {"password": REDIS_PASSWORD})
    secrets.chmod(0o755)  # the image runs as uid 10001
    for path in secrets.iterdir():
        path.chmod(0o644)
    config = {
        "component": "celery-workers", "kind": "worker", "port": 8080,
        "secrets": ["database-url", "redis-password"],
        "checks": {
            "postgres": {"secret": "database-url"},
            "redis": {"address": "redis:6379", "secret": "redis-password"},
        },
    }  # fmt: skip
    port = free_port()
    container = _docker(
        "run", "-d", "--rm", "--network", f"{data_layer.project}_default",
        "-v", f"{secrets}:/vault/secrets:ro", "-e", f"STUB_CONFIG={json.dumps(config)}",
        "-p", f"127.0.0.1:{port}:8080", str(built["stub-worker"]["ref"]),
    )  # fmt: skip
    try:
        _wait_for_health(container, port)
        implementation = _docker(
            "exec", container, "python", "-c", "import psycopg; print(psycopg.pq.__impl__)"
        )
        assert implementation == "python"
        ready = httpx.get(f"http://127.0.0.1:{port}/ready", timeout=10)
        assert ready.status_code == 200, ready.text
        assert ready.json()["checks"]["postgres"]["ok"] is True
        assert ready.json()["checks"]["redis"]["ok"] is True
    finally:
        subprocess.run(["docker", "rm", "-f", container], capture_output=True, check=False)
