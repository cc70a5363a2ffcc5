#!/usr/bin/env python3
"""Stub budgets (issue: stub services), measured, not asserted by tests.

    python bench/stub_bench.py [--rate 200] [--seconds 10] [--runs 5] [--json]

* start to ready: process start until /ready answers 200 (secrets present);
* idle RSS after 2 s idle, for a role without database clients and for one
  that has run its PostgreSQL and Redis checks once (their libraries loaded);
* /health p50/p99 under an open-loop load of --rate requests/s on loopback
  (requests are sent on schedule whether or not earlier ones have answered);
* image sizes of the built stub images, and how much each adds to its base
  (needs Docker and `devenv images build`; skipped otherwise).

Budgets: RSS <= 40 MiB, p99 < 5 ms at 200 req/s, ready < 1.5 s, image <= 150 MB.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
STUBS = ROOT / "stubs"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def http_get(port: int, path: str) -> int:
    with socket.create_connection(("127.0.0.1", port), timeout=2) as sock:
        sock.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        head = sock.recv(64).decode(errors="replace")
    return int(head.split(" ")[1])


def start_stub(secrets_dir: Path, port: int, *, with_dependencies: bool) -> subprocess.Popen[bytes]:
    closed = free_port()  # nothing listens there: the checks fail fast, but load their clients
    config = {
        "component": "cost-agent",
        "kind": "agent",
        "port": port,
        "secrets": ["llm-api-keys", "database-url"],
        "checks": (
            {
                "postgres": {"secret": "database-url"},
                "redis": {"address": f"127.0.0.1:{closed}", "secret": "llm-api-keys"},
            }
            if with_dependencies
            else {}
        ),
    }
    env = {
        **os.environ,
        "STUB_CONFIG": json.dumps(config),
        "STUB_SECRETS_DIR": str(secrets_dir),
        "STUB_HOST": "127.0.0.1",
        "PYTHONPATH": str(STUBS),
    }
    return subprocess.Popen(
        [sys.executable, "-m", "finops_stub"], env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def measure_start(secrets_dir: Path, runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        port = free_port()
        started = time.perf_counter()
        process = start_stub(secrets_dir, port, with_dependencies=False)
        try:
            while True:
                try:
                    if http_get(port, "/ready") == 200:
                        break
                except OSError:
                    pass
                if time.perf_counter() - started > 15:
                    raise RuntimeError("the stub did not become ready within 15 s")
                time.sleep(0.01)
            times.append(time.perf_counter() - started)
        finally:
            process.terminate()
            process.wait()
    return times


def measure_rss(secrets_dir: Path, *, with_dependencies: bool) -> float:
    port = free_port()
    process = start_stub(secrets_dir, port, with_dependencies=with_dependencies)
    try:
        for _ in range(300):
            try:
                http_get(port, "/ready")  # runs the checks: psycopg and redis get imported
                break
            except OSError:
                time.sleep(0.02)
        http_get(port, "/metrics")
        time.sleep(2)
        return rss_mib(process.pid)
    finally:
        process.terminate()
        process.wait()


async def load(port: int, rate: int, seconds: float, connections: int = 8) -> list[float]:
    """Open loop: request i is due at i/rate; latency counts from when it was due."""
    latencies: list[float] = []
    total = int(rate * seconds)
    queue: asyncio.Queue[float] = asyncio.Queue()
    request = b"GET /health HTTP/1.1\r\nHost: bench\r\n\r\n"

    async def worker() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        while True:
            due = await queue.get()
            writer.write(request)
            await writer.drain()
            head = await reader.readuntil(b"\r\n\r\n")
            length = next(
                int(line.split(b":")[1])
                for line in head.split(b"\r\n")
                if line.lower().startswith(b"content-length")
            )
            await reader.readexactly(length)
            latencies.append(time.perf_counter() - due)
            queue.task_done()

    workers = [asyncio.create_task(worker()) for _ in range(connections)]
    start = time.perf_counter() + 0.2
    for i in range(total):
        due = start + i / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        queue.put_nowait(due)
    await queue.join()
    for task in workers:
        task.cancel()
    return latencies


def measure_latency(secrets_dir: Path, rate: int, seconds: float) -> dict[str, float]:
    port = free_port()
    process = start_stub(secrets_dir, port, with_dependencies=False)
    try:
        for _ in range(300):
            try:
                http_get(port, "/health")
                break
            except OSError:
                time.sleep(0.02)
        asyncio.run(load(port, rate, 1))  # warm-up
        samples = sorted(asyncio.run(load(port, rate, seconds)))
    finally:
        process.terminate()
        process.wait()

    def pct(p: float) -> float:
        return samples[min(len(samples) - 1, int(p * len(samples)))] * 1000

    return {
        "requests": len(samples),
        "p50_ms": pct(0.50),
        "p99_ms": pct(0.99),
        "max_ms": samples[-1] * 1000,
    }


def image_sizes() -> dict[str, dict[str, float]] | str:
    try:
        built = subprocess.run(
            [sys.executable, "-m", "devenv", "images", "build", "--json"],
            capture_output=True, text=True, check=True, cwd=ROOT,
        )  # fmt: skip
    except (OSError, subprocess.CalledProcessError) as error:
        return f"skipped: `devenv images build` failed ({error})"
    sizes = {}
    for name, entry in json.loads(built.stdout).items():
        ref = entry["ref"]
        size = int(
            subprocess.run(
                ["docker", "image", "inspect", "--format", "{{.Size}}", ref],
                capture_output=True,
                text=True,
                check=True,
            ).stdout
        )
        base = subprocess.run(
            [
                "docker",
                "image",
                "inspect",
                "--format",
                '{{index .Config.Labels "org.finops-devenv.image"}}',
                ref,
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        python = os.environ.get("DEVENV_IMAGE_PYTHON", "")
        base_size = (
            int(
                subprocess.run(
                    ["docker", "image", "inspect", "--format", "{{.Size}}", python],
                    capture_output=True,
                    text=True,
                    check=False,
                ).stdout
                or 0
            )
            if python
            else 0
        )
        sizes[name] = {
            "image_mb": size / 1e6,
            "base_mb": base_size / 1e6,
            "added_mb": (size - base_size) / 1e6 if base_size else float("nan"),
            "label": base,
        }
    return sizes


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rate", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        secrets_dir = Path(tmp)
        for name in ("llm-api-keys", "database-url"):
            url = f"postgresql://u:p@127.0.0.1:{free_port()}/x"  # nothing listens there
            data = {"version": 1, "data": {"url": url, "password": "p"}}
            (secrets_dir / name).write_text(json.dumps(data))
        start = measure_start(secrets_dir, args.runs)
        rss_plain = measure_rss(secrets_dir, with_dependencies=False)
        rss = measure_rss(secrets_dir, with_dependencies=True)
        latency = measure_latency(secrets_dir, args.rate, args.seconds)
    result = {
        "start_to_ready_s": {"median": statistics.median(start), "max": max(start)},
        "idle_rss_mib": {"without_database_clients": rss_plain, "with_psycopg_and_redis": rss},
        "health_latency": {"rate_per_s": args.rate, **latency},
        "images": image_sizes(),
        "machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0]},
    }
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(
            f"start to ready   median {statistics.median(start):.2f} s,"
            f" max {max(start):.2f} s (budget 1.5 s)"
        )
        print(
            f"idle RSS         {rss_plain:.1f} MiB without database clients,"
            f" {rss:.1f} MiB with psycopg and redis-py loaded (budget 40 MiB)"
        )
        print(
            f"/health @{args.rate}/s  p50 {latency['p50_ms']:.2f} ms,"
            f" p99 {latency['p99_ms']:.2f} ms,"
            f" max {latency['max_ms']:.1f} ms over {latency['requests']:.0f} requests"
            " (budget p99 < 5 ms)"
        )
        images = result["images"]
        if isinstance(images, str):
            print(f"images           {images}")
        else:
            for name, size in images.items():
                print(
                    f"image {name:<11} {size['image_mb']:.0f} MB"
                    f" ({size['added_mb']:.0f} MB over its base) (budget 150 MB)"
                )
    return 0


if __name__ == "__main__":
    sys.exit(main())
