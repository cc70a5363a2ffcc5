"""Every endpoint and check of the stub, against real processes and sockets."""

from __future__ import annotations

import json
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
import trustme
from finops_stub.config import ConfigError, load_config
from finops_stub.probe import main as probe_main

from tests.stub_processes import RunningStub, free_port, wait_until, write_secret

SECRET_VALUE = "sk-test-do-not-print-0123456789"


def test_health_and_ready_without_dependencies(start_stub: Callable[..., RunningStub]) -> None:
    stub = start_stub("optimization-agent")
    assert httpx.get(f"{stub.url}/health").json() == {
        "status": "ok",
        "component": "optimization-agent",
    }
    ready = httpx.get(f"{stub.url}/ready")
    assert ready.status_code == 200
    assert ready.json()["checks"] == {}


def test_ready_needs_every_secret_file_present_and_non_empty(
    start_stub: Callable[..., RunningStub],
) -> None:
    stub = start_stub("cost-agent", secrets=("llm-api-keys", "database-url"))
    ready = httpx.get(f"{stub.url}/ready")
    assert ready.status_code == 503
    checks = ready.json()["checks"]
    assert checks["secret:llm-api-keys"]["ok"] is False
    assert "missing or empty" in checks["secret:llm-api-keys"]["detail"]
    write_secret(stub.secrets_dir, "llm-api-keys", {"gemini": SECRET_VALUE})
    (stub.secrets_dir / "database-url").write_text("")
    checks = httpx.get(f"{stub.url}/ready").json()["checks"]
    assert checks["secret:llm-api-keys"]["ok"] is True
    assert checks["secret:database-url"]["ok"] is False


def test_secrets_view_follows_rotation_and_never_shows_values(
    start_stub: Callable[..., RunningStub],
) -> None:
    stub = start_stub("reporting-agent", secrets=("llm-api-keys",))
    write_secret(stub.secrets_dir, "llm-api-keys", {"claude": SECRET_VALUE}, version=1)
    first = httpx.get(f"{stub.url}/secrets").json()["secrets"][0]
    assert first["present"] is True
    assert first["version"] == 1
    time.sleep(0.01)
    write_secret(stub.secrets_dir, "llm-api-keys", {"claude": SECRET_VALUE + "-rotated"}, version=2)
    second = httpx.get(f"{stub.url}/secrets").json()["secrets"][0]
    assert second["version"] == 2
    assert second["sha256"] != first["sha256"]
    assert SECRET_VALUE not in httpx.get(f"{stub.url}/secrets").text
    assert SECRET_VALUE not in stub.log_path.read_text()


