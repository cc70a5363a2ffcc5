"""Ctrl-C at any moment of an `up` (its phases running side by side), then a
plain `up`: the environment ends fully ready. The signal lands at several points
of `up --force`, which runs every phase again on the live cluster."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

# Seconds into `up --force`: during the first phases, while images, namespaces and
# secrets run together, and while the data layer and OpenBao come up.
INTERRUPT_AFTER = (1.5, 6.0, 14.0)


def test_an_interrupted_up_then_a_plain_up_is_ready(kind_context: str) -> None:
    for delay in INTERRUPT_AFTER:
        process = subprocess.Popen(
            [sys.executable, "-m", "devenv", "up", "--force"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        time.sleep(delay)
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=300)
        # Interrupted (130), or done before the signal came (0); never a traceback.
        assert process.returncode in (0, 130), stderr
        assert "Traceback" not in stderr, stderr
    done = subprocess.run(
        [sys.executable, "-m", "devenv", "up", "--json"], capture_output=True, text=True,
        timeout=900, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    components = json.loads(done.stdout)["components"]
    assert [c["component"] for c in components if not c["ready"]] == []
