#!/usr/bin/env python3
"""`devenv up` budgets (issue: the main job), measured, not asserted by tests.

    python bench/up_bench.py [--cluster NAME] [--fresh]
    python bench/up_bench.py --ratios --node-image IMAGE

--ratios (issue: fast up) measures in one run, against a bare `kind create
cluster --image IMAGE --wait 120s` of the same node image: `devenv up` with no
cluster; from an existing empty cluster (a plain kind cluster, `up --context`)
to every component ready (its first `up` also loads every image into it); a
re-run with nothing changed (wall, summary included); `devenv down
--keep-cluster` then `devenv up` (an empty cluster whose node holds the
images); `devenv down` then `devenv up`, twice. The local registry is left as
`devenv down` leaves it (warm); `--cold-registry` empties it first. It prints each run's phase
timeline (start and end of every phase) and the ratios. Targets: up <= 2.5x the
bare create, empty cluster -> ready <= 30 s, re-run <= 1.0 s, down+up <= 3x.
Run it with no devenv cluster up (it creates and deletes its own).

* `devenv --help` wall time (median of 10 runs; budget 300 ms);
* `devenv up` re-run with nothing changed (budget 5 s);
* with --fresh: `devenv down --keep-cluster` then `devenv up`, i.e. from an
  existing cluster without the environment to every component ready (budget
  120 s; images already built and loaded);
* memory of every stub and data pod at idle, summed from the kind node's
  container stats (budget 2 GiB).

Run it where `devenv up` works (same DEVENV_* settings as for `up`).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

DEVENV = str(Path(sys.executable).parent / "devenv")


def timed(argv: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(argv, check=True, capture_output=True)
    return time.perf_counter() - started


def pod_memory(node: str) -> tuple[float, int]:
    stats = json.loads(
        subprocess.run(["docker", "exec", node, "crictl", "stats", "-o", "json"],
                       check=True, capture_output=True, text=True).stdout
    )  # fmt: skip
    pods = json.loads(
        subprocess.run(["docker", "exec", node, "crictl", "pods", "-o", "json"],
                       check=True, capture_output=True, text=True).stdout
    )  # fmt: skip
    ours = {p["id"] for p in pods["items"] if p["metadata"]["namespace"].startswith("finops-")}
    containers = json.loads(
        subprocess.run(["docker", "exec", node, "crictl", "ps", "-o", "json"],
                       check=True, capture_output=True, text=True).stdout
    )["containers"]  # fmt: skip
    wanted = {c["id"] for c in containers if c["podSandboxId"] in ours}
    total = sum(
        int(s["memory"]["workingSetBytes"]["value"])
        for s in stats["stats"]
        if s["attributes"]["id"] in wanted
    )
    return total / 2**30, len(ours)


def _up(*args: str) -> tuple[float, list[dict[str, object]]]:
    """Wall time of `devenv up ARGS --json`, and its phase timeline."""
    started = time.perf_counter()
    done = subprocess.run(
        [DEVENV, "up", *args, "--json"], check=True, capture_output=True, text=True
    )
    return time.perf_counter() - started, json.loads(done.stdout)["phases"]


def _timeline(label: str, wall: float, phases: list[dict[str, object]]) -> None:
    print(f"{label}: {wall:.1f}s")
    for phase in phases:
        start, seconds = float(phase.get("started", 0.0)), float(phase["seconds"])  # type: ignore[arg-type]
        bar = " " * int(start) + ("·" if phase["skipped"] else "█") * max(1, round(seconds))
        print(f"  {phase['phase']:<12} {start:6.1f} -> {start + seconds:6.1f}s {bar}")


def ratios(node_image: str, *, cold_registry: bool = False) -> dict[str, float]:
    if cold_registry:
        subprocess.run([DEVENV, "down", "--purge"], check=True, capture_output=True)
    bare = timed(["kind", "create", "cluster", "--name", "bench-bare", "--image", node_image,
                  "--wait", "120s"])  # fmt: skip
    subprocess.run(["kind", "delete", "cluster", "--name", "bench-bare"], check=True,
                   capture_output=True)  # fmt: skip
    print(f"bare kind create cluster: {bare:.1f}s")
    up_wall, up_phases = _up()
    _timeline("devenv up (no cluster)", up_wall, up_phases)
    rerun_wall, rerun_phases = _up()
    _timeline("devenv up re-run", rerun_wall, rerun_phases)
    subprocess.run([DEVENV, "down", "--keep-cluster"], check=True, capture_output=True)
    kept_wall, kept_phases = _up()
    _timeline("devenv up on its kept cluster (down --keep-cluster: the node holds the images)",
              kept_wall, kept_phases)  # fmt: skip
    downups = []
    for attempt in (1, 2):
        started = time.perf_counter()
        subprocess.run([DEVENV, "down"], check=True, capture_output=True)
        wall, phases = _up()
        downups.append(time.perf_counter() - started)
        _timeline(f"devenv down + up #{attempt}", wall, phases)
    subprocess.run([DEVENV, "down"], check=True, capture_output=True)
    subprocess.run(["kind", "create", "cluster", "--name", "bench-empty", "--image", node_image,
                    "--wait", "120s"], check=True, capture_output=True)  # fmt: skip
    try:
        empty_wall, empty_phases = _up("--context", "kind-bench-empty")
        _timeline("devenv up --context (empty existing cluster)", empty_wall, empty_phases)
        subprocess.run([DEVENV, "down", "--context", "kind-bench-empty"], check=True,
                       capture_output=True)  # fmt: skip
    finally:
        subprocess.run(["kind", "delete", "cluster", "--name", "bench-empty"], check=False,
                       capture_output=True)  # fmt: skip
    figures = {
        "bare_kind_create_s": bare,
        "up_s": up_wall, "up_ratio": up_wall / bare,
        "empty_cluster_to_ready_s": empty_wall,
        "kept_cluster_to_ready_s": kept_wall,
        "rerun_s": rerun_wall,
        "down_up_s": max(downups), "down_up_ratio": max(downups) / bare,
    }  # fmt: skip
    print(json.dumps({k: round(v, 2) for k, v in figures.items()}, indent=2))
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--cluster", default=os.environ.get("DEVENV_CLUSTER", "finops-dev"))
    parser.add_argument("--fresh", action="store_true")
    parser.add_argument("--ratios", action="store_true")
    parser.add_argument("--cold-registry", action="store_true")
    parser.add_argument("--node-image", default=os.environ.get("DEVENV_IMAGE_KIND_NODE"))
    args = parser.parse_args()
    if args.ratios:
        if not args.node_image:
            parser.error("--ratios needs --node-image (or DEVENV_IMAGE_KIND_NODE)")
        ratios(args.node_image, cold_registry=args.cold_registry)
        return 0
    helps = [timed([DEVENV, "--help"]) for _ in range(10)]
    results: dict[str, object] = {"help_s": {"median": statistics.median(helps), "max": max(helps)}}
    if args.fresh:
        subprocess.run([DEVENV, "down", "--keep-cluster"], check=True, capture_output=True)
        results["up_from_empty_cluster_s"] = timed([DEVENV, "up"])
    results["up_rerun_s"] = timed([DEVENV, "up"])
    time.sleep(20)  # let start-up work settle
    memory, pods = pod_memory(f"{args.cluster}-control-plane")
    results["idle_memory_gib"] = {"total": memory, "pods": pods}
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
