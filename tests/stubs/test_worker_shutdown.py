"""A worker loop ends on request even when a step swallows its cancellation.

redis-py's asyncio client can swallow a CancelledError that arrives inside a
command (redis/redis-py#2028, #2551); before the loop had a stop flag, a stub
hit that way kept running after SIGTERM. The step below reproduces that
behaviour deterministically, without relying on a race.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from pathlib import Path
from typing import TypeVar

from finops_stub.checks import Checks
from finops_stub.config import load_config
from finops_stub.logs import JsonLog
from finops_stub.metrics import Metrics
from finops_stub.secrets import SecretStore
from finops_stub.workers import WorkerLoop, stop_worker


class SwallowsCancellation(WorkerLoop):
    role = "swallows-cancellation"

    def __init__(self, *args: object) -> None:
        super().__init__(*args)  # type: ignore[arg-type]
        self.steps = 0
        self.in_step = asyncio.Event()
        self.closed = False

    async def step(self) -> None:
        self.steps += 1
        self.in_step.set()
        # What the third-party client does: the caller never sees the cancellation.
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.sleep(0.2)

    async def close(self) -> None:
        self.closed = True


class IgnoresEverything(SwallowsCancellation):
    """A step stuck past any grace: only ``release`` lets it return."""

    role = "ignores-everything"
    release: asyncio.Event

    async def step(self) -> None:
        self.in_step.set()
        while not self.release.is_set():
            try:
                await self.release.wait()
            except asyncio.CancelledError:
                continue


Loop = TypeVar("Loop", bound=SwallowsCancellation)


def _loop(loop_type: type[Loop], secrets: Path) -> Loop:
    config = load_config(
        {"STUB_CONFIG": json.dumps({"component": "worker-under-test", "kind": "worker"})}
    )
    return loop_type(config, Checks(config, SecretStore(secrets)), JsonLog("test"), Metrics())


def test_stop_ends_a_loop_whose_step_swallows_cancellation(tmp_path: Path) -> None:
    async def scenario() -> tuple[bool, SwallowsCancellation, float]:
        loop = _loop(SwallowsCancellation, tmp_path)
        task = asyncio.create_task(loop.run())
        await loop.in_step.wait()
        started = asyncio.get_running_loop().time()
        task.cancel()  # swallowed, as redis-py does
        ended = await stop_worker(loop, task, grace=3.0)
        return ended, loop, asyncio.get_running_loop().time() - started

    ended, loop, seconds = asyncio.run(scenario())
    assert ended
    assert loop.closed  # connections closed on the way out
    assert seconds < 1.0  # one step, not the grace


def test_a_loop_that_ignores_everything_cannot_hold_shutdown(tmp_path: Path) -> None:
    async def scenario() -> tuple[bool, float]:
        loop = _loop(IgnoresEverything, tmp_path)
        loop.release = asyncio.Event()
        task = asyncio.create_task(loop.run())
        await loop.in_step.wait()
        started = asyncio.get_running_loop().time()
        ended = await stop_worker(loop, task, grace=0.3)
        elapsed = asyncio.get_running_loop().time() - started
        loop.release.set()  # so that the event loop can close
        await task
        return ended, elapsed

    ended, seconds = asyncio.run(scenario())
    assert not ended
    assert seconds < 2.0  # grace plus the one second given to cancellation