class _SilentServer:
    """Accepts TCP connections and never answers: a hung dependency."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.held: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self.sock.accept()
            except OSError:
                return
            self.held.append(connection)

    def close(self) -> None:
        self.sock.close()
        for connection in self.held:
            connection.close()


@pytest.fixture
def silent_server() -> Iterator[_SilentServer]:
    server = _SilentServer()
    yield server
    server.close()


def test_a_hung_dependency_cannot_hang_the_probe(
    start_stub: Callable[..., RunningStub], silent_server: _SilentServer, tmp_path: Path
) -> None:
    secrets = tmp_path / "s"
    write_secret(secrets, "redis-password", {"password": "x"})
    write_secret(
        secrets, "database-url", {"url": f"postgresql://u:p@127.0.0.1:{silent_server.port}/db"}
    )
    stub = start_stub(
        "tenant-agent",
        secrets_dir=secrets,
        checks={
            "redis": {"address": f"127.0.0.1:{silent_server.port}", "secret": "redis-password"},
            "postgres": {"secret": "database-url"},
        },
        extra_env={"STUB_CHECK_TIMEOUT": "0.5"},
    )
    started = time.monotonic()
    ready = httpx.get(f"{stub.url}/ready", timeout=10)
    elapsed = time.monotonic() - started
    assert ready.status_code == 503
    checks = ready.json()["checks"]
    assert checks["redis"]["ok"] is False
    assert checks["postgres"]["ok"] is False
    assert elapsed < 3.0, f"checks run concurrently with their own timeouts, took {elapsed:.1f}s"
    one_after_another = checks["redis"]["ms"] + checks["postgres"]["ms"]
    assert elapsed * 1000 < one_after_another, "the checks ran one after another"


def test_metrics_count_requests_and_checks(start_stub: Callable[..., RunningStub]) -> None:
    stub = start_stub("policy-mcp", kind="mcp", secrets=("database-url",))
    httpx.get(f"{stub.url}/health")
    httpx.get(f"{stub.url}/ready")
    text = httpx.get(f"{stub.url}/metrics").text
    assert 'stub_requests_total{method="GET",path="/ready",status="503"} 1.0' in text
    assert 'stub_check_ok{check="secret:database-url"} 0.0' in text
    assert "stub_request_duration_seconds_bucket" in text


def test_one_json_log_line_per_request_with_the_request_id(
    start_stub: Callable[..., RunningStub],
) -> None:
    stub = start_stub("cost-agent")
    httpx.get(f"{stub.url}/health", headers={"X-Request-ID": "req-123"})
    wait_until(
        lambda: any(line.get("request_id") == "req-123" for line in stub.log_lines()),
        timeout=5, what="the request's log line",
    )  # fmt: skip
    (line,) = [entry for entry in stub.log_lines() if entry.get("request_id") == "req-123"]
    assert line["component"] == "cost-agent"
    assert line["path"] == "/health"
    assert line["status"] == 200


def test_call_refuses_an_undeclared_hop(start_stub: Callable[..., RunningStub]) -> None:
    stub = start_stub("cost-agent", calls={"aws-mcp": "http://127.0.0.1:9"})
    answer = httpx.post(f"{stub.url}/call", json={"route": ["postgresql-timescaledb"]})
    assert answer.status_code == 400
    assert "not a declared call" in answer.json()["error"]


def _serving_files(authority: trustme.CA, directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and localhost from ``authority``, and its key."""
    cert = authority.issue_cert("127.0.0.1", "localhost")
    cert_path, key_path = directory / "tls.crt", directory / "tls.key"
    cert.cert_chain_pems[0].write_to_path(cert_path)
    cert.private_key_pem.write_to_path(key_path)
    return cert_path, key_path


def _ca_file(authority: trustme.CA, directory: Path) -> Path:
    path = directory / "ca.crt"
    authority.cert_pem.write_to_path(path)
    return path


def test_call_chain_across_processes_keeps_one_request_id(
    start_stub: Callable[..., RunningStub], tmp_path: Path
) -> None:
    """gateway (HTTPS) -> ag-ui-server -> coordinator -> cost-agent -> aws-mcp -> cloud-apis."""
    authority = trustme.CA()
    cert_path, key_path = _serving_files(authority, tmp_path)
    ca_path = _ca_file(authority, tmp_path)
    # The simulator serves HTTPS from the same CA, and aws-mcp verifies it with it.
    cloud = start_stub("cloud-apis", kind="cloud-api", tls=(cert_path, key_path))
    mcp = start_stub(
        "aws-mcp",
        kind="mcp",
        external_calls=("cloud-apis",),
        external_urls={"cloud-apis": cloud.url},
        extra_env={"STUB_CA_FILE": str(ca_path)},
    )
    agent = start_stub("cost-agent", calls={"aws-mcp": mcp.url})
    coordinator = start_stub("coordinator-agent", calls={"cost-agent": agent.url})
    ag_ui = start_stub(
        "ag-ui-server", kind="frontend", calls={"coordinator-agent": coordinator.url}
    )
    gateway = start_stub(
        "api-gateway", kind="gateway", calls={"ag-ui-server": ag_ui.url}, tls=(cert_path, key_path)
    )
    route = ["ag-ui-server", "coordinator-agent", "cost-agent", "aws-mcp", "cloud-apis"]
    answer = httpx.post(
        f"{gateway.url}/call",
        json={"route": route},
        headers={"X-Request-ID": "e2e-42"},
        verify=ssl.create_default_context(cafile=str(ca_path)),
    )
    assert answer.status_code == 200, answer.text
    hop, components = answer.json(), []
    while hop:
        components.append(hop["component"])
        assert hop["request_id"] == "e2e-42"
        hop = (hop.get("hops") or [None])[0]
    assert components == ["api-gateway", *route]
    for stub in (gateway, ag_ui, coordinator, agent, mcp, cloud):
        wait_until(
            lambda stub=stub: any(
                line.get("request_id") == "e2e-42" and line.get("path") == "/call"
                for line in stub.log_lines()
            ),
            timeout=5, what=f"{stub.name}'s log line for the request",
        )  # fmt: skip


