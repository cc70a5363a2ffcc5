"""`devenv up`: from a laptop with Docker to a running, verified environment.

Preflight, then the stub images built (by content: an unchanged tree gives the
same tags) and every manifest rendered once, then the phases of
``devenv.apply.phases`` on that complete context.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from devenv.apply.engine import (
    PhaseFailed,
    PhaseResult,
    RunContext,
    UpOptions,
    run_phases,
)
from devenv.apply.image_routes import ImageRoute, choose_route, context_provider
from devenv.apply.phases import PHASES
from devenv.apply.phases.enforcer import choose_enforcer
from devenv.apply.phases.images import image_refs
from devenv.apply.phases.preflight import preflight
from devenv.apply.phases.registry import registry_copies
from devenv.apply.record import load_record
from devenv.apply.waiting import is_ready, workloads
from devenv.errors import ConfigError, ToolError
from devenv.render import Manifest, render_manifests
from devenv.render.kind_config import GATEWAY_HOST_PORT, REGISTRY_HOST
from devenv.render.policy_enforcer import ENFORCERS
from devenv.tools.build import build_images, plan_builds
from devenv.tools.docker import Docker
from devenv.tools.kind import kind_clusters, kind_context
from devenv.tools.kubectl import Kubectl
from devenv.topology.images import HOST_IMAGES, ImageSet, registry_copy_ref
from devenv.topology.labels import ENVIRONMENT_LABEL, MANAGED_BY
from devenv.topology.model import Topology

__all__ = [
    "PhaseFailed",
    "PhaseResult",
    "UpOptions",
    "UpReport",
    "foreign_policies",
    "prepare",
    "prune_policies",
    "run_up",
    "summary_rows",
]


def prepare(
    topology: Topology, options: UpOptions, report: Callable[[str], None] = lambda _: None
) -> RunContext:
    """The complete run context: stub images built, manifests rendered, the record read."""
    route = image_route(topology, options)
    built = build_images(plan_builds(options.images))
    images = options.images.with_refs(**{b.plan.name: b.plan.tag for b in built})
    if route.kind == "registry":
        images = push_images(images, [b.plan.name for b in built], route.target, options, report)
    sources: dict[str, str] = {}
    if route.kind == "devenv-kind" and options.registry:
        # Every image the pods run that is held here goes through the local registry.
        held = Docker().image_ids([images.ref(n) for n in images.refs if n not in HOST_IMAGES])
        copies = registry_copies(images, held)
        sources = {copy: images.ref(name) for name, copy in copies.items()}
        images = images.with_refs(**copies)
    context = options.context or kind_context(topology.cluster.name)
    enforcer, reason = choose_enforcer(
        options.policy_enforcer, existing_cluster=options.context is not None
    )
    run = RunContext(
        topology,
        options,
        images,
        render_manifests(topology, options.profile, images),
        report=report,
        enforcer=enforcer,
        enforcer_reason=reason,
        record=load_record(topology, context),
        image_route=route,
        registry_sources=sources,
    )
    if route.kind in ("pull", "registry"):
        _require_pullable(run)
    return run


def image_route(topology: Topology, options: UpOptions) -> ImageRoute:
    """How images held here reach the target cluster (from its context alone)."""
    context = options.context
    if context is None or context == kind_context(topology.cluster.name):
        return choose_route(None, devenv_cluster=topology.cluster.name, kind_clusters=())
    kubeconfig = json.loads(Kubectl(context).run("config", "view", "-o", "json").stdout)
    known = [entry.get("name") for entry in kubeconfig.get("contexts") or []]
    if context not in known:
        raise ConfigError(
            f"--context {context}: no such context in the kubeconfig",
            hint=f"contexts: {', '.join(str(k) for k in known) or 'none'}"
            " (`kubectl config get-contexts`)",
        )
    return choose_route(
        context,
        devenv_cluster=topology.cluster.name,
        kind_clusters=kind_clusters(),
        push_to=options.push_to,
        provider=context_provider(kubeconfig, context),
    )


def push_images(
    images: ImageSet,
    built: list[str],
    registry: str,
    options: UpOptions,
    report: Callable[[str], None],
) -> ImageSet:
    """Push the built images (with ``--mirror``, every catalog image held here too)
    to ``registry``; the image set then names each by the digest it was given."""
    docker = Docker()
    names = list(built)
    if options.mirror:
        held = docker.image_ids([images.ref(n) for n in images.refs])
        names += [n for n in images.refs if n not in names and images.ref(n) in held]
    pushed = {}
    for name in names:
        reference = images.ref(name)
        target = registry_copy_ref(registry, reference)
        report(f"pushing {name} to {registry}")
        # By image ID: the pinned image itself, even where no local tag names it.
        docker.tag(docker.image_id(reference) or reference, target)
        docker.push(target)
        digest = docker.pushed_digest(target)
        if digest is None:
            raise ConfigError(
                f"{registry} gave no digest for {target}",
                hint="is it a registry (`docker push` to it works by hand)?",
            )
        pushed[name] = f"{target.rsplit(':', 1)[0]}@{digest}"
    return images.with_refs(**pushed)


def _require_pullable(run: RunContext) -> None:
    """On a cluster that pulls its images, an image that exists only here (built
    here, or known only to this machine's loopback registry) cannot run."""
    docker = Docker()
    pushed = f"{run.image_route.target}/" if run.image_route.kind == "registry" else None
    held = docker.image_ids(image_refs(run))
    stranded = [
        ref for ref in image_refs(run)
        if not (pushed and ref.startswith(pushed))
        and ref in held
        and not any(_pullable_elsewhere(entry) for entry in docker.repo_digests(ref))
    ]  # fmt: skip
    if stranded:
        raise ConfigError(
            f"{run.context} pulls its images, and {len(stranded)} exist only on this machine"
            f" (e.g. {stranded[0]})",
            hint="devenv up --context CTX --push-to REGISTRY [--mirror] (a registry that"
            " cluster pulls from); `devenv doctor --context CTX` says how images reach it",
        )


def _pullable_elsewhere(repo_digest: str) -> bool:
    """A registry another machine can reach (not this one's localhost)."""
    host = repo_digest.split("/", 1)[0]
    return not (host.startswith(("localhost", "127.")) or host == REGISTRY_HOST)


@dataclass(frozen=True)
class UpReport:
    phases: list[PhaseResult]
    # devenv's workloads as the run last listed them (for the summary, without
    # listing them again): by name.
    workloads: Mapping[str, Manifest]


def run_up(
    topology: Topology,
    options: UpOptions,
    *,
    report: Callable[[str], None] = lambda _: None,
    on_phase: Callable[[PhaseResult], None] = lambda _: None,
) -> UpReport:
    """Preflight, prepare, then every phase; skips those whose inputs did not change."""
    started = time.monotonic()
    _check_options(options)
    detail = preflight(options, report)
    run = prepare(topology, options, report)
    first = PhaseResult("preflight", time.monotonic() - started, skipped=False, detail=detail)
    on_phase(first)
    phases = [first, *run_phases(run, PHASES, on_phase, started_at=started)]
    return UpReport(phases, dict(run.workloads_seen))


def _check_options(options: UpOptions) -> None:
    """What the user gave, checked before anything is started."""
    for path in [*options.addon_manifests, *filter(None, [options.cni_manifests])]:
        if not path.exists():
            raise ConfigError(f"{path}: no such file or directory")
    if options.policy_enforcer not in (None, *ENFORCERS):
        raise ConfigError(
            f"--policy-enforcer {options.policy_enforcer}: not one of {', '.join(ENFORCERS)}",
            hint="kube-router where the kernel lacks nftables queue (`devenv doctor` says)",
        )


def summary_rows(
    topology: Topology, context: str, known: Mapping[str, Manifest] | None = None
) -> list[Mapping[str, Any]]:
    """component, namespace, zone, ready, URL: the table `up` ends with; from the
    workloads the run last listed when it knows them all, else listed now."""
    every = all(component in (known or {}) for component in topology.components)
    found = known if known is not None and every else workloads(Kubectl(context))
    rows: list[Mapping[str, Any]] = []
    for component in topology.components.values():
        workload = found.get(component.name)
        port = component.primary_port
        if port.node_port:
            url = f"https://127.0.0.1:{GATEWAY_HOST_PORT}"
        else:
            scheme = "https" if component.probe_scheme == "HTTPS" else "http"
            url = f"{scheme}://{component.name}.{component.namespace}.svc:{port.exposed_port}"
        rows.append(
            {
                "component": component.name,
                "namespace": component.namespace,
                "zone": component.zone,
                "ready": bool(workload and is_ready(workload)),
                "url": url,
            }
        )
    return rows


def foreign_policies(topology: Topology, context: str) -> list[str]:
    """namespace/name of every NetworkPolicy in the environment's namespaces that
    devenv did not create: policies only add, so each may open a hole that the
    zone rules do not have (`devenv policy --live` names what it opens)."""
    kubectl = Kubectl(context)
    try:  # one call where the cluster may be listed across namespaces
        listed = kubectl.list_objects(["NetworkPolicy"])
    except ToolError:  # namespace rights only
        listed = [
            policy
            for namespace in topology.namespaces
            for policy in kubectl.list_objects(["NetworkPolicy"], namespace=namespace)
        ]
    found = []
    for policy in listed:
        metadata = policy["metadata"]
        labels = metadata.get("labels") or {}
        if (
            metadata.get("namespace") in topology.namespaces
            and labels.get(ENVIRONMENT_LABEL) != MANAGED_BY[ENVIRONMENT_LABEL]
        ):
            found.append(f"{metadata['namespace']}/{metadata['name']}")
    return sorted(found)


def prune_policies(context: str, names: Sequence[str]) -> None:
    """Delete the given namespace/name NetworkPolicies (`up --prune`)."""
    kubectl = Kubectl(context)
    for qualified in names:
        namespace, name = qualified.split("/", 1)
        kubectl.run("delete", "networkpolicy", "-n", namespace, name, "--ignore-not-found")
