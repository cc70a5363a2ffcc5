"""Waiting for the cluster: one polling helper, and readiness of devenv's workloads
with the evidence a failure shows (events, last log lines, the next command)."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from devenv.apply.engine import PhaseFailed, RunContext
from devenv.errors import ToolError
from devenv.render import Manifest
from devenv.tools.kubectl import Kubectl
from devenv.topology.labels import MANAGED_SELECTOR, PART_OF_SELECTOR, component_selector

__all__ = [
    "HopelessPull",
    "hopeless_pull",
    "is_ready",
    "poll",
    "poll_phase",
    "unrecoverable_pull",
    "wait_ready",
    "workloads",
]

T = TypeVar("T")
WAKE_BOUND_SECONDS = 3.0  # with a watch: the longest a wait sleeps between looks


def poll(
    attempt: Callable[[], T | None],
    *,
    timeout: float,
    interval: float,
    on_timeout: Callable[[], Exception],
    stop: threading.Event | None = None,
    wake: threading.Event | None = None,
) -> T:
    """Call ``attempt`` until it returns something other than None; past ``timeout``
    seconds raise what ``on_timeout`` makes; once ``stop`` is set, KeyboardInterrupt
    (the run was interrupted while this phase waited in its thread). Between
    attempts it waits ``interval``, or, given ``wake`` (a watch's), until that is
    set (``interval`` then only bounds how long a missed change can go unseen:
    a watch may lapse)."""
    deadline = time.monotonic() + timeout
    stop = stop or threading.Event()  # never set: waits out the interval
    while not stop.is_set():
        outcome = attempt()
        if outcome is not None:
            return outcome
        if time.monotonic() >= deadline:
            raise on_timeout()
        _sleep(stop, wake, interval if wake is None else WAKE_BOUND_SECONDS)
    raise KeyboardInterrupt


def _sleep(stop: threading.Event, wake: threading.Event | None, seconds: float) -> None:
    """Until ``seconds`` pass, ``stop`` is set or ``wake`` is (checked every 0.1 s)."""
    if wake is None:
        stop.wait(seconds)
        return
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and not stop.is_set():
        if wake.wait(0.1):
            return


def poll_phase(
    run: RunContext,
    phase: str,
    attempt: Callable[[], T | None],
    *,
    interval: float,
    problem: str,
    next_command: str,
    timeout: float | None = None,
) -> T:
    """``poll`` within ``timeout`` (else the run's); past it, the phase fails with
    ``problem``."""
    return poll(
        attempt,
        timeout=run.options.timeout if timeout is None else timeout,
        interval=interval,
        on_timeout=lambda: PhaseFailed(phase, problem, next_command=next_command),
        stop=run.interrupted,
    )


def workloads(kubectl: Kubectl) -> dict[str, Manifest]:
    """devenv's Deployments and StatefulSets by name, in one call."""
    items = kubectl.list_objects(["Deployment", "StatefulSet"], selector=MANAGED_SELECTOR)
    return {item["metadata"]["name"]: item for item in items}


def is_ready(workload: Manifest) -> bool:
    wanted = workload.get("spec", {}).get("replicas", 1)
    status = workload.get("status", {})
    # Rolled out: the controller saw this generation, every replica is new and
    # ready, and no old one is left (a port-forward could land on it).
    return bool(
        status.get("observedGeneration", 0) >= workload["metadata"].get("generation", 0)
        and status.get("updatedReplicas", 0) == wanted
        and status.get("readyReplicas", 0) == wanted
        and status.get("replicas", 0) == wanted
    )


POLL_SECONDS = 1.0  # between looks when nothing is watched (kubectl only)
PULL_CHECK_SECONDS = 3.0  # between looks at the pods' pull errors, changes or not


def wait_ready(run: RunContext, phase: str, names: list[str]) -> None:
    """Until every named component's workload is rolled out and ready: looked at
    again as soon as a watch reports a change (every second without one), naming
    what it still waits for."""
    stop = threading.Event()
    changed = run.kubectl.watch_changes(["Deployment", "StatefulSet"], MANAGED_SELECTOR, stop)
    try:
        _wait_ready(run, phase, names, changed)
    finally:
        stop.set()


def _wait_ready(
    run: RunContext, phase: str, names: list[str], changed: threading.Event | None
) -> None:
    pending = list(names)
    last_pull_check = time.monotonic()

    def all_ready() -> bool | None:
        nonlocal pending, last_pull_check
        if changed is not None:
            changed.clear()  # before listing: a change after it wakes the next look
        found = workloads(run.kubectl)
        run.saw_workloads(list(found.values()))
        pending = [n for n in names if n not in found or not is_ready(found[n])]
        if not pending:
            return True
        more = f" and {len(pending) - 3} more" if len(pending) > 3 else ""
        run.report(f"{phase}: waiting for {', '.join(pending[:3])}{more}")
        if time.monotonic() - last_pull_check < PULL_CHECK_SECONDS:
            return None
        last_pull_check = time.monotonic()
        # Waiting cannot fix an image that does not exist or may not be pulled.
        hopeless = hopeless_pull(run.kubectl)
        if hopeless is not None:
            raise PhaseFailed(
                phase,
                f"{hopeless.pod} cannot pull {hopeless.image}: {hopeless.message}",
                next_command=PULL_HINT,
            )
        return None

    def not_ready() -> PhaseFailed:
        name = pending[0]
        component = run.topology.components[name]
        return PhaseFailed(
            phase,
            f"{component.namespace}/{name} not ready after {run.options.timeout:.0f}s"
            + (f" (and {len(pending) - 1} more)" if len(pending) > 1 else ""),
            evidence=_evidence(run.kubectl, component.namespace, name),
            next_command=f"devenv logs {name}   # or: kubectl --context {run.context} -n"
            f" {component.namespace} describe pods -l {component_selector(name)}",
        )

    poll(
        all_ready, timeout=run.options.timeout, interval=POLL_SECONDS, on_timeout=not_ready,
        stop=run.interrupted, wake=changed,
    )  # fmt: skip


# What a registry answers when waiting cannot help: the image or the host does
# not exist, or the cluster may not pull it.
_HOPELESS = re.compile(
    r"not found|manifest unknown|no such host|unauthorized|denied|insufficient_scope"
    r"|invalid reference format|ErrImageNeverPull",
    re.IGNORECASE,
)
_LOOPBACK_IMAGE = re.compile(r"(localhost|127\.\d+\.\d+\.\d+)(:\d+)?/")
_PULL_REASONS = {"ErrImagePull", "ImagePullBackOff", "InvalidImageName", "ErrImageNeverPull"}
PULL_HINT = (
    "devenv doctor --context CTX   # how images reach this cluster; for a remote"
    " cluster: devenv up --context CTX --push-to REGISTRY, or DEVENV_IMAGE_<NAME>=<ref>"
)


@dataclass(frozen=True)
class HopelessPull:
    pod: str  # namespace/name
    image: str
    message: str


def hopeless_pull(kubectl: Kubectl) -> HopelessPull | None:
    """A pull that waiting cannot fix among the environment's pods (every pod its
    workloads make carries the part-of label); None also when pods cannot be listed
    across namespaces (namespace rights only): then the wait's timeout decides."""
    try:
        pods = kubectl.list_objects(["Pod"], selector=PART_OF_SELECTOR)
    except ToolError:
        return None
    return unrecoverable_pull(pods)


def _is_hopeless(image: str, reason: str, message: str) -> bool:
    if reason not in _PULL_REASONS:
        return False
    if _HOPELESS.search(f"{reason} {message}"):
        return True
    # A registry on this machine's loopback is never there for a cluster elsewhere.
    return bool(_LOOPBACK_IMAGE.match(image)) and "connection refused" in message


def unrecoverable_pull(pods: list[Manifest]) -> HopelessPull | None:
    """The first container whose image pull failed in a way retrying cannot fix."""
    for pod in pods:
        statuses = pod.get("status", {})
        for status in [
            *statuses.get("initContainerStatuses", []),
            *statuses.get("containerStatuses", []),
        ]:
            waiting = status.get("state", {}).get("waiting") or {}
            message = waiting.get("message", "")
            if _is_hopeless(status.get("image", ""), waiting.get("reason", ""), message):
                meta = pod["metadata"]
                return HopelessPull(
                    f"{meta.get('namespace')}/{meta['name']}", status.get("image", "?"),
                    message.splitlines()[0][:300] if message else waiting["reason"],
                )  # fmt: skip
    return None


def _evidence(kubectl: Kubectl, namespace: str, name: str) -> list[str]:
    events = kubectl.run(
        "get", "events", "-n", namespace, "--sort-by=.lastTimestamp",
        "-o", "custom-columns=REASON:.reason,OBJECT:.involvedObject.name,MESSAGE:.message",
        check=False,
    ).stdout.splitlines()  # fmt: skip
    logs = kubectl.run(
        "logs", "-n", namespace, f"-l={component_selector(name)}",
        "--all-containers", "--tail=5", "--prefix",
        check=False,
    ).stdout.splitlines()  # fmt: skip
    lines = [f"event: {line}" for line in events[1:] if name in line][-5:]
    return lines + [f"log: {line}" for line in logs[-8:]]
