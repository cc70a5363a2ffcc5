#!/usr/bin/env python3
"""The Tiltfile under a real Tilt, by hand (not part of the test suite: Tilt cannot
be obtained on CI's machines, so CI neither runs nor skips this).

    python bench/tilt_check.py [--context kind-finops-dev] [--extensions-repo DIR]

With `tilt` on PATH and the environment's kind cluster up (made by `devenv up`,
or empty), it runs, and prints the figures of:

1. `tilt ci`: every resource built, deployed and ready (wall time);
2. live_update round-trips (median and max of --rounds): a change to
   stubs/finops_stub/app.py, saved, until
   cost-agent's /health answers with the new code, checking that the pod, its
   container's restart count and its injected secret files are unchanged (the
   change is reverted afterwards);
3. `devenv test-integration` on the environment Tilt leaves.

--extensions-repo names a local git clone of tilt-dev/tilt-extensions, for a
machine that cannot fetch `ext://restart_process` from GitHub (see
../shared/notes/tilt-by-hand.md in the project's workspace); `--web-mode prod`
is passed to Tilt for builds without the web UI's dev server.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEVENV = str(Path(sys.executable).parent / "devenv")
APP = ROOT / "stubs" / "finops_stub" / "app.py"
HEALTH_BODY = '{"status": "ok", "component": self.config.component}'
COMPONENT, NAMESPACE, PORT = "cost-agent", "finops-agents", 8080


def tilt_file(extensions: Path | None, workdir: Path) -> Path:
    if extensions is None:
        return ROOT / "Tiltfile"
    wrapper = workdir / "Tiltfile"
    wrapper.write_text(
        f"v1alpha1.extension_repo(name='default', url='file://{extensions.resolve()}')\n"
        f"include('{ROOT / 'Tiltfile'}')\n"
    )
    return wrapper


def kubectl(context: str, *args: str, check: bool = True) -> str:
    return subprocess.run(
        ["kubectl", "--context", context, *args], capture_output=True, text=True, check=check
    ).stdout


def stub_pod(context: str) -> tuple[str, int]:
    """cost-agent's pod and its stub container's restart count."""
    pods = json.loads(
        kubectl(context, "get", "pods", "-n", NAMESPACE, "-l",
                f"app.kubernetes.io/name={COMPONENT}", "-o", "json")
    )["items"]  # fmt: skip
    running = [p for p in pods if not p["metadata"].get("deletionTimestamp")]
    pod = running[0]
    restarts = next(
        s["restartCount"] for s in pod["status"]["containerStatuses"] if s["name"] == "stub"
    )
    return pod["metadata"]["name"], int(restarts)


def proxied(context: str, pod: str, path: str) -> str:
    return kubectl(
        context, "get", "--raw", f"/api/v1/namespaces/{NAMESPACE}/pods/{pod}:{PORT}/proxy{path}",
        check=False,
    )  # fmt: skip


@contextlib.contextmanager
def tilt_up(tiltfile: Path, context: str, args: list[str]) -> Iterator[None]:
    process = subprocess.Popen(
        ["tilt", "up", "-f", str(tiltfile), "--context", context, *args],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while subprocess.run(
            ["tilt", "get", "session"], capture_output=True, check=False
        ).returncode:
            if time.monotonic() > deadline:  # its API server never answered
                raise SystemExit("tilt up did not start")
            time.sleep(1)
        subprocess.run(
            ["tilt", "wait", "--for=condition=Ready", "uiresource", "--all", "--timeout=600s"],
            check=True, capture_output=True,
        )  # fmt: skip
        time.sleep(10)  # Tilt's own first builds and applies settle after Ready
        yield
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=60)


def live_update_round_trip(context: str) -> dict[str, object]:
    pod, restarts = stub_pod(context)
    secrets_before = json.loads(proxied(context, pod, "/secrets"))
    token = uuid.uuid4().hex[:8]
    original = APP.read_text()
    changed = original.replace(HEALTH_BODY, HEALTH_BODY[:-1] + f', "live": "{token}"}}')
    if changed == original:
        raise SystemExit("the /health body in app.py moved: update HEALTH_BODY")
    try:
        saved = time.monotonic()
        APP.write_text(changed)
        # Asked of whichever pod runs now: a rebuild instead of a sync would show
        # as a new pod below, not as a hang here.
        while token not in proxied(context, stub_pod(context)[0], "/health"):
            if time.monotonic() - saved > 120:
                raise SystemExit("the change never reached the running container")
            time.sleep(0.1)
        seconds = time.monotonic() - saved
    finally:
        APP.write_text(original)
    after_pod, after_restarts = stub_pod(context)
    secrets_after = json.loads(proxied(context, after_pod, "/secrets"))
    while True:  # the revert goes live the same way: wait for the old code to answer again
        answer = proxied(context, stub_pod(context)[0], "/health")
        if answer and token not in answer:
            break
        time.sleep(0.2)
    return {
        "round_trip_s": round(seconds, 2),
        "same_pod": after_pod == pod,
        "container_restarts_unchanged": after_restarts == restarts,
        "secrets_intact": secrets_after == secrets_before
        and all(entry["present"] for entry in secrets_after["secrets"]),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--context", default="kind-finops-dev")
    parser.add_argument("--extensions-repo", type=Path)
    parser.add_argument("--rounds", type=int, default=3, help="live_update round-trips")
    arguments = parser.parse_args()
    if shutil.which("tilt") is None:
        print("tilt is not on PATH: https://docs.tilt.dev/install.html", file=sys.stderr)
        return 2
    version = subprocess.run(
        ["tilt", "version"], capture_output=True, text=True, check=True
    ).stdout.strip()
    tilt_args = ["--web-mode", "prod"]
    figures: dict[str, object] = {"tilt": version, "date": time.strftime("%Y-%m-%d")}
    with tempfile.TemporaryDirectory() as workdir:
        tiltfile = tilt_file(arguments.extensions_repo, Path(workdir))
        started = time.monotonic()
        ci = subprocess.run(
            ["tilt", "ci", "-f", str(tiltfile), "--context", arguments.context, *tilt_args],
            cwd=ROOT, capture_output=True, text=True, check=False,
        )  # fmt: skip
        figures["tilt_ci_s"] = round(time.monotonic() - started, 1)
        figures["tilt_ci_ok"] = ci.returncode == 0
        if ci.returncode != 0:
            print(ci.stdout[-4000:] + ci.stderr[-4000:], file=sys.stderr)
            print(json.dumps(figures, indent=2))
            return 1
        with tilt_up(tiltfile, arguments.context, tilt_args):
            rounds = [live_update_round_trip(arguments.context) for _ in range(arguments.rounds)]
    seconds = sorted(float(r["round_trip_s"]) for r in rounds)  # type: ignore[arg-type]
    kept = {key: all(bool(r[key]) for r in rounds) for key in rounds[0] if key != "round_trip_s"}
    figures["live_update"] = {
        "round_trip_median_s": seconds[len(seconds) // 2], "round_trip_max_s": seconds[-1], **kept,
    }  # fmt: skip
    started = time.monotonic()
    integration = subprocess.run(
        [DEVENV, "test-integration", "--context", arguments.context],
        capture_output=True, text=True, check=False, env=os.environ,
    )  # fmt: skip
    figures["test_integration_ok"] = integration.returncode == 0
    figures["test_integration_s"] = round(time.monotonic() - started, 1)
    print(json.dumps(figures, indent=2))
    return 0 if integration.returncode == 0 and all(kept.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
