"""No devenv output of a whole run shows a secret value devenv knows: up,
status, the logs of every component (OpenBao's dev banner prints its root token
and unseal key), secrets list and check, and test-integration's JUnit report."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from devenv.secrets.connection import dev_credentials
from devenv.secrets.redaction import known_secret_values
from devenv.topology.loader import load_topology


def _devenv(*args: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "devenv", *args], capture_output=True, text=True, timeout=600,
        check=False,
    )  # fmt: skip
    return result.stdout + result.stderr


def test_no_output_shows_a_secret(kind_context: str, tmp_path: Path) -> None:
    topology = load_topology()
    credentials = dev_credentials(topology)
    assert credentials.openbao_unseal_key, "up keeps dev mode's unseal key in its state file"
    raw = subprocess.run(
        ["kubectl", "--context", kind_context, "-n", "finops-data", "logs",
         "deployment/openbao", "-c", "openbao", "--tail=500"],
        capture_output=True, text=True, check=True, timeout=60,
    ).stdout  # fmt: skip
    assert credentials.openbao_root_token in raw  # what there is to hide
    junit = tmp_path / "junit.xml"
    outputs = {
        "up": _devenv("up", "--json"),
        "status": _devenv("status") + _devenv("status", "--json"),
        "secrets": _devenv("secrets", "list")
        + _devenv("secrets", "list", "--json")
        + _devenv("secrets", "check"),
        "test-integration": _devenv("test-integration", "-k", "health", "--junit", str(junit)),
    }
    outputs |= {
        f"logs {name}": _devenv("logs", name, "--tail", "500") for name in topology.components
    }
    outputs["junit"] = junit.read_text()
    assert "Root Token: [redacted]" in outputs["logs openbao"]
    values = known_secret_values()
    must = {credentials.openbao_root_token, credentials.openbao_unseal_key,
            credentials.postgres_password, credentials.redis_password}  # fmt: skip
    assert must <= values
    leaks = [(where, value[:4] + "...") for where, text in outputs.items() for value in values
             if value in text]  # fmt: skip
    assert leaks == []
