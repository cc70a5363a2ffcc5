"""The compose data layer, for real: PostgreSQL, Redis and OpenBao containers."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
import redis

from tests.integration.conftest import OPENBAO_TOKEN, PG_PASSWORD, REDIS_PASSWORD, DataLayer


def test_postgres_answers_a_real_query(data_layer: DataLayer) -> None:
    with psycopg.connect(data_layer.postgres_dsn, connect_timeout=5) as connection:
        version = connection.execute("SHOW server_version_num").fetchone()
        assert version is not None
        assert int(version[0]) >= 150000
        connection.execute(
            "CREATE TABLE IF NOT EXISTS probe (ts timestamptz NOT NULL, value int NOT NULL)"
        )
        connection.execute("INSERT INTO probe VALUES (now(), 42)")
        row = connection.execute("SELECT value FROM probe").fetchone()
        assert row == (42,)


INIT_SCRIPT = Path(__file__).parents[2] / "compose" / "init" / "100_finops.sql"


def _extensions(connection: psycopg.Connection[Any], name: str) -> tuple[int, int]:
    available = connection.execute(
        "SELECT count(*) FROM pg_available_extensions WHERE name = %s", (name,)
    ).fetchone()
    installed = connection.execute(
        "SELECT count(*) FROM pg_extension WHERE extname = %s", (name,)
    ).fetchone()
    assert available is not None
    assert installed is not None
    return int(available[0]), int(installed[0])


def test_the_init_script_installs_timescaledb_only_where_available(data_layer: DataLayer) -> None:
    with psycopg.connect(data_layer.postgres_dsn, connect_timeout=5) as connection:
        available, installed = _extensions(connection, "timescaledb")
    assert installed == available  # as the container's first start left it


@pytest.mark.parametrize(
    ("extension", "expected"),
    [("hstore", (1, 1)), ("no_such_extension", (0, 0))],  # hstore ships with PostgreSQL
)
def test_the_init_scripts_rule_both_ways(
    data_layer: DataLayer, extension: str, expected: tuple[int, int]
) -> None:
    # TimescaleDB cannot be had here, so its branch is exercised with an extension
    # that plain PostgreSQL offers: the same script, another name.
    script = INIT_SCRIPT.read_text().replace("timescaledb", extension)
    with psycopg.connect(data_layer.postgres_dsn, connect_timeout=5, autocommit=True) as connection:
        connection.execute(f"DROP EXTENSION IF EXISTS {extension}")  # a re-run starts clean
        connection.execute(script.encode())  # a file we ship, not user input
        assert _extensions(connection, extension) == expected
        connection.execute(f"DROP EXTENSION IF EXISTS {extension}")


def test_postgres_refuses_a_wrong_password(data_layer: DataLayer) -> None:
    wrong = data_layer.postgres_dsn.replace(f":{PG_PASSWORD}@", ":nope@")
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        psycopg.connect(wrong, connect_timeout=5)


def test_redis_needs_its_password(data_layer: DataLayer) -> None:
    client = redis.Redis.from_url(data_layer.redis_url, socket_timeout=5)
    assert client.ping() is True
    client.set("devenv:probe", "1")
    assert client.get("devenv:probe") == b"1"
    anonymous = redis.Redis(host="127.0.0.1", port=data_layer.redis_port, socket_timeout=5)
    with pytest.raises(redis.AuthenticationError):
        anonymous.ping()


def test_openbao_dev_server_keeps_versions(data_layer: DataLayer) -> None:
    headers = {"X-Vault-Token": OPENBAO_TOKEN}
    with httpx.Client(base_url=data_layer.openbao_addr, headers=headers, timeout=5) as bao:
        health = bao.get("/v1/sys/health").json()
        assert health["initialized"] is True
        assert health["sealed"] is False
        path = "/v1/secret/data/devenv-probe"
        first = bao.post(path, json={"data": {"value": "one"}}).json()["data"]["version"]
        second = bao.post(path, json={"data": {"value": "two"}}).json()["data"]["version"]
        assert second == first + 1
        assert bao.get(path).json()["data"]["data"] == {"value": "two"}
        forbidden = httpx.get(f"{data_layer.openbao_addr}{path}", timeout=5)
        assert forbidden.status_code == 403


def test_no_secret_is_in_any_process_arguments_on_the_host(data_layer: DataLayer) -> None:
    # Containers' processes are host processes: `ps` shows their argv to every user,
    # including the healthchecks docker runs inside them.
    for _ in range(3):  # across a few healthcheck rounds (every 2 s)
        listing = subprocess.run(
            ["ps", "-eo", "args"], capture_output=True, text=True, check=True
        ).stdout
        for value in (PG_PASSWORD, REDIS_PASSWORD, OPENBAO_TOKEN):
            assert value not in listing
        time.sleep(1)
