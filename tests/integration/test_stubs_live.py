"""Stubs against the real data layer: readiness through an outage, and workers
doing real work (heartbeat enqueued, consumed, row written; webhook stream)."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import httpx
import psycopg
import redis

from tests.integration.conftest import DataLayer
from tests.stub_processes import RunningStub, wait_until, write_secret


def _secrets(directory: Path, layer: DataLayer) -> Path:
    write_secret(directory, "database-url", {"url": layer.postgres_dsn})
    write_secret(
        directory, "redis-password", {"password": layer.redis_url.split(":")[2].split("@")[0]}
    )
    return directory


def _ready(stub: RunningStub) -> int:
    try:
        return httpx.get(f"{stub.url}/ready", timeout=5).status_code
    except httpx.HTTPError:
        return 0


def _count(layer: DataLayer, table: str) -> int:
    try:
        with psycopg.connect(layer.postgres_dsn, connect_timeout=2) as connection:
            row = connection.execute(f"SELECT count(*) FROM {table}").fetchone()  # noqa: S608 - test tables
    except psycopg.Error:
        return -1
    return int(row[0]) if row else 0


def test_workers_do_real_work_and_survive_a_database_outage(
    data_layer: DataLayer, start_stub: Callable[..., RunningStub], tmp_path: Path
) -> None:
    secrets = _secrets(tmp_path / "secrets", data_layer)
    redis_check = {"address": f"127.0.0.1:{data_layer.redis_port}", "secret": "redis-password"}
    both = {"postgres": {"secret": "database-url"}, "redis": redis_check}
    beat = start_stub(
        "celery-beat", kind="worker", secrets=("redis-password",), checks={"redis": redis_check},
        secrets_dir=secrets,
    )  # fmt: skip
    worker = start_stub(
        "celery-workers", kind="worker", secrets=("redis-password", "database-url"), checks=both,
        secrets_dir=secrets,
    )  # fmt: skip
    events = start_stub(
        "event-processor", kind="worker", secrets=("redis-password", "database-url"), checks=both,
        secrets_dir=secrets,
    )  # fmt: skip
    for stub in (beat, worker, events):
        wait_until(lambda stub=stub: _ready(stub) == 200, timeout=40, what=f"{stub.name} ready")

    # Heartbeat enqueued by beat, consumed by the worker, row written.
    wait_until(
        lambda: _count(data_layer, "worker_heartbeats") >= 2, timeout=40, what="heartbeat rows"
    )
    # Webhook events through the stream.
    client = redis.Redis.from_url(data_layer.redis_url)
    ids = [client.xadd("finops:webhooks", {"kind": "cost.updated", "n": str(n)}) for n in range(3)]
    wait_until(lambda: _count(data_layer, "webhook_events") >= 3, timeout=40, what="webhook rows")

    # The database goes away: readiness fails, work pauses, nothing is lost.
    data_layer.compose("stop", "timescaledb")
    try:
        wait_until(lambda: _ready(worker) == 503, timeout=40, what="celery-workers not ready")
        wait_until(lambda: _ready(events) == 503, timeout=40, what="event-processor not ready")
        assert _ready(beat) == 200  # beat needs Redis only
        outage_ids = [client.xadd("finops:webhooks", {"kind": "during-outage"}) for _ in range(2)]
        time.sleep(2)  # beat keeps enqueuing while the worker cannot write
        assert client.llen("finops:jobs") + client.llen("finops:jobs:processing") > 0
    finally:
        data_layer.compose("start", "timescaledb")

    # It comes back: both resume by themselves and catch up.
    wait_until(lambda: _ready(worker) == 200, timeout=60, what="celery-workers ready again")
    wait_until(lambda: _ready(events) == 200, timeout=30, what="event-processor ready again")
    beat.process.terminate()
    beat.process.wait(timeout=5)
    enqueued = sum(1 for line in beat.log_lines() if line.get("event") == "job_enqueued")
    wait_until(
        lambda: client.llen("finops:jobs") + client.llen("finops:jobs:processing") == 0,
        timeout=30, what="the job queue to drain",
    )  # fmt: skip
    event_ids = [i.decode() for i in [*ids, *outage_ids]]

    def events_written() -> int:
        with psycopg.connect(data_layer.postgres_dsn) as connection:
            row = connection.execute(
                "SELECT count(DISTINCT event_id) FROM webhook_events WHERE event_id = ANY(%s)",
                (event_ids,),
            ).fetchone()
        return int(row[0]) if row else 0

    wait_until(lambda: events_written() == len(event_ids), timeout=30, what="every webhook event")
    with psycopg.connect(data_layer.postgres_dsn) as connection:
        written = connection.execute(
            "SELECT count(DISTINCT job_id) FROM worker_heartbeats"
        ).fetchone()
    assert written == (enqueued,)
    assert any(line.get("event") == "worker_resumed" for line in worker.log_lines())

    # SIGTERM ends each worker within the pod's grace, its loop stopped cleanly
    # (uvicorn re-raises the signal once shut down, hence no exit code check).
    for stub in (worker, events):
        stub.process.terminate()
        stub.process.wait(timeout=5)
    for stub in (beat, worker, events):
        events_logged = [line.get("event") for line in stub.log_lines()]
        assert events_logged[-1] == "stopped", stub.name
        assert "worker_stop_overdue" not in events_logged, stub.name