def test_an_external_endpoint_must_prove_itself(
    start_stub: Callable[..., RunningStub], tmp_path: Path
) -> None:
    """No `verify=False`: a certificate from a CA the stub was not given is refused."""
    ours, theirs = trustme.CA(), trustme.CA()
    cert_path, key_path = _serving_files(theirs, tmp_path)
    ca_path = _ca_file(ours, tmp_path)
    cloud = start_stub("cloud-apis", kind="cloud-api", tls=(cert_path, key_path))
    mcp = start_stub(
        "aws-mcp", kind="mcp", external_calls=("cloud-apis",),
        external_urls={"cloud-apis": cloud.url}, extra_env={"STUB_CA_FILE": str(ca_path)},
    )  # fmt: skip
    answer = httpx.post(f"{mcp.url}/call", json={"route": ["cloud-apis"]})
    assert answer.status_code == 502
    assert "CERTIFICATE_VERIFY_FAILED" in answer.json()["error"]


def test_probe_command() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        assert probe_main(["127.0.0.1", str(listener.getsockname()[1]), "--timeout", "1"]) == 0
    assert probe_main(["127.0.0.1", str(free_port()), "--timeout", "0.5"]) == 1


def test_config_errors_are_explained() -> None:
    with pytest.raises(ConfigError, match="STUB_CONFIG is not set"):
        load_config({})
    with pytest.raises(ConfigError, match="not valid JSON"):
        load_config({"STUB_CONFIG": "{nope"})
    config = load_config(
        {"STUB_CONFIG": json.dumps({"component": "celery-beat", "port": 1}), "STUB_PORT": "9"}
    )
    assert config.port == 9
    assert config.worker_role == "celery-beat"
    mcp = {"component": "aws-mcp", "cloud": "aws", "tenant_credentials": {"address": "https://x"}}
    with pytest.raises(ConfigError, match="tenant_credentials needs 'kv_mount'"):
        load_config({"STUB_CONFIG": json.dumps(mcp)})
    with pytest.raises(ConfigError, match="cloud 'oracle' is not one of aws, azure, gcp"):
        load_config({"STUB_CONFIG": json.dumps({"component": "x", "cloud": "oracle"})})


@pytest.mark.parametrize(
    ("body", "headers", "expected"),
    [
        ("x" * 20_000, {}, "body over 16384 bytes"),
        ("[1, 2]", {}, "body must be a JSON object"),
        ("{not json", {}, "body is not JSON"),
        (json.dumps({"route": ["aws-mcp"] * 9}), {}, "route longer than 8 hops"),
        (json.dumps({"route": "aws-mcp"}), {}, "route must be a list of component names"),
        (
            json.dumps({"route": [], "tenant": "../x"}),
            {},
            "tenant must match [a-z0-9][a-z0-9-]{0,62}",
        ),
    ],
)
def test_call_refuses_what_it_should_not_forward(
    start_stub: Callable[..., RunningStub], body: str, headers: dict[str, str], expected: str
) -> None:
    stub = start_stub("cost-agent", calls={"aws-mcp": "http://127.0.0.1:9"})
    answer = httpx.post(
        f"{stub.url}/call", content=body, headers={"content-type": "application/json", **headers}
    )
    assert answer.status_code == 400
    assert answer.json()["error"] == expected


def test_a_request_id_must_be_a_short_plain_token(start_stub: Callable[..., RunningStub]) -> None:
    stub = start_stub("optimization-agent")
    ok = httpx.get(f"{stub.url}/health", headers={"X-Request-ID": "abc-123.DEF_4"})
    assert ok.status_code == 200
    assert ok.headers["x-request-id"] == "abc-123.DEF_4"
    for bad in ("a" * 65, "line\\nbreak", "<script>", "with space"):
        refused = httpx.get(f"{stub.url}/health", headers={"X-Request-ID": bad})
        assert refused.status_code == 400, bad
