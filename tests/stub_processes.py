"""Running stub processes for real: `python -m finops_stub` on free loopback ports.

The `start_stub` fixture is registered in tests/conftest.py for every test directory.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

STUBS_DIR = Path(__file__).parents[1] / "stubs"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def write_secret(directory: Path, name: str, data: dict[str, Any], version: int = 1) -> Path:
    """A secret file as the OpenBao agent template writes it."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({"version": version, "data": data}))
    tmp.replace(path)  # atomic, like the agent's renders
    return path


@dataclass
class RunningStub:
    name: str
    port: int
    process: subprocess.Popen[bytes]
    log_path: Path
    scheme: str = "http"
    secrets_dir: Path = field(default_factory=Path)

    @property
    def url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.port}"

    def log_lines(self) -> list[dict[str, Any]]:
        lines = []
        for line in self.log_path.read_text().splitlines():
            try:
                lines.append(json.loads(line))
            except json.JSONDecodeError:
                continue
        return lines


def wait_until(check: Callable[[], bool], *, timeout: float, what: str, hint: str = "") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    pytest.fail(f"timed out after {timeout}s waiting for {what}. {hint}".strip(), pytrace=False)


@pytest.fixture
def start_stub(tmp_path: Path) -> Iterator[Callable[..., RunningStub]]:
    started: list[RunningStub] = []

    def start(
        component: str,
        *,
        kind: str = "agent",
        secrets: tuple[str, ...] = (),
        calls: dict[str, str] | None = None,
        external_calls: tuple[str, ...] = (),
        external_urls: dict[str, str] | None = None,
        checks: dict[str, Any] | None = None,
        tls: tuple[Path, Path] | None = None,
        extra_env: dict[str, str] | None = None,
        secrets_dir: Path | None = None,
        config_extra: dict[str, Any] | None = None,
    ) -> RunningStub:
        port = free_port()
        directory = secrets_dir or tmp_path / f"{component}-secrets"
        directory.mkdir(parents=True, exist_ok=True)
        config = {
            "component": component, "kind": kind, "zone": "test", "port": port,
            "tls": tls is not None, "calls": calls or {}, "external_calls": list(external_calls),
            "external_urls": external_urls or {}, "secrets": list(secrets),
            "checks": checks or {}, **(config_extra or {}),
        }  # fmt: skip
        env = {
            **os.environ,
            "STUB_CONFIG": json.dumps(config),
            "STUB_SECRETS_DIR": str(directory),
            "STUB_HOST": "127.0.0.1",
            "STUB_HEARTBEAT_INTERVAL": "0.5",
            "PYTHONPATH": str(STUBS_DIR),
            **(extra_env or {}),
        }
        if tls:
            env["STUB_TLS_CERT"], env["STUB_TLS_KEY"] = str(tls[0]), str(tls[1])
        log_path = tmp_path / f"{component}.log"
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "finops_stub"], env=env, stdout=log, stderr=subprocess.STDOUT
            )
        stub = RunningStub(
            component, port, process, log_path, "https" if tls else "http", directory
        )
        started.append(stub)

        def serving() -> bool:
            if process.poll() is not None:
                pytest.fail(f"{component} exited: {log_path.read_text()[-2000:]}", pytrace=False)
            # Accepting connections is enough here: each test checks what it serves,
            # and a TLS stub's certificate with the CA the test holds.
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    return True
            except OSError:
                return False

        wait_until(
            serving, timeout=15, what=f"{component} to accept connections", hint=f"log: {log_path}"
        )
        return stub

    yield start
    for stub in started:
        stub.process.terminate()
    for stub in started:
        try:
            stub.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            stub.process.kill()
