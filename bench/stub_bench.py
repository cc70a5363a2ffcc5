#!/usr/bin/env python3
"""Stub budgets (issue: stub services), measured, not asserted by tests.

    python bench/stub_bench.py [--rate 200] [--seconds 10] [--runs 5] [--no-images] [--json]

* start to ready: process start until /ready answers 200 (secrets present);
* idle RSS of every stub role of the embedded topology, each with the config
  `devenv render` gives it, after it has answered /ready (so its PostgreSQL and
  Redis clients are loaded) and /metrics and then idled 2 s: as a process on
  this machine, and inside the built stub image;
* the floor under that: the resident size of an interpreter that has only
  imported asyncio and the three clients the issue names (prometheus_client,
  redis-py, psycopg);
* /health p50/p99 under an open-loop load of --rate requests/s on loopback
  (requests are sent on schedule whether or not earlier ones have answered);
* image sizes of the built stub images, how much each adds to its base, and
  that addition on top of the published size of the pinned python:3.12-slim
  (needs Docker and `devenv images build`; --no-images skips it).

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
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from devenv.render.compose import CLOUD_API_SIMULATOR
from devenv.render.stubs import stub_config
from devenv.topology.images import resolve_images
from devenv.topology.loader import load_topology

ROOT = Path(__file__).resolve().parents[1]
STUBS = ROOT / "stubs"
BUDGET_RSS_MIB = 40.0
BUDGET_IMAGE_MB = 150.0
# The pinned base's own size, which no registry here can confirm: docker-library/repo-info
# repos/python/local/3.12.14-slim-bookworm.md, "Virtual Size: ~ 124.35 Mb" (amd64).
PUBLISHED_BASE = ("python:3.12.14-slim-bookworm", 124.35)
FLOOR_IMPORTS = "import asyncio, prometheus_client, redis.asyncio, psycopg"
FLOOR_SCRIPT = (
    f"{FLOOR_IMPORTS}; import re; "
    "print(int(re.search(r'VmRSS:\\s+(\\d+)', open('/proc/self/status').read())[1]))"
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def http_get(port: int, path: str) -> int:
    with socket.create_connection(("127.0.0.1", port), timeout=2) as sock:
        sock.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        head = sock.recv(64).decode(errors="replace")
    return int(head.split(" ")[1])


def resident_mib(status: str) -> tuple[float, float]:
    """(VmRSS, RssAnon) from a /proc/PID/status text. RssAnon is the part no other
    process can share; the rest is file-backed (libpython, libssl, libpq), shared by
    every pod on a node that runs the same image layers."""
    fields = {
        key: int(value.split()[0]) / 1024
        for key, _, value in (line.partition(":") for line in status.splitlines())
        if key in ("VmRSS", "RssAnon")
    }
    return fields["VmRSS"], fields["RssAnon"]


def docker(*args: str, check: bool = True) -> str:
    return subprocess.run(
        ["docker", *args], capture_output=True, text=True, check=check, timeout=300
    ).stdout.strip()


# --- the roles, as `devenv render` configures them


def role_configs() -> dict[str, tuple[str, dict[str, Any]]]:
    """Every stub role: its image's catalog name and its rendered STUB_CONFIG."""
    topology = load_topology()
    roles: dict[str, tuple[str, dict[str, Any]]] = {}
    for component in topology.components.values():
        if component.is_stub:
            config = stub_config(topology, component)
            config["tls"] = False  # no serving certificate here; TLS adds next to nothing
            roles[component.name] = (component.image, config)
    roles[CLOUD_API_SIMULATOR] = (
        "stub-agent",
        {"component": CLOUD_API_SIMULATOR, "kind": "cloud-api"},
    )
    return roles


def write_secrets(directory: Path) -> None:
    """Every secret file a role may read, pointing at addresses where nothing listens:
    the checks fail fast, but their clients get loaded and run."""
    for name in load_topology().secrets:
        data = {"url": "postgresql://u:p@127.0.0.1:9/x", "password": "p", "token": "t"}
        (directory / name).write_text(json.dumps({"version": 1, "data": data}))
        (directory / name).chmod(0o644)
    directory.chmod(0o755)


def stub_env(config: dict[str, Any], secrets_dir: Path | str, port: int) -> dict[str, str]:
    env = {
        "STUB_CONFIG": json.dumps(config),
        "STUB_SECRETS_DIR": str(secrets_dir),
        "STUB_HOST": "127.0.0.1",
        "STUB_PORT": str(port),
    }
    if "redis" in config.get("checks", {}):
        env["STUB_REDIS_ADDRESS"] = "127.0.0.1:9"  # nothing listens: PING fails fast
    return env


