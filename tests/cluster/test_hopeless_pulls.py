"""A pull that cannot succeed is recognised as the kubelet reports it, live, by
what `up`'s wait uses: a pod of the environment (its part-of label) asking for
an image that no registry has, in a throwaway namespace."""

from __future__ import annotations

import json
import os
import subprocess
import time

from devenv.apply.waiting import hopeless_pull
from devenv.tools.kubectl import Kubectl
from devenv.topology.labels import PART_OF

MISSING = "localhost:5001/finops-devenv/does-not-exist:never"


def _kubectl(context: str, *args: str, stdin: str | None = None) -> str:
    return subprocess.run(
        ["kubectl", "--context", context, *args], input=stdin, capture_output=True, text=True,
        check=True, timeout=120,
    ).stdout  # fmt: skip


def test_an_image_no_registry_has_is_hopeless_within_seconds(live_context: str) -> None:
    namespace = f"devenv-pull-test-{os.getpid()}"
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "missing-image", "namespace": namespace, "labels": PART_OF},
        "spec": {"containers": [{"name": "main", "image": MISSING}]},
    }
    _kubectl(live_context, "create", "namespace", namespace)
    try:
        _kubectl(live_context, "apply", "-f", "-", stdin=json.dumps(pod))
        started, found = time.monotonic(), None
        while found is None and time.monotonic() - started < 90:
            found = hopeless_pull(Kubectl(live_context))
            time.sleep(1)
        assert found is not None, "the kubelet's pull error was not recognised in 90 s"
        assert found.image == MISSING
        assert found.pod == f"{namespace}/missing-image"
        print(f"hopeless after {time.monotonic() - started:.1f}s: {found.message}")
    finally:
        _kubectl(live_context, "delete", "namespace", namespace, "--wait=false")
