"""Readiness checks implied by the component's topology entry (DEV-INF-002).

Each check has its own timeout, so a hung dependency cannot hang the probe,
and they run concurrently. Details never carry a secret value.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from finops_stub.config import StubConfig
from finops_stub.secrets import SecretStore, redact
from finops_stub.tenants import OpenBaoRuntime


class CheckFailed(Exception):
    """A dependency answered, but not as it should."""


@dataclass(frozen=True)
class CheckResult:
    name: str
    ok: bool
    detail: str
    duration_ms: float


def _scrub(text: str, secrets: list[str | None]) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text


async def postgres_query(url: str, timeout: float) -> None:
    """A real round trip: connect and run a query."""
    import psycopg  # loaded at start by Checks, for database-backed roles only

    async with await psycopg.AsyncConnection.connect(
        url, connect_timeout=max(1, int(timeout)), autocommit=True
    ) as connection:
        cursor = await connection.execute("SELECT 1")
        if await cursor.fetchone() != (1,):
            raise CheckFailed("SELECT 1 returned something else")


def redis_client(address: str, password: str | None, timeout: float):  # type: ignore[no-untyped-def]
    import redis.asyncio as aioredis  # loaded at start by Checks, for Redis roles only

    host, _, port = address.rpartition(":")
    return aioredis.Redis(
        host=host,
        port=int(port),
        password=password,
        socket_timeout=timeout,
        socket_connect_timeout=timeout,
    )


async def redis_ping(address: str, password: str | None, timeout: float) -> None:
    client = redis_client(address, password, timeout)
    try:
        if not await client.ping():
            raise CheckFailed("PING did not answer PONG")
    finally:
        await client.aclose()


# Checks of a dependency every pod of a role shares (OpenBao, for the roles that
# read tenant credentials per request): reported by /ready, yet they leave the
# pod ready. Failing them would empty the Service of every such pod at once, and
# callers would see a refused connection instead of the clear 503 naming OpenBao
# that the pod answers while the dependency is down.
SHARED_DEPENDENCY_CHECKS = frozenset({"openbao"})


class Checks:
    """The checks of one component."""

    def __init__(self, config: StubConfig, secrets: SecretStore) -> None:
        self.config = config
        self.secrets = secrets
        self.openbao: OpenBaoRuntime | None = None  # set by the stub for runtime readers
        # Load the clients this role needs now, at start: imported inside the first
        # /ready they would block the event loop (~0.1 s each) and eat into the
        # checks' own timeouts. Roles that need neither still never load them.
        if config.postgres_secret:
            import psycopg  # noqa: F401
        if config.redis_address:
            import redis.asyncio  # noqa: F401

    def database_url(self) -> str | None:
        if not self.config.postgres_secret:
            return None
        return self.secrets.read(self.config.postgres_secret).field("url")

    def redis_password(self) -> str | None:
        if not self.config.redis_secret:
            return None
        return self.secrets.read(self.config.redis_secret).field("password")

    def redact(self, text: str) -> str:
        """Text safe to show: no value of this component's secrets, no URL credentials."""
        return redact(text, (self.secrets.read(name) for name in self.config.secrets))

    def _named_checks(self) -> list[tuple[str, Callable[[], Awaitable[None]]]]:
        config, timeout = self.config, self.config.check_timeout
        checks: list[tuple[str, Callable[[], Awaitable[None]]]] = []
        for secret in config.secrets:
            checks.append((f"secret:{secret}", self._secret_check(secret)))
        if config.postgres_secret:
            checks.append(("postgres", self._postgres_check(timeout)))
        if config.redis_address:
            checks.append(("redis", self._redis_check(timeout)))
        if self.openbao is not None:
            checks.append(("openbao", self._openbao_check()))
        return checks

    def _openbao_check(self) -> Callable[[], Awaitable[None]]:
        async def check() -> None:
            assert self.openbao is not None  # noqa: S101 - guarded by _named_checks
            problem = await self.openbao.health()
            if problem:
                raise CheckFailed(problem)

        return check

    def _secret_check(self, name: str) -> Callable[[], Awaitable[None]]:
        async def check() -> None:
            if not self.secrets.read(name).present:
                raise CheckFailed(f"{self.config.secrets_dir / name} is missing or empty")

        return check

    def _postgres_check(self, timeout: float) -> Callable[[], Awaitable[None]]:
        async def check() -> None:
            url = self.database_url()
            if not url:
                raise CheckFailed("no database URL in the secret file")
            await postgres_query(url, timeout)

        return check

    def _redis_check(self, timeout: float) -> Callable[[], Awaitable[None]]:
        async def check() -> None:
            assert self.config.redis_address is not None  # noqa: S101 - guarded by _named_checks
            await redis_ping(self.config.redis_address, self.redis_password(), timeout)

        return check

    async def _run_one(self, name: str, check: Callable[[], Awaitable[None]]) -> CheckResult:
        started = time.perf_counter()
        try:
            await asyncio.wait_for(check(), timeout=self.config.check_timeout + 0.5)
            ok, detail = True, "ok"
        except TimeoutError:
            ok, detail = False, f"timed out after {self.config.check_timeout + 0.5:.1f}s"
        except Exception as error:  # noqa: BLE001 - any failure is a failed check, reported
            ok, detail = False, f"{type(error).__name__}: {error}".strip()
        if not ok:  # only an error's text can carry a secret
            detail = _scrub(detail, [self.database_url(), self.redis_password()])
        return CheckResult(name, ok, detail, round((time.perf_counter() - started) * 1000, 1))

    async def run(self) -> list[CheckResult]:
        return list(
            await asyncio.gather(*(self._run_one(name, c) for name, c in self._named_checks()))
        )
