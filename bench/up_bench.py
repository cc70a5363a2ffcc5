#!/usr/bin/env python3
"""`devenv up` budgets (issue: the main job), measured, not asserted by tests.

    python bench/up_bench.py [--cluster NAME] [--fresh]

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


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--cluster", default=os.environ.get("DEVENV_CLUSTER", "finops-dev"))
    parser.add_argument("--fresh", action="store_true")
    args = parser.parse_args()
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
