"""Workers that do real work against the data layer.

* celery-beat enqueues a heartbeat job in a Redis list on a schedule;
* celery-workers moves each job to a processing list, writes a row into
  PostgreSQL (a hypertable where TimescaleDB is installed) and only then drops
  the job, so a database outage pauses the work without losing any;
* event-processor consumes a Redis stream of webhook events in a consumer
  group and acknowledges each event once its row is committed.

Every loop survives its dependencies going away: it pauses, retries with
backoff, and resumes by itself when they return.

A loop ends when asked to (``stop``), not by task cancellation alone:
redis-py's asyncio client can swallow a ``CancelledError`` that lands inside a
command (redis/redis-py#2028, #2551), and a loop that relied on it would keep
running after SIGTERM until the pod's grace period kills it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
from typing import Any

from finops_stub.checks import Checks, redis_client
from finops_stub.config import StubConfig
from finops_stub.logs import JsonLog
from finops_stub.metrics import Metrics

JOB_QUEUE = "finops:jobs"
PROCESSING = "finops:jobs:processing"
WEBHOOK_STREAM = "finops:webhooks"
CONSUMER_GROUP = "event-processor"

_HYPERTABLE = """
DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'timescaledb') THEN
    PERFORM create_hypertable('{table}', 'ts', if_not_exists => TRUE, migrate_data => TRUE);
  END IF;
END
$$;
"""
SCHEMAS = {
    "worker_heartbeats": (
        "CREATE TABLE IF NOT EXISTS worker_heartbeats ("
        " ts timestamptz NOT NULL DEFAULT now(), job_id text NOT NULL,"
        " enqueued_at timestamptz NOT NULL, worker text NOT NULL)"
    ),
    "webhook_events": (
        "CREATE TABLE IF NOT EXISTS webhook_events ("
        " ts timestamptz NOT NULL DEFAULT now(), event_id text NOT NULL,"
        " kind text, payload jsonb NOT NULL)"
    ),
}


class WorkerLoop:
    """Runs ``step`` forever; pauses with backoff while a dependency is down."""

    role = "worker"

    def __init__(self, config: StubConfig, checks: Checks, log: JsonLog, metrics: Metrics) -> None:
        self.config = config
        self.checks = checks
        self.log = log
        self.metrics = metrics
        self.processed = 0
        self.paused = False
        self.last_error: str | None = None
        self._redis: Any = None
        self._postgres: Any = None
        self._schema_ready = False
        self._stopping = asyncio.Event()

    def stop(self) -> None:
        """Ask the loop to end after its current step; sleeps end at once."""
        self._stopping.set()

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    async def pause(self, seconds: float) -> None:
        """Sleep, but wake as soon as the loop is asked to stop."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), seconds)

    def status(self) -> dict[str, Any]:
        return {
            "role": self.role,
            "processed": self.processed,
            "paused": self.paused,
            "last_error": self.last_error,
        }

    async def step(self) -> None:
        raise NotImplementedError

    async def run(self) -> None:
        backoff = 0.5
        try:
            while not self.stopping:
                try:
                    await self.step()
                except Exception as error:  # noqa: BLE001 - any dependency failure pauses the loop
                    if not self.paused:
                        self.log.event("worker_paused", role=self.role, error=type(error).__name__)
                    self.paused = True
                    # Driver messages may quote a DSN or a password: shown redacted.
                    message = self.checks.redact(f"{type(error).__name__}: {error}")
                    self.last_error = message[:200]
                    self.metrics.jobs.labels(self.role, "error").inc()
                    await self.reset()
                    await self.pause(backoff)
                    backoff = min(backoff * 2, 5.0)
                    continue
                if self.paused:
                    self.log.event("worker_resumed", role=self.role)
                self.paused, self.last_error, backoff = False, None, 0.5
        finally:
            await self.close()

    # --- connections, re-made after any failure (and after a secret rotation)
    async def redis(self) -> Any:
        if self._redis is None:
            address = self.config.redis_address
            if not address:
                raise RuntimeError("no Redis address configured")
            self._redis = redis_client(address, self.checks.redis_password(), timeout=5.0)
        return self._redis

    async def postgres(self) -> Any:
        if self._postgres is None:
            import psycopg

            url = self.checks.database_url()
            if not url:
                raise RuntimeError("no database URL in the secret file")
            self._postgres = await psycopg.AsyncConnection.connect(url, connect_timeout=2)
            self._schema_ready = False
        return self._postgres

    async def ensure_table(self, table: str) -> Any:
        connection = await self.postgres()
        if not self._schema_ready:
            await connection.execute(SCHEMAS[table])
            await connection.execute(_HYPERTABLE.format(table=table))
            await connection.commit()
            self._schema_ready = True
        return connection

    async def reset(self) -> None:
        await self.close()

    async def close(self) -> None:
        redis, postgres = self._redis, self._postgres
        self._redis = self._postgres = None
        for closer in (getattr(redis, "aclose", None), getattr(postgres, "close", None)):
            if closer is not None:
                # Closing a connection that already broke may fail too; nothing to do then.
                with contextlib.suppress(Exception):
                    await closer()


