"""What a worker shows of a dependency's error never carries a secret value."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import psycopg
from finops_stub.checks import Checks
from finops_stub.config import load_config
from finops_stub.logs import JsonLog
from finops_stub.metrics import Metrics
from finops_stub.secrets import SecretStore, redact
from finops_stub.workers import WorkerLoop

from tests.stub_processes import write_secret

SECRET_VALUE = "sk-test-do-not-print-0123456789"


class ConnectsWithTheSecretUrl(WorkerLoop):
    """Hands the secret file's URL to the real driver, as celery-workers does."""

    role = "connects"

    async def step(self) -> None:
        try:
            await self.postgres()
        finally:
            self.stop()


def test_last_error_is_redacted_before_ready_shows_it(tmp_path: Path) -> None:
    # A malformed connection string: libpq quotes it back in its error message.
    write_secret(tmp_path, "database-url", {"url": f"{SECRET_VALUE} host=127.0.0.1"})
    config = load_config(
        {
            "STUB_CONFIG": json.dumps(
                {
                    "component": "celery-workers",
                    "kind": "worker",
                    "secrets": ["database-url"],
                    "checks": {"postgres": {"secret": "database-url"}},
                }
            )
        }
    )
    loop = ConnectsWithTheSecretUrl(
        config, Checks(config, SecretStore(tmp_path)), JsonLog("test"), Metrics()
    )
    with_secret = psycopg.ProgrammingError  # what the driver raises here
    asyncio.run(loop.run())
    status = loop.status()
    assert status["paused"]
    assert status["last_error"].startswith(with_secret.__name__)
    assert SECRET_VALUE not in status["last_error"]
    assert "***" in status["last_error"]


def test_redact_hides_values_and_url_credentials(tmp_path: Path) -> None:
    write_secret(tmp_path, "database-url", {"url": "postgresql://finops:pw-0123@db:5432/finops"})
    write_secret(tmp_path, "llm-api-keys", {"openai": SECRET_VALUE, "enabled": True})
    store = SecretStore(tmp_path)
    secrets = [store.read("database-url"), store.read("llm-api-keys")]
    text = (
        "failed: postgresql://finops:pw-0123@db:5432/finops; key sk-test-do-not-print-0123456789;"
        " old redis://:rotated-away@redis:6379"
    )
    assert redact(text, secrets) == ("failed: ***; key ***; old redis://***@redis:6379")
