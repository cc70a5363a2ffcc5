"""`devenv compose up`: stubs beside OpenBao agents, as in a pod, for real."""

from __future__ import annotations

import json
import os
import ssl
import stat
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from devenv.cli import app
from tests.stub_processes import free_port, wait_until


def _in_container(container: str, path: str) -> dict[str, object]:
    script = (
        "import json, urllib.request as u, urllib.error as e\n"
        f"try: print(u.urlopen('http://127.0.0.1:8080{path}', timeout=3).read().decode())\n"
        "except e.HTTPError as x: print(x.read().decode())"
    )
    out = subprocess.run(
        ["docker", "exec", container, "python", "-c", script],
        capture_output=True, text=True, check=True, timeout=30,
    )  # fmt: skip
    return json.loads(out.stdout)  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def compose_env(
    docker_engine: None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, str]]:
    env = {
        "XDG_STATE_HOME": str(tmp_path_factory.mktemp("state")),
        "DEVENV_COMPOSE_PROJECT": f"devenv-compose-test-{os.getpid()}",
        "DEVENV_PG_PORT": str(free_port()),
        "DEVENV_REDIS_PORT": str(free_port()),
        "DEVENV_OPENBAO_PORT": str(free_port()),
        "DEVENV_GATEWAY_PORT": str(free_port()),
    }
    runner = CliRunner()
    up = runner.invoke(
        app,
        ["compose", "up", *("--only", "cost-agent"), *("--only", "aws-mcp"),
         *("--only", "api-gateway")],
        env=env, catch_exceptions=False,
    )  # fmt: skip
    try:
        assert up.exit_code == 0, up.stderr
        yield env
    finally:
        runner.invoke(app, ["compose", "down", "--volumes"], env=env)


def test_stubs_get_their_secrets_from_agents_and_pass_readiness(
    compose_env: dict[str, str],
) -> None:
    container = f"{compose_env['DEVENV_COMPOSE_PROJECT']}-cost-agent-1"
    ready = _in_container(container, "/ready")
    assert ready["status"] == "ready", ready
    checks = ready["checks"]
    assert isinstance(checks, dict)
    assert checks["postgres"]["ok"] is True  # a real query with the URL the agent rendered
    secrets = _in_container(container, "/secrets")["secrets"]
    assert isinstance(secrets, list)
    assert {s["name"]: s["version"] for s in secrets} == {"llm-api-keys": 1, "database-url": 1}


def test_rotation_reaches_the_stub_without_restart(compose_env: dict[str, str]) -> None:
    container = f"{compose_env['DEVENV_COMPOSE_PROJECT']}-cost-agent-1"
    started = subprocess.run(
        ["docker", "inspect", "--format", "{{.State.StartedAt}}", container],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    address = f"http://127.0.0.1:{compose_env['DEVENV_OPENBAO_PORT']}"
    rotate = CliRunner().invoke(
        app, ["secrets", "rotate", "llm-api-keys", "--openbao-addr", address],
        env=compose_env, catch_exceptions=False,
    )  # fmt: skip
    assert rotate.exit_code == 0, rotate.stderr
    rotated_at = time.monotonic()

    def version() -> object:
        secrets = _in_container(container, "/secrets")["secrets"]
        assert isinstance(secrets, list)
        return {s["name"]: s["version"] for s in secrets}["llm-api-keys"]

    wait_until(lambda: version() == 2, timeout=45, what="version 2 in the stub's /secrets")
    assert time.monotonic() - rotated_at < 40  # render interval 15 s
    assert subprocess.run(
        ["docker", "inspect", "--format", "{{.State.StartedAt}}", container],
        capture_output=True, text=True, check=True,
    ).stdout == started  # fmt: skip


def _call_in(
    container: str, body: dict[str, object], request_id: str = ""
) -> tuple[int, dict[str, object]]:
    """POST /call from inside a compose container: (status, answer)."""
    headers = {"X-Request-ID": request_id} if request_id else {}
    script = (
        "import json, urllib.request as u, urllib.error as e\n"
        f"r = u.Request('http://127.0.0.1:8080/call', data={json.dumps(body)!r}.encode(),"
        f" headers={headers!r})\n"
        "try:\n    a = u.urlopen(r, timeout=10); print(a.status, a.read().decode())\n"
        "except e.HTTPError as x: print(x.code, x.read().decode())"
    )
    out = subprocess.run(
        ["docker", "exec", container, "python", "-c", script],
        capture_output=True, text=True, check=True, timeout=30,
    ).stdout  # fmt: skip
    status, _, answer = out.partition(" ")
    return int(status), json.loads(answer)


def test_the_call_chain_crosses_compose_services(compose_env: dict[str, str]) -> None:
    container = f"{compose_env['DEVENV_COMPOSE_PROJECT']}-cost-agent-1"
    status, answer = _call_in(container, {"route": ["aws-mcp", "cloud-apis"]}, "compose-1")
    assert status == 200, answer
    hop = answer["hops"][0]  # type: ignore[index]
    assert hop["component"] == "aws-mcp"
    assert hop["hops"][0]["request_id"] == "compose-1"


def test_a_tenants_call_is_signed_with_credentials_read_per_request(
    compose_env: dict[str, str],
) -> None:
    container = f"{compose_env['DEVENV_COMPOSE_PROJECT']}-cost-agent-1"
    route = ["aws-mcp", "cloud-apis"]
    status, answer = _call_in(container, {"route": route, "tenant": "acme"})
    assert status == 200, answer
    simulator = answer["hops"][0]["hops"][0]  # type: ignore[index]
    assert simulator["data"]["tenant"] == "acme"
    assert simulator["data"]["credential_version"] >= 1
    status, answer = _call_in(container, {"route": route, "tenant": "nobody"})
    assert (status, answer["error"]) == (404, "aws-mcp: no aws credential for tenant nobody")


def test_keys_and_tokens_stay_private_and_the_gateway_serves_tls(
    compose_env: dict[str, str],
) -> None:
    state = Path(compose_env["XDG_STATE_HOME"]) / "finops-devenv" / "finops-dev" / "compose"
    private = [state / "tls" / "tls.key", *sorted((state / "agents").glob("*/token"))]
    assert len(private) >= 3  # the key, and the tokens of cost-agent and aws-mcp
    assert {path.name: stat.S_IMODE(path.stat().st_mode) for path in private} == {
        path.name: 0o600 for path in private
    }
    # The gateway (uid 10001) reads its key from the volume the hand-over filled.
    trust = ssl.create_default_context(cafile=str(state / "tls" / "tls.crt"))
    answer = httpx.get(
        f"https://127.0.0.1:{compose_env['DEVENV_GATEWAY_PORT']}/health", verify=trust, timeout=5
    )
    assert answer.json()["component"] == "api-gateway"