class HeartbeatScheduler(WorkerLoop):
    """celery-beat: one heartbeat job per interval."""

    role = "celery-beat"

    async def step(self) -> None:
        job = {
            "id": uuid.uuid4().hex,
            "kind": "heartbeat",
            "enqueued_at": time.time(),
            "by": self.config.component,
        }
        await (await self.redis()).lpush(JOB_QUEUE, json.dumps(job))
        self.processed += 1
        self.metrics.jobs.labels(self.role, "enqueued").inc()
        self.log.event("job_enqueued", role=self.role, job_id=job["id"])
        await self.pause(self.config.heartbeat_interval)


class HeartbeatWorker(WorkerLoop):
    """celery-workers: job -> row, at least once, never lost."""

    role = "celery-workers"

    async def step(self) -> None:
        redis = await self.redis()
        # A job left in PROCESSING by an earlier failure goes first.
        raw = await redis.lindex(PROCESSING, -1)
        if raw is None:
            raw = await redis.blmove(JOB_QUEUE, PROCESSING, 1, "RIGHT", "LEFT")
            if raw is None:
                return
        job = json.loads(raw)
        connection = await self.ensure_table("worker_heartbeats")
        await connection.execute(
            "INSERT INTO worker_heartbeats (job_id, enqueued_at, worker)"
            " VALUES (%s, to_timestamp(%s), %s)",
            (job["id"], job.get("enqueued_at", time.time()), self.config.component),
        )
        await connection.commit()
        await redis.lrem(PROCESSING, 1, raw)
        self.processed += 1
        self.metrics.jobs.labels(self.role, "written").inc()
        self.log.event("job_written", role=self.role, job_id=job["id"])


class WebhookConsumer(WorkerLoop):
    """event-processor: stream entries -> rows, acknowledged after commit."""

    role = "event-processor"
    _group_ready = False

    async def step(self) -> None:
        redis = await self.redis()
        if not self._group_ready:
            try:
                await redis.xgroup_create(WEBHOOK_STREAM, CONSUMER_GROUP, id="0", mkstream=True)
            except Exception as error:
                if "BUSYGROUP" not in str(error):
                    raise
            self._group_ready = True
        consumer = self.config.component
        # Entries delivered to us but not acknowledged (an outage) come first.
        batch = await redis.xreadgroup(CONSUMER_GROUP, consumer, {WEBHOOK_STREAM: "0"}, count=10)
        entries = batch[0][1] if batch else []
        if not entries:
            batch = await redis.xreadgroup(
                CONSUMER_GROUP, consumer, {WEBHOOK_STREAM: ">"}, count=10, block=1000
            )
            entries = batch[0][1] if batch else []
        if not entries:
            return
        connection = await self.ensure_table("webhook_events")
        for entry_id, fields in entries:
            decoded = {_text(k): _text(v) for k, v in fields.items()}
            await connection.execute(
                "INSERT INTO webhook_events (event_id, kind, payload) VALUES (%s, %s, %s)",
                (_text(entry_id), decoded.get("kind"), json.dumps(decoded)),
            )
        await connection.commit()
        await redis.xack(WEBHOOK_STREAM, CONSUMER_GROUP, *[entry_id for entry_id, _ in entries])
        self.processed += len(entries)
        self.metrics.jobs.labels(self.role, "written").inc(len(entries))
        self.log.event("events_written", role=self.role, count=len(entries))

    async def reset(self) -> None:
        self._group_ready = False
        await super().reset()


# Pods get five seconds between SIGTERM and SIGKILL (terminationGracePeriodSeconds):
# uvicorn's 1 s for open connections, then this, then 1 s for a cancellation.
WORKER_STOP_SECONDS = 2.0


async def stop_worker(
    loop: WorkerLoop, task: asyncio.Task[None], grace: float = WORKER_STOP_SECONDS
) -> bool:
    """End a running loop within ``grace`` seconds; True if it ended cleanly.

    The loop is asked first (it finishes its step, closes its connections);
    cancellation is the fallback for a step stuck past the grace. A loop that
    ignores even that is left behind so that shutdown still completes.
    """
    loop.stop()
    done, _ = await asyncio.wait({task}, timeout=grace)
    if done:
        if not task.cancelled() and task.exception() is not None:
            loop.log.event("worker_failed", role=loop.role, error=type(task.exception()).__name__)
            return False
        return True
    loop.log.event("worker_stop_overdue", role=loop.role, grace_seconds=grace)
    task.cancel()
    await asyncio.wait({task}, timeout=1.0)
    return False


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


LOOPS: dict[str, type[WorkerLoop]] = {
    "celery-beat": HeartbeatScheduler,
    "celery-workers": HeartbeatWorker,
    "event-processor": WebhookConsumer,
}