@contextmanager
def host_stub(
    config: dict[str, Any], secrets_dir: Path, port: int
) -> Iterator[subprocess.Popen[bytes]]:
    env = {**os.environ, **stub_env(config, secrets_dir, port), "PYTHONPATH": str(STUBS)}
    process = subprocess.Popen(
        [sys.executable, "-m", "finops_stub"], env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        yield process
    finally:
        process.terminate()
        process.wait()


def wait_until_serving(port: int, path: str = "/health") -> None:
    deadline = time.monotonic() + 15
    while True:
        try:
            http_get(port, path)
        except OSError:
            if time.monotonic() > deadline:
                raise RuntimeError("the stub did not serve within 15 s") from None
            time.sleep(0.01)
        else:
            return


def measure_start(config: dict[str, Any], secrets_dir: Path, runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        port = free_port()
        started = time.perf_counter()
        with host_stub(config, secrets_dir, port):
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
    return times


def idle_rss_host(config: dict[str, Any], secrets_dir: Path) -> tuple[float, float]:
    port = free_port()
    with host_stub(config, secrets_dir, port) as process:
        wait_until_serving(port)
        http_get(port, "/ready")  # runs the checks: psycopg and redis-py are loaded
        http_get(port, "/metrics")
        time.sleep(2)
        return resident_mib(Path(f"/proc/{process.pid}/status").read_text())


IN_CONTAINER_GET = (
    "import sys, urllib.request as u, urllib.error as e\n"
    "try: u.urlopen(sys.argv[1], timeout=5)\n"
    "except e.HTTPError: pass\n"
)


def idle_rss_image(ref: str, config: dict[str, Any], secrets_dir: Path) -> tuple[float, float]:
    """The same, for PID 1 of a container of the stub image (no network: nothing to reach)."""
    port = int(config.get("port", 8080))
    env = [arg for key, value in stub_env(config, "/vault/secrets", port).items()
           for arg in ("-e", f"{key}={value}")]  # fmt: skip
    container = docker(
        "run", "-d", "--network", "none", "-v", f"{secrets_dir}:/vault/secrets:ro", *env, ref
    )
    try:
        probe = ["exec", container, "python", "-m", "finops_stub.probe", "127.0.0.1", str(port)]
        deadline = time.monotonic() + 20
        while subprocess.run(["docker", *probe], capture_output=True, check=False).returncode != 0:
            if time.monotonic() > deadline:
                raise RuntimeError(f"{ref} did not serve: {docker('logs', container, check=False)}")
            time.sleep(0.2)
        for path in ("/ready", "/metrics"):
            url = f"http://127.0.0.1:{port}{path}"
            docker("exec", container, "python", "-c", IN_CONTAINER_GET, url)
        time.sleep(2)
        return resident_mib(docker("exec", container, "cat", "/proc/1/status"))
    finally:
        docker("rm", "-f", container, check=False)


def floor_mib(command: list[str]) -> float:
    """Resident size of an interpreter that has only imported asyncio and the named clients."""
    output = subprocess.run(
        [*command, "-c", FLOOR_SCRIPT], capture_output=True, text=True, check=True
    )
    return int(output.stdout) / 1024


def summarize(measured: dict[str, tuple[float, float]]) -> dict[str, Any]:
    rss = {name: value[0] for name, value in measured.items()}
    anon = {name: value[1] for name, value in measured.items()}
    worst = max(rss, key=rss.__getitem__)
    best = min(rss, key=rss.__getitem__)
    over = {name: round(value, 1) for name, value in sorted(rss.items()) if value > BUDGET_RSS_MIB}
    return {
        "roles": len(rss),
        "min": {"role": best, "mib": round(rss[best], 1)},
        "median_mib": round(statistics.median(rss.values()), 1),
        "max": {"role": worst, "mib": round(rss[worst], 1), "anon_mib": round(anon[worst], 1)},
        "over_budget": over,
        "by_role": {name: round(rss[name], 1) for name in sorted(rss)},
        "anon_by_role": {name: round(anon[name], 1) for name in sorted(anon)},
    }


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


def measure_latency(
    config: dict[str, Any], secrets_dir: Path, rate: int, seconds: float
) -> dict[str, float]:
    port = free_port()
    with host_stub(config, secrets_dir, port):
        wait_until_serving(port)
        asyncio.run(load(port, rate, 1))  # warm-up
        samples = sorted(asyncio.run(load(port, rate, seconds)))

    def pct(p: float) -> float:
        return samples[min(len(samples) - 1, int(p * len(samples)))] * 1000

    return {
        "requests": len(samples),
        "p50_ms": pct(0.50),
        "p99_ms": pct(0.99),
        "max_ms": samples[-1] * 1000,
    }


def build_images() -> dict[str, dict[str, Any]]:
    built = subprocess.run(
        [sys.executable, "-m", "devenv", "images", "build", "--json"],
        capture_output=True, text=True, check=True, cwd=ROOT,
    )  # fmt: skip
    return json.loads(built.stdout)  # type: ignore[no-any-return]


def image_mb(ref: str) -> float:
    return int(docker("image", "inspect", "--format", "{{.Size}}", ref)) / 1e6


def image_sizes(built: dict[str, dict[str, Any]], base_ref: str) -> dict[str, dict[str, float]]:
    base = image_mb(base_ref)
    published_name, published_mb = PUBLISHED_BASE
    sizes = {}
    for name, entry in built.items():
        size = image_mb(str(entry["ref"]))
        sizes[name] = {
            "image_mb": round(size, 1),
            "base_mb": round(base, 1),
            "added_mb": round(size - base, 1),
            f"on_{published_name}_mb": round(published_mb + size - base, 1),
        }
    return sizes


def base_image_ref() -> str:
    return resolve_images(environ=os.environ).ref("python")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rate", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument(
        "--no-images", action="store_true", help="skip everything that needs Docker"
    )
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    roles = role_configs()
    result: dict[str, Any] = {"machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0]}}
    with tempfile.TemporaryDirectory() as tmp:
        secrets_dir = Path(tmp)
        write_secrets(secrets_dir)
        plain = {"component": "optimization-agent", "kind": "agent", "secrets": ["llm-api-keys"]}
        start = measure_start(plain, secrets_dir, args.runs)
        result["start_to_ready_s"] = {"median": statistics.median(start), "max": max(start)}
        result["health_latency"] = {
            "rate_per_s": args.rate,
            **measure_latency(plain, secrets_dir, args.rate, args.seconds),
        }
        host = {name: idle_rss_host(config, secrets_dir) for name, (_, config) in roles.items()}
        result["idle_rss_mib_host"] = summarize(host)
        result["floor_mib_host"] = round(floor_mib([sys.executable]), 1)
        if args.no_images:
            result["images"] = "skipped (--no-images)"
        else:
            try:
                built = build_images()
            except (OSError, subprocess.CalledProcessError) as error:
                result["images"] = f"skipped: `devenv images build` failed ({error})"
            else:
                refs = {name: str(entry["ref"]) for name, entry in built.items()}
                in_image = {
                    name: idle_rss_image(refs[image], config, secrets_dir)
                    for name, (image, config) in roles.items()
                }
                result["idle_rss_mib_image"] = summarize(in_image)
                command = ["docker", "run", "--rm", "--entrypoint", "python", refs["stub-agent"]]
                result["floor_mib_image"] = round(floor_mib(command), 1)
                result["images"] = image_sizes(built, base_image_ref())
    print(json.dumps(result, indent=2) if args.json else report(result))
    return 0


def report(result: dict[str, Any]) -> str:
    start, latency = result["start_to_ready_s"], result["health_latency"]
    lines = [
        f"start to ready   median {start['median']:.2f} s, max {start['max']:.2f} s (budget 1.5 s)",
        f"/health @{latency['rate_per_s']}/s  p50 {latency['p50_ms']:.2f} ms,"
        f" p99 {latency['p99_ms']:.2f} ms, max {latency['max_ms']:.1f} ms"
        f" over {latency['requests']:.0f} requests (budget p99 < 5 ms)",
    ]
    for where, label in (("host", "process here"), ("image", "in the image")):
        if f"idle_rss_mib_{where}" not in result:
            continue
        rss = result[f"idle_rss_mib_{where}"]
        low, high = rss["min"], rss["max"]
        over = ", ".join(f"{name} {mib}" for name, mib in rss["over_budget"].items()) or "none"
        lines += [
            f"idle RSS, {label}: {rss['roles']} roles, {low['mib']} MiB ({low['role']})"
            f" to {high['mib']} MiB ({high['role']}, {high['anon_mib']} MiB of it anonymous),"
            f" median {rss['median_mib']} MiB (budget {BUDGET_RSS_MIB:.0f} MiB)",
            f"  over budget: {over}",
            f"  floor `{FLOOR_IMPORTS}` alone: {result[f'floor_mib_{where}']} MiB",
        ]
    images = result["images"]
    if isinstance(images, str):
        lines.append(f"images           {images}")
    else:
        name, _ = PUBLISHED_BASE
        for image, size in images.items():
            lines.append(
                f"image {image:<11} {size['image_mb']:.1f} MB, {size['added_mb']:.1f} MB over its"
                f" {size['base_mb']:.1f} MB base; on {name} {size[f'on_{name}_mb']:.1f} MB"
                f" (budget {BUDGET_IMAGE_MB:.0f} MB)"
            )
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
