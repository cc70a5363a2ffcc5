"""The compose data layer (TimescaleDB, Redis, OpenBao) for integration tests,
started once per session through pytest-docker on random loopback ports.

Images come through the product's override mechanism (DEVENV_IMAGE_*): users
get the pinned official images, CI its locally built stand-ins.
"""

from __future__ import annotations

import os
import secrets
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from pytest_docker.plugin import Services

from tests.runtime import docker_problem, unavailable
from tests.stub_processes import free_port

ROOT = Path(__file__).parents[2]
# Distinct per run, so a test can look for them where they must not be (argv).
PG_PASSWORD = "pg-" + secrets.token_hex(12)
REDIS_PASSWORD = "redis-" + secrets.token_hex(12)
OPENBAO_TOKEN = "bao-" + secrets.token_hex(12)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if Path(str(item.fspath)).is_relative_to(Path(__file__).parent):
            item.add_marker(pytest.mark.docker)


@pytest.fixture(scope="session")
def docker_compose_command() -> str:
    problem = docker_problem()
    if problem:
        unavailable(problem)
    return "docker compose"


@pytest.fixture(scope="session")
def docker_compose_file() -> Iterator[str]:
    # Free ports chosen here (not by Docker) stay the same across a stop and a
    # start, which the outage tests do; and they never collide with a
    # developer's running `docker compose up`.
    with pytest.MonkeyPatch.context() as patch:
        for variable in ("DEVENV_PG_PORT", "DEVENV_REDIS_PORT", "DEVENV_OPENBAO_PORT"):
            patch.setenv(variable, str(free_port()))
        patch.setenv("DEVENV_PG_PASSWORD", PG_PASSWORD)
        patch.setenv("DEVENV_REDIS_PASSWORD", REDIS_PASSWORD)
        patch.setenv("DEVENV_OPENBAO_ROOT_TOKEN", OPENBAO_TOKEN)
        yield str(ROOT / "compose" / "compose.yaml")


@pytest.fixture(scope="session")
def docker_compose_project_name() -> str:
    return f"finops-devenv-test-{os.getpid()}"


@pytest.fixture(scope="session")
def docker_setup() -> list[str]:
    # Every service has a healthcheck: --wait returns once all are healthy.
    return ["up -d --wait --wait-timeout 120"]


@dataclass(frozen=True)
class DataLayer:
    services: Services
    compose_file: str
    project: str
    pg_port: int
    redis_port: int
    openbao_port: int

    def compose(self, *args: str) -> None:
        """Run `docker compose` on the test project (e.g. stop a service)."""
        subprocess.run(
            ["docker", "compose", "-p", self.project, "-f", self.compose_file, *args],
            check=True, capture_output=True, timeout=120,
        )  # fmt: skip

    @property
    def postgres_dsn(self) -> str:
        return f"postgresql://finops:{PG_PASSWORD}@127.0.0.1:{self.pg_port}/finops"

    @property
    def redis_url(self) -> str:
        return f"redis://:{REDIS_PASSWORD}@127.0.0.1:{self.redis_port}/0"

    @property
    def openbao_addr(self) -> str:
        return f"http://127.0.0.1:{self.openbao_port}"


def _openbao_ready(address: str) -> bool:
    try:
        return httpx.get(f"{address}/v1/sys/health", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


@pytest.fixture(scope="session")
def data_layer(
    docker_services: Services, docker_compose_file: str, docker_compose_project_name: str
) -> DataLayer:
    layer = DataLayer(
        services=docker_services,
        compose_file=docker_compose_file,
        project=docker_compose_project_name,
        pg_port=docker_services.port_for("timescaledb", 5432),
        redis_port=docker_services.port_for("redis", 6379),
        openbao_port=docker_services.port_for("openbao", 8200),
    )
    # Healthy inside the container; make sure the published port answers too.
    docker_services.wait_until_responsive(
        check=lambda: _openbao_ready(layer.openbao_addr), timeout=30, pause=0.5
    )
    return layer


@pytest.fixture(scope="session")
def docker_engine() -> None:
    """A Docker engine (and compose v2) answers, or the test skips (fails in CI)."""
    problem = docker_problem()
    if problem:
        unavailable(problem)
