"""A pull that waiting cannot fix ends the wait at once, naming the image."""

from __future__ import annotations

from typing import Any

from devenv.apply.waiting import HopelessPull, unrecoverable_pull


def _pod(
    reason: str, message: str, image: str = "localhost:5001/finops-devenv/stub-agent:1"
) -> Any:
    waiting = {"reason": reason, "message": message}
    return {
        "metadata": {"namespace": "finops-agents", "name": "cost-agent-1"},
        "status": {"containerStatuses": [{"image": image, "state": {"waiting": waiting}}]},
    }


# As containerd reports them through the kubelet.
NOT_FOUND = (
    'failed to pull and unpack image "docker.io/timescale/timescaledb:9": failed to resolve'
    ' reference "docker.io/timescale/timescaledb:9": docker.io/timescale/timescaledb:9: not found'
)
NO_HOST = (
    'failed to pull and unpack image "registry.example/finops/x:1": failed to do request: Head'
    ' "https://registry.example/v2/finops/x/manifests/1": dial tcp: lookup registry.example:'
    " no such host"
)
# A cluster elsewhere asked for an image on this machine's local registry.
REFUSED = (
    'failed to pull and unpack image "localhost:5001/finops-devenv/stub-agent:1": failed to do'
    ' request: Head "http://localhost:5001/v2/finops-devenv/stub-agent/manifests/1": dial tcp'
    " 127.0.0.1:5001: connect: connection refused"
)
TIMEOUT = 'failed to pull image "redis:7": context deadline exceeded (Client.Timeout exceeded)'


def test_missing_images_and_hosts_are_hopeless() -> None:
    found = unrecoverable_pull([_pod("ErrImagePull", NOT_FOUND, "timescale/timescaledb:9")])
    assert found == HopelessPull("finops-agents/cost-agent-1", "timescale/timescaledb:9", NOT_FOUND)
    assert unrecoverable_pull([_pod("ErrImagePull", NO_HOST, "registry.example/finops/x:1")])
    assert unrecoverable_pull([_pod("ErrImagePull", REFUSED)]) is not None
    assert unrecoverable_pull([_pod("InvalidImageName", "invalid reference format")]) is not None


def test_what_may_still_succeed_keeps_waiting() -> None:
    assert unrecoverable_pull([_pod("ErrImagePull", TIMEOUT)]) is None  # a slow registry
    # A remote registry that refuses now may come back: keep waiting.
    assert unrecoverable_pull([_pod("ErrImagePull", REFUSED, "registry.example/x:1")]) is None
    assert (
        unrecoverable_pull([_pod("ImagePullBackOff", 'Back-off pulling image "redis:7"')]) is None
    )
    assert unrecoverable_pull([_pod("ContainerCreating", "")]) is None
    assert unrecoverable_pull([{"metadata": {"name": "p"}, "status": {}}]) is None
