"""The phase engine behind `devenv up`.

Each phase has a content hash of what it applies or builds (its inputs). A
phase whose inputs match the last successful run on the same cluster, and
whose objects are all still there, is skipped: a re-run with nothing changed
does nothing, a run interrupted anywhere resumes at the phase that did not
finish, and an object deleted by hand comes back.

The engine works on a complete ``RunContext``: images are built and manifests
rendered before the first phase runs.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from devenv.apply.addresses import pinned_to_environment
from devenv.apply.image_routes import DEVENV_KIND_ROUTE, ImageRoute
from devenv.errors import DevenvError, ToolError
from devenv.render import Manifest, render_manifests
from devenv.render.objects import component_of
from devenv.state import write_record
from devenv.tools.kind import KindCluster
from devenv.tools.kubectl import Kubectl
from devenv.topology.images import ImageSet
from devenv.topology.labels import MANAGED_SELECTOR
from devenv.topology.model import Topology
from devenv.yamlio import dump_documents

__all__ = [
    "Phase",
    "PhaseFailed",
    "PhaseResult",
    "RunContext",
    "UpOptions",
    "can_skip",
    "digest",
    "files_digest",
    "run_phases",
]


class PhaseFailed(DevenvError):
    """A phase failed: which one, on what object, what the cluster said, what next."""

    def __init__(
        self,
        phase: str,
        problem: str,
        *,
        evidence: Sequence[str] = (),
        next_command: str | None = None,
    ) -> None:
        super().__init__(f"phase {phase}: {problem}", hint=next_command)
        self.phase = phase
        self.evidence = tuple(evidence)

    def details(self) -> list[str]:
        return list(self.evidence)


@dataclass(frozen=True)
class UpOptions:
    profile: str
    images: ImageSet
    context: str | None = None  # an existing cluster instead of kind
    # Applied once the cluster is up (e.g. a policy enforcer).
    addon_manifests: tuple[Path, ...] = ()
    cni_manifests: Path | None = None  # replaces kindnet (disableDefaultCNI)
    timeout: float = 300.0
    force: bool = False  # run every phase, whatever the record says
    policy_enforcer: str | None = None  # kindnet | kube-router; None: chosen for this machine
    install_tools: bool = True  # kind and kubectl installed when missing or too old
    registry: bool = True  # a local registry beside a kind cluster (KEP-1755)
    push_to: str | None = None  # a registry the cluster pulls from (--push-to)
    mirror: bool = False  # with push_to: every catalog image held here goes there too


@dataclass(frozen=True)
class PhaseResult:
    name: str
    seconds: float
    skipped: bool
    detail: str = ""
    started: float = 0.0  # seconds into the run: with ``seconds``, the phase's timeline bar


@dataclass
class RunContext:
    """Everything the phases share: what to deploy (complete from the start) and
    what this run learned about the cluster (its identity, devenv's objects)."""

    topology: Topology
    options: UpOptions
    images: ImageSet  # with the built stub images' tags
    manifests: list[Manifest]
    report: Callable[[str], None] = lambda _: None
    enforcer: str = "kindnet"  # the NetworkPolicy enforcer this run installs (or not)
    enforcer_reason: str = ""
    record: dict[str, Any] = field(default_factory=dict)
    uid: str | None = None
    uid_looked_up: bool = False
    live: set[tuple[str, str, str]] | None = None  # (kind, namespace, name) of our objects
    # devenv's Deployments and StatefulSets by name, as last listed (drift check or
    # wait): what the summary shows, without listing them again.
    workloads_seen: dict[str, Manifest] = field(default_factory=dict)
    pinned: bool = False  # topology and manifests name the environment's own addresses
    # Phases run in threads: what they remember goes through this lock, and so does
    # the writing of the record.
    record_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    listing_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    uid_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    # Set on Ctrl-C: the phases still running stop at their next wait instead of
    # waiting out their timeout (no phase starts after it).
    interrupted: threading.Event = field(default_factory=threading.Event, repr=False)
    # Set when a phase failed: phases that wait on another's work (prefetch, for the
    # node) give up instead of waiting out their timeout.
    stopping: threading.Event = field(default_factory=threading.Event, repr=False)
    image_route: ImageRoute = DEVENV_KIND_ROUTE  # how images held here reach the nodes
    # Copies in the local registry of images held here: registry reference -> source.
    registry_sources: Mapping[str, str] = field(default_factory=dict)

    def remember(self, key: str, value: Any) -> None:
        """Keep ``value`` in this context's record (written as each phase finishes)."""
        with self.record_lock:
            self.record[key] = value

    def save_record(self, phase: str, inputs: str | None) -> None:
        with self.record_lock:
            self.record.setdefault("phases", {})[phase] = inputs
            write_record(self.topology.cluster.name, self.context, self.record)

    def pin_to_environment(self) -> None:
        """Once the cluster runs: the topology pinned to its node and simulator
        addresses (devenv.apply.addresses), and the manifests rendered again with
        them (pure and fast)."""
        if self.pinned:
            return
        self.topology = pinned_to_environment(self.topology, self.context)
        self.manifests = render_manifests(self.topology, self.options.profile, self.images)
        self.pinned = True

    def saw_workloads(self, items: Sequence[Manifest]) -> None:
        """Keep the latest listing of devenv's workloads (other kinds are ignored)."""
        found = {
            item["metadata"]["name"]: item
            for item in items
            if item.get("kind") in ("Deployment", "StatefulSet")
        }
        with self.record_lock:
            self.workloads_seen.update(found)

    @property
    def through_local_registry(self) -> bool:
        """Images reach the nodes through the local registry (devenv's kind cluster)."""
        return self.image_route.kind == "devenv-kind" and self.options.registry

    @property
    def kind(self) -> KindCluster:
        return KindCluster(self.topology.cluster.name)

    @property
    def context(self) -> str:
        return self.options.context or self.kind.context

    @property
    def kubectl(self) -> Kubectl:
        return Kubectl(self.context)

    def select(self, wanted: Callable[[Manifest], bool]) -> list[Manifest]:
        return [m for m in self.manifests if wanted(m)]

    def objects_of(self, components: Collection[str]) -> list[Manifest]:
        """The rendered objects that belong to these components."""
        return self.select(lambda m: component_of(m) in components)

    def apply(self, phase: str, manifests: list[Manifest], *options: str) -> None:
        """Apply on stdin; a refusal names the phase and the command that shows why."""
        try:
            self.kubectl.apply(dump_documents(manifests), *options)
        except ToolError as error:
            check = f"devenv render | kubectl --context {self.context} apply --dry-run=server -f -"
            raise PhaseFailed(
                phase,
                f"kubectl apply failed: {error.message}",
                evidence=error.details(),
                next_command=check,
            ) from None

    def cluster_uid(self) -> str | None:
        """The cluster's identity (kube-system's UID), or None when it does not answer."""
        return self.kubectl.namespace_uid("kube-system")

    def known_uid(self) -> str | None:
        """The cluster's identity, looked up once per run (a recreated cluster invalidates)."""
        with self.uid_lock:  # phases check side by side: one asks, the others wait
            if not self.uid_looked_up:
                self.uid = self.cluster_uid()
                self.uid_looked_up = True
            return self.uid


@dataclass(frozen=True)
class Phase:
    name: str
    execute: Callable[[RunContext], str]
    inputs_of: Callable[[RunContext], str] | None = None  # None: runs every time
    applies: Callable[[RunContext], list[Manifest]] | None = None  # checked for drift
    confirms: bool = False  # runs whenever a phase it needs changed something
    # The phases that must have finished first; a phase runs alongside any other
    # whose needs are met (the run is a dependency graph, not a list).
    needs: tuple[str, ...] = ()


def digest(*parts: object) -> str:
    text = json.dumps(parts, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def files_digest(paths: Sequence[Path]) -> str:
    hashed = hashlib.sha256()
    for path in paths:
        for file in sorted(path.rglob("*")) if path.is_dir() else [path]:
            if file.is_file():
                hashed.update(file.read_bytes())
    return hashed.hexdigest()[:16]


PARALLEL_PHASES = 6  # phases mostly wait on kubectl, kind and docker: threads suffice


def _upstream(phase: Phase, by_name: Mapping[str, Phase]) -> set[str]:
    """Every phase ``phase`` needs, directly or through another."""
    found: set[str] = set()
    stack = list(phase.needs)
    while stack:
        name = stack.pop()
        if name not in found:
            found.add(name)
            stack.extend(by_name[name].needs)
    return found


def check_graph(phases: Sequence[Phase]) -> None:
    """Each phase needs only phases listed before it (so the graph has no cycle)."""
    seen: set[str] = set()
    for phase in phases:
        unknown = [need for need in phase.needs if need not in seen]
        if unknown:
            raise ValueError(f"phase {phase.name} needs {unknown}, not listed before it")
        seen.add(phase.name)


def _run_phase(
    run: RunContext, phase: Phase, *, changed: bool, started_at: float
) -> tuple[PhaseResult, str | None]:
    """Skip or execute one phase (in a worker thread); its result and new inputs."""
    started = time.monotonic()
    offset = started - started_at
    inputs = phase.inputs_of(run) if phase.inputs_of else None
    if inputs is not None and can_skip(run, phase, inputs, changed=changed):
        seconds = time.monotonic() - started
        return PhaseResult(phase.name, seconds, True, "unchanged", offset), None
    detail = phase.execute(run)
    # Again after the phase: some inputs (OpenBao's pod) are what it changed.
    recorded = phase.inputs_of(run) if phase.inputs_of is not None else None
    return PhaseResult(phase.name, time.monotonic() - started, False, detail, offset), recorded


def run_phases(
    run: RunContext,
    phases: Sequence[Phase],
    on_phase: Callable[[PhaseResult], None],
    *,
    parallel: int = PARALLEL_PHASES,
    started_at: float | None = None,
) -> list[PhaseResult]:
    """Run every phase once the phases it needs are done, several at a time; skip
    those whose inputs match the last successful run.

    Each finished phase is recorded at once, so an interrupt (Ctrl-C) or a failure
    leaves the record of what did finish: the next `up` resumes from there. After
    a failure or an interrupt no phase starts; the running ones finish first."""
    check_graph(phases)
    by_name = {phase.name: phase for phase in phases}
    upstream = {phase.name: _upstream(phase, by_name) for phase in phases}
    started_at = time.monotonic() if started_at is None else started_at  # the timeline's zero
    results: dict[str, PhaseResult] = {}
    executed: set[str] = set()
    pending = list(phases)
    running: dict[Future[tuple[PhaseResult, str | None]], Phase] = {}
    failure: BaseException | None = None
    pool = ThreadPoolExecutor(max_workers=parallel, thread_name_prefix="phase")
    try:
        while pending or running:
            if failure is None:
                for phase in [p for p in pending if all(n in results for n in p.needs)]:
                    pending.remove(phase)
                    changed = bool(upstream[phase.name] & executed)
                    future = pool.submit(
                        _run_phase, run, phase, changed=changed, started_at=started_at
                    )
                    running[future] = phase
            if not running:
                break
            finished, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in finished:
                phase = running.pop(future)
                try:
                    result, recorded = future.result()
                except BaseException as error:  # noqa: BLE001 - re-raised once the others end
                    failure = failure or error
                    run.stopping.set()
                    continue
                if not result.skipped and phase.inputs_of is not None:
                    executed.add(phase.name)
                    run.save_record(phase.name, recorded)
                results[phase.name] = result
                on_phase(result)
    except KeyboardInterrupt:
        run.report("interrupted: stopping the running phases, starting no other")
        run.interrupted.set()  # they stop at their next wait; shut down below
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    if failure is not None:
        raise failure
    return [results[phase.name] for phase in phases if phase.name in results]


def can_skip(run: RunContext, phase: Phase, inputs: str, *, changed: bool) -> bool:
    """Same inputs as the last successful run, on the same cluster, nothing missing."""
    if run.options.force or run.record.get("phases", {}).get(phase.name) != inputs:
        return False
    if run.record.get("cluster_uid") != run.known_uid():
        return False
    if phase.confirms and changed:
        return False
    if phase.applies is not None:
        missing = _missing(run, phase.applies(run))
        if missing:
            names = [f"{m['kind']} {m['metadata']['name']}" for m in missing]
            shown = ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
            run.report(f"{phase.name}: {shown} missing from the cluster: applying again")
            return False
    return True


def _object_key(manifest: Manifest) -> tuple[str, str, str]:
    metadata = manifest["metadata"]
    return str(manifest["kind"]), str(metadata.get("namespace", "")), str(metadata["name"])


def _missing(run: RunContext, manifests: list[Manifest]) -> list[Manifest]:
    """Which of these objects the cluster no longer has (one listing per run).
    When the cluster cannot be listed, all of them: applying again is harmless."""
    with run.listing_lock:  # phases check side by side: one lists, the others wait
        _list_live(run)
    if run.live is None:  # the cluster could not be listed
        return manifests
    return [m for m in manifests if _object_key(m) not in run.live]


def _list_live(run: RunContext) -> None:
    if run.live is None:
        # The rendered kinds; the Secrets the data phase makes itself, the enforcer's
        # DaemonSet, the simulators' EndpointSlices (rendered once their address is known).
        made_here = {"Secret", "DaemonSet", "EndpointSlice"}
        kinds = sorted({str(m["kind"]) for m in run.manifests} | made_here)
        try:
            items = run.kubectl.list_objects(kinds, selector=MANAGED_SELECTOR)
        except ToolError as error:
            run.report(f"cannot list what devenv applied ({error.message}): applying again")
            return
        run.live = {_object_key(item) for item in items}
        run.saw_workloads(items)
