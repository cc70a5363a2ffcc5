"""`devenv secrets bootstrap --follow` (what the Tiltfile runs beside the stubs):
OpenBao's pod deleted by hand comes back empty (dev mode) and is bootstrapped
again without anyone running `devenv up`."""

from __future__ import annotations

import subprocess
import sys
import time

from typer.testing import CliRunner

from devenv.cli import app


def test_a_replaced_openbao_is_bootstrapped_again(kind_context: str) -> None:
    kubectl = ["kubectl", "--context", kind_context, "-n", "finops-data"]
    follower = subprocess.Popen(
        [sys.executable, "-m", "devenv", "secrets", "bootstrap", "--follow"],
        stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert follower.stderr is not None
    try:
        lines = [follower.stderr.readline() for _ in range(2)]  # the banner, the first round
        assert "bootstrap" in lines[1], lines
        subprocess.run(
            [*kubectl, "delete", "pod", "-l", "app.kubernetes.io/name=openbao", "--wait=false"],
            check=True, capture_output=True, timeout=60,
        )  # fmt: skip
        started = time.monotonic()
        line = follower.stderr.readline()
        while "change(s)" not in line and time.monotonic() - started < 180:
            line = follower.stderr.readline()
        assert "change(s)" in line, line
        assert " 0 change(s)" not in line  # the new, empty OpenBao got everything again
        # Their agents' tokens died with the old OpenBao: the pods are replaced.
        assert " 0 pod(s) restarted" not in line, line
    finally:
        follower.terminate()
        follower.wait(timeout=30)
    # `up` finds OpenBao bootstrapped already and waits for every replaced pod.
    result = CliRunner().invoke(app, ["up"])
    assert result.exit_code == 0, result.stderr
    check = CliRunner().invoke(app, ["secrets", "check"])
    assert check.exit_code == 0, check.stdout + check.stderr
