"""`devenv up`: from a laptop with Docker to a running, verified environment.

Phases run in order; each has a content hash of what it applies or builds
(its inputs). A phase whose inputs match the last successful run on the same
cluster, and whose objects are all still there, is skipped: a re-run with
nothing changed does nothing, a run interrupted anywhere resumes at the phase
that did not finish, and an object deleted by hand comes back.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from devenv._bootstrap import bootstrap
from devenv._build import build_images, plan_builds
from devenv._dev_secrets import KUBERNETES_ADDRESSES
from devenv._endpoints import COMPONENT_LABEL
from devenv._errors import DevenvError, ToolError
from devenv._images import ImageSet
from devenv._kind import (
    GATEWAY_HOST_PORT,
    KIND_NETWORK,
    REGISTRY_NAME,
    REGISTRY_PORT,
    KindCluster,
    network_address,
    render_kind_config,
)
from devenv._kube import Kubectl
from devenv._process import find_program, run
from devenv._registry import ensure_registry, hosting_configmap, push
from devenv._session import dev_credentials, openbao_session
from devenv._state import read_json, state_dir, write_private_json
from devenv._tls import load_or_create_certificate
from devenv._topology import Topology
from devenv._yamlio import dump_documents
from devenv.render import Manifest, render_manifests
from devenv.render._common import SIMULATES_LABEL, metadata
from devenv.render.workloads import DATA_CREDENTIALS_SECRET, tls_secret_name

__all__ = ["PhaseFailed", "PhaseResult", "UpOptions", "run_up"]

MANAGED = "app.kubernetes.io/managed-by=finops-devenv"
DATA_COMPONENTS = ("postgresql-timescaledb", "redis")
SECRETS_COMPONENTS = ("openbao", "openbao-agent-injector")
POLICY_KINDS = {"Namespace", "ResourceQuota", "LimitRange", "NetworkPolicy"}


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
    addon_manifests: tuple[
        Path, ...
    ] = ()  # applied once the cluster is up (e.g. a policy enforcer)
    cni_manifests: Path | None = None  # replaces kindnet (disableDefaultCNI)
    timeout: float = 300.0
    force: bool = False  # run every phase, whatever the record says
    registry: bool = True  # a local registry beside a kind cluster (KEP-1755)


@dataclass(frozen=True)
class PhaseResult:
    name: str
    seconds: float
    skipped: bool
    detail: str = ""


@dataclass
class _Run:
    topology: Topology
    options: UpOptions
    report: Callable[[str], None]
    record: dict[str, Any] = field(default_factory=dict)
    images: ImageSet | None = None
    manifests: list[Manifest] = field(default_factory=list)
    uid: str | None = None
    uid_looked_up: bool = False
    live: set[tuple[str, str, str]] | None = None  # (kind, namespace, name) of our objects

    @property
    def kind(self) -> KindCluster:
        return KindCluster(self.topology.cluster.name)

    @property
    def context(self) -> str:
        return self.options.context or self.kind.context

    @property
    def kubectl(self) -> Kubectl:
        return Kubectl(self.context)


def _digest(*parts: object) -> str:
    text = json.dumps(parts, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _files_digest(paths: Sequence[Path]) -> str:
    digest = hashlib.sha256()
    for path in paths:
        for file in sorted(path.rglob("*")) if path.is_dir() else [path]:
            if file.is_file():
                digest.update(file.read_bytes())
    return digest.hexdigest()[:16]


def record_path(topology: Topology) -> Path:
    return state_dir(topology.cluster.name) / "up-record.json"


# ---------------------------------------------------------------- phases


def _preflight(run_: _Run) -> str:
    for tool in ("kubectl", *(() if run_.options.context else ("kind", "docker"))):
        if find_program(tool) is None:
            run([tool, "version"])  # raises ToolMissing with the install hint
    if not run_.options.context:
        run(["docker", "info", "--format", "{{.ServerVersion}}"], timeout=30)
    return "tools and engine answer"


def _cluster_uid(run_: _Run) -> str | None:
    result = run(
        run_.kubectl.argv("get", "namespace", "kube-system", "-o", "jsonpath={.metadata.uid}"),
        check=False,
        timeout=30,
    )
    return result.stdout.strip() or None if result.returncode == 0 else None


def _cluster_inputs(run_: _Run) -> str:
    assert run_.images is not None  # noqa: S101 - set before the phases run
    config = render_kind_config(
        run_.topology, run_.images, disable_default_cni=run_.options.cni_manifests is not None
    )
    paths = [*run_.options.addon_manifests, *filter(None, [run_.options.cni_manifests])]
    return _digest(run_.options.context, run_.options.registry, config, _files_digest(paths))


def _cluster(run_: _Run) -> str:
    options = run_.options
    detail = f"context {options.context}"
    if options.context is None:
        assert run_.images is not None  # noqa: S101
        if run_.kind.exists() and _cluster_uid(run_) is None:
            # Its containers stopped (a restarted engine): nothing there to keep.
            run_.report(f"kind cluster {run_.kind.name} does not answer: recreating it")
            run_.kind.delete()
        if run_.kind.exists():
            detail = f"kind cluster {run_.kind.name} reused"
        else:
            config = render_kind_config(
                run_.topology, run_.images, disable_default_cni=options.cni_manifests is not None
            )
            with tempfile.TemporaryDirectory() as tmp:
                path = Path(tmp) / "kind-config.yaml"
                path.write_text(dump_documents([config]), encoding="utf-8")
                run_.kind.create(path)
            run_.record["created_cluster"] = True
            detail = f"kind cluster {run_.kind.name} created"
    for manifests in [*filter(None, [options.cni_manifests]), *options.addon_manifests]:
        run(run_.kubectl.argv("apply", "-f", str(manifests)), timeout=300)
    _wait_nodes_ready(run_)
    if options.context is None and options.registry:
        assert run_.images is not None  # noqa: S101
        if ensure_registry(run_.images, run_.kind):
            run_.record["created_registry"] = True
        run_.kubectl.apply(dump_documents([hosting_configmap()]))
        detail += f", registry {REGISTRY_NAME} on localhost:{REGISTRY_PORT}"
    run_.uid = run_.record["cluster_uid"] = _cluster_uid(run_)
    run_.uid_looked_up = True
    return detail


def _wait_nodes_ready(run_: _Run) -> None:
    deadline = time.monotonic() + run_.options.timeout
    while time.monotonic() < deadline:
        nodes = run_.kubectl.get_json("nodes").get("items", [])
        ready = [
            any(
                c["type"] == "Ready" and c["status"] == "True"
                for c in n["status"].get("conditions", [])
            )
            for n in nodes
        ]
        if nodes and all(ready):
            return
        time.sleep(2)
    raise PhaseFailed(
        "cluster",
        f"nodes not Ready after {run_.options.timeout:.0f}s",
        next_command=f"kubectl --context {run_.context} describe nodes",
    )


def _image_refs(run_: _Run) -> list[str]:
    refs = set()
    for manifest in run_.manifests:
        spec = manifest.get("spec", {}).get("template", {}).get("spec", {})
        for container in spec.get("containers", []):
            refs.add(container["image"])
    assert run_.images is not None  # noqa: S101
    refs.add(run_.images.ref("openbao"))  # the injector's agent image
    return sorted(refs)


def _images_inputs(run_: _Run) -> str:
    return _digest(_image_refs(run_), run_.record.get("cluster_uid"))


def _local_image_id(ref: str) -> str | None:
    result = run(
        ["docker", "image", "inspect", "--format", "{{.Id}}", ref], check=False, timeout=60
    )
    return result.stdout.strip() if result.returncode == 0 else None


def _images(run_: _Run) -> str:
    if run_.options.context is not None:
        return "existing cluster: images come from their registries"
    loaded = pushed = 0
    for ref in _image_refs(run_):
        image_id = _local_image_id(ref)
        if image_id is None:
            continue  # not built here: the node pulls it from its registry
        if run_.options.registry and ref.startswith(f"localhost:{REGISTRY_PORT}/"):
            # Only the layers the registry lacks travel; the node pulls from it.
            run_.report(f"pushing {ref} to the local registry")
            push(ref)
            pushed += 1
        elif not run_.kind.node_has_image(image_id):
            run_.report(f"loading {ref} into the node")
            run_.kind.load(ref)
            loaded += 1
    return f"{pushed} image(s) pushed to the local registry, {loaded} loaded into the node"


def _select(run_: _Run, wanted: Callable[[Manifest], bool]) -> list[Manifest]:
    return [m for m in run_.manifests if wanted(m)]


def _is_policy(manifest: Manifest) -> bool:
    return manifest["kind"] in POLICY_KINDS


def _owner(manifest: Manifest) -> str | None:
    if manifest["kind"] in ("ServiceAccount", "Service", "Deployment", "StatefulSet"):
        return str(manifest["metadata"]["name"])
    if manifest["kind"] in ("ClusterRole", "ClusterRoleBinding", "MutatingWebhookConfiguration"):
        return "openbao-agent-injector"
    return None


def _apply(run_: _Run, phase: str, manifests: list[Manifest]) -> None:
    try:
        run_.kubectl.apply(dump_documents(manifests))
    except ToolError as error:
        check = f"devenv render | kubectl --context {run_.context} apply --dry-run=server -f -"
        raise PhaseFailed(
            phase,
            f"kubectl apply failed: {error.message}",
            evidence=error.details(),
            next_command=check,
        ) from None


def _policy_manifests(run_: _Run) -> list[Manifest]:
    return _select(run_, _is_policy)


def _data_manifests(run_: _Run) -> list[Manifest]:
    return _select(run_, lambda m: _owner(m) in DATA_COMPONENTS)


def _openbao_manifests(run_: _Run) -> list[Manifest]:
    return _select(run_, lambda m: _owner(m) in SECRETS_COMPONENTS)


def _namespaces(run_: _Run) -> str:
    manifests = _policy_manifests(run_)
    _apply(run_, "namespaces", manifests)
    return f"{len(manifests)} namespaces, quotas, limit ranges and policies"


def _secret_manifests(run_: _Run) -> list[Manifest]:
    credentials = dev_credentials(run_.topology)
    manifests: list[Manifest] = [
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": metadata(DATA_CREDENTIALS_SECRET, "finops-data"),
            "type": "Opaque",
            "stringData": credentials.kubernetes_secret_data(),
        }
    ]
    for component in run_.topology.components.values():
        if component.is_stub and component.probe_scheme == "HTTPS":
            hosts = ["localhost", component.name, f"{component.name}.{component.namespace}.svc"]
            certificate = load_or_create_certificate(
                state_dir(run_.topology.cluster.name) / f"{component.name}-certificate.json", hosts
            )
            manifests.append(
                {
                    "apiVersion": "v1",
                    "kind": "Secret",
                    "metadata": metadata(tls_secret_name(component), component.namespace),
                    "type": "kubernetes.io/tls",
                    "stringData": {"tls.crt": certificate.cert_pem, "tls.key": certificate.key_pem},
                }
            )
    return manifests


def _data_inputs(run_: _Run) -> str:
    return _digest(_data_objects(run_))


def _data_objects(run_: _Run) -> list[Manifest]:
    """What the data phase applies: the data layer and the Secrets devenv makes."""
    return [*_data_manifests(run_), *_secret_manifests(run_)]


def _data(run_: _Run) -> str:
    run_.kubectl.apply(dump_documents(_secret_manifests(run_)))  # stdin: never argv, never logs
    _apply(run_, "data", _data_manifests(run_))
    _wait_ready(run_, "data", list(DATA_COMPONENTS))
    return "TimescaleDB and Redis ready"


def _openbao_inputs(run_: _Run) -> str:
    return _digest(
        _openbao_manifests(run_),
        run_.topology.spec.model_dump(mode="json")["secrets"],
        {c.name: c.secrets for c in run_.topology.components.values()},
        _openbao_instance(run_),
    )


def _openbao_instance(run_: _Run) -> str:
    """Which OpenBao process holds the bootstrap. Dev mode keeps everything in
    memory: a new pod or a restarted container starts empty, so the phase (and its
    bootstrap) must run again. Empty before OpenBao exists."""
    openbao = run_.topology.components["openbao"]
    result = run(
        run_.kubectl.argv(
            "get", "pods", "-n", openbao.namespace, "-l", f"{COMPONENT_LABEL}={openbao.name}",
            "-o", "jsonpath={range .items[*]}{.metadata.uid}/"
            "{.status.containerStatuses[*].restartCount} {end}",
        ),
        check=False, timeout=30,
    )  # fmt: skip
    return result.stdout.strip() if result.returncode == 0 else ""


def _openbao(run_: _Run) -> str:
    _apply(run_, "openbao", _openbao_manifests(run_))
    _wait_ready(run_, "openbao", list(SECRETS_COMPONENTS))
    _wait_webhook_ca(run_)
    with openbao_session(run_.topology, address=None, context=run_.context) as client:
        report = bootstrap(
            client, run_.topology, dev_credentials(run_.topology), KUBERNETES_ADDRESSES
        )
    return f"injector ready, bootstrap: {len(report.changed)} change(s)"


def _wait_webhook_ca(run_: _Run) -> None:
    """The injector patches its webhook's CA bundle; pods created before that skip injection."""
    deadline = time.monotonic() + run_.options.timeout
    while time.monotonic() < deadline:
        bundle = run(
            run_.kubectl.argv(
                "get", "mutatingwebhookconfiguration", "openbao-agent-injector-cfg",
                "-o", "jsonpath={.webhooks[0].clientConfig.caBundle}",
            ),
            check=False, timeout=30,
        ).stdout.strip()  # fmt: skip
        if bundle:
            return
        time.sleep(1)
    raise PhaseFailed(
        "openbao",
        "the injector never set its webhook's CA bundle",
        next_command=f"devenv logs openbao-agent-injector --context {run_.context}",
    )


def _is_simulator_service(manifest: Manifest) -> bool:
    return SIMULATES_LABEL in manifest["metadata"].get("labels", {})


def _stub_manifests(run_: _Run) -> list[Manifest]:
    stubs = {c.name for c in run_.topology.components.values() if c.is_stub}
    return _select(run_, lambda m: _owner(m) in stubs or _is_simulator_service(m))


def _stubs(run_: _Run) -> str:
    manifests = _stub_manifests(run_)
    simulators = _start_simulators(run_) if run_.options.context is None else 0
    _apply(run_, "stubs", manifests)
    deployments = sum(m["kind"] == "Deployment" for m in manifests)
    return f"{deployments} stub deployments applied, {simulators} simulator(s) outside the cluster"


def simulator_container(topology: Topology, endpoint: str) -> str:
    """The container `up` runs for an external endpoint's simulator."""
    return f"{topology.cluster.name}-{endpoint}-simulator"


def _start_simulators(run_: _Run) -> int:
    """Each external endpoint's simulator: a stub in its role, on the kind network
    (outside the pod network), behind the Service the render gave it."""
    assert run_.images is not None  # noqa: S101 - set before the phases run
    started = 0
    for name, external in run_.topology.spec.external.items():
        if external.simulator is None:
            continue
        container = simulator_container(run_.topology, name)
        image = run_.images.ref("stub-agent")
        config = json.dumps(
            {"component": name, "kind": "cloud-api", "port": external.simulator.port}
        )
        run(["docker", "rm", "-f", container], check=False, timeout=60)
        run(
            ["docker", "run", "-d", "--name", container, "--network", KIND_NETWORK,
             "--restart", "unless-stopped", "--user", "0", "-e", f"STUB_CONFIG={config}", image],
            timeout=120,
        )  # fmt: skip
        address = network_address(container)
        endpoint_slice = {
            "apiVersion": "discovery.k8s.io/v1",
            "kind": "EndpointSlice",
            "metadata": {
                "name": f"{external.simulator.service}-simulator",
                "namespace": external.simulator.namespace,
                "labels": {
                    "kubernetes.io/service-name": external.simulator.service,
                    "app.kubernetes.io/managed-by": "finops-devenv",
                },
            },
            "addressType": "IPv4",
            "ports": [{"port": external.simulator.port, "protocol": "TCP"}],
            "endpoints": [{"addresses": [address]}],
        }
        _apply(run_, "stubs", [endpoint_slice])
        started += 1
    return started


def _wait(run_: _Run) -> str:
    names = [c.name for c in run_.topology.components.values()]
    _wait_ready(run_, "wait", names)
    return f"{len(names)} components ready"


def _workloads(kubectl: Kubectl) -> dict[str, Manifest]:
    """devenv's Deployments and StatefulSets by name, in one call."""
    items = kubectl.get_json("deployments,statefulsets", "-A", "-l", MANAGED).get("items", [])
    return {item["metadata"]["name"]: item for item in items}


def _is_ready(workload: Manifest) -> bool:
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


def _wait_ready(run_: _Run, phase: str, names: list[str]) -> None:
    deadline = time.monotonic() + run_.options.timeout
    pending = list(names)
    while time.monotonic() < deadline:
        workloads = _workloads(run_.kubectl)
        pending = [n for n in names if n not in workloads or not _is_ready(workloads[n])]
        if not pending:
            return
        time.sleep(2)
    name = pending[0]
    component = run_.topology.components[name]
    raise PhaseFailed(
        phase,
        f"{component.namespace}/{name} not ready after {run_.options.timeout:.0f}s"
        + (f" (and {len(pending) - 1} more)" if len(pending) > 1 else ""),
        evidence=_evidence(run_, component.namespace, name),
        next_command=f"devenv logs {name}   # or: kubectl --context {run_.context} -n"
        f" {component.namespace} describe pods -l app.kubernetes.io/name={name}",
    )


def _evidence(run_: _Run, namespace: str, name: str) -> list[str]:
    lines = []
    events = run(
        run_.kubectl.argv(
            "get", "events", "-n", namespace, "--sort-by=.lastTimestamp",
            "-o", "custom-columns=REASON:.reason,OBJECT:.involvedObject.name,MESSAGE:.message",
        ),
        check=False, timeout=30,
    ).stdout.splitlines()  # fmt: skip
    lines += [f"event: {line}" for line in events[1:] if name in line][-5:]
    logs = run(
        run_.kubectl.argv("logs", "-n", namespace, f"-l=app.kubernetes.io/name={name}",
                          "--all-containers", "--tail=5", "--prefix"),
        check=False, timeout=30,
    ).stdout.splitlines()  # fmt: skip
    lines += [f"log: {line}" for line in logs[-8:]]
    return lines


@dataclass(frozen=True)
class _Phase:
    name: str
    execute: Callable[[_Run], str]
    inputs_of: Callable[[_Run], str] | None = None  # None: runs every time
    applies: Callable[[_Run], list[Manifest]] | None = None  # checked for drift when skipping
    confirms: bool = False  # runs whenever an earlier phase changed something


PHASES: list[_Phase] = [
    _Phase("preflight", _preflight),
    _Phase("cluster", _cluster, _cluster_inputs),
    _Phase("images", _images, _images_inputs),
    _Phase("namespaces", _namespaces, lambda r: _digest(_policy_manifests(r)), _policy_manifests),
    _Phase("data", _data, _data_inputs, _data_objects),
    _Phase("openbao", _openbao, _openbao_inputs, _openbao_manifests),
    _Phase("stubs", _stubs, lambda r: _digest(_stub_manifests(r)), _stub_manifests),
    _Phase("wait", _wait, lambda r: _digest(r.manifests), confirms=True),
]


def _object_key(manifest: Manifest) -> tuple[str, str, str]:
    metadata = manifest["metadata"]
    return str(manifest["kind"]), str(metadata.get("namespace", "")), str(metadata["name"])


def _missing(run_: _Run, manifests: list[Manifest]) -> list[Manifest]:
    """Which of these objects the cluster no longer has (one `kubectl get` per run).
    When the cluster cannot be listed, all of them: applying again is harmless."""
    if run_.live is None:
        # The rendered kinds, and the Secrets the data phase makes itself.
        kinds = ",".join(sorted({str(m["kind"]) for m in run_.manifests} | {"Secret"}))
        try:
            items = run_.kubectl.get_json(kinds, "-A", "-l", MANAGED).get("items", [])
        except ToolError as error:
            run_.report(f"cannot list what devenv applied ({error.message}): applying again")
            return manifests
        run_.live = {_object_key(item) for item in items}
    return [m for m in manifests if _object_key(m) not in run_.live]


def run_up(
    topology: Topology,
    options: UpOptions,
    *,
    report: Callable[[str], None] = lambda _: None,
    on_phase: Callable[[PhaseResult], None] = lambda _: None,
) -> list[PhaseResult]:
    """Run every phase; skip those whose inputs match the last successful run."""
    run_ = _Run(topology, options, report, record=read_json(record_path(topology)) or {})
    if run_.record.get("context") != run_.context:
        run_.record = {"context": run_.context}
    results = []
    changed = False
    for phase in PHASES:
        started = time.monotonic()
        if phase.name == "images":
            # Built by content: an unchanged stub tree gives the same tags.
            built = build_images(plan_builds(options.images))
            run_.images = options.images.with_refs(**{b.plan.name: b.plan.tag for b in built})
            run_.manifests = render_manifests(topology, options.profile, run_.images)
        elif run_.images is None:
            run_.images = options.images
        inputs = phase.inputs_of(run_) if phase.inputs_of else None
        if inputs is not None and _can_skip(run_, phase, inputs, changed=changed):
            result = PhaseResult(
                phase.name, time.monotonic() - started, skipped=True, detail="unchanged"
            )
        else:
            detail = phase.execute(run_)
            if phase.inputs_of is not None:
                changed = True
                run_.record.setdefault("phases", {})[phase.name] = phase.inputs_of(run_)
                write_private_json(record_path(topology), run_.record)
            result = PhaseResult(
                phase.name, time.monotonic() - started, skipped=False, detail=detail
            )
        results.append(result)
        on_phase(result)
    return results


def _can_skip(run_: _Run, phase: _Phase, inputs: str, *, changed: bool) -> bool:
    """Same inputs as the last successful run, on the same cluster, nothing missing."""
    if run_.options.force or run_.record.get("phases", {}).get(phase.name) != inputs:
        return False
    if run_.record.get("cluster_uid") != _known_uid(run_):
        return False
    if phase.confirms and changed:
        return False
    if phase.applies is not None:
        missing = _missing(run_, phase.applies(run_))
        if missing:
            names = [f"{m['kind']} {m['metadata']['name']}" for m in missing]
            shown = ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
            run_.report(f"{phase.name}: {shown} missing from the cluster: applying again")
            return False
    return True


def _known_uid(run_: _Run) -> str | None:
    """The cluster's identity, looked up once per run (a recreated cluster invalidates)."""
    if not run_.uid_looked_up:
        run_.uid = _cluster_uid(run_)
        run_.uid_looked_up = True
    return run_.uid


# What `up` created, which `down` must still remove after a `down --keep-cluster`.
OWNERSHIP_KEYS = ("context", "created_cluster", "created_registry")


def forget(topology: Topology, *, keep_ownership: bool = False) -> None:
    """Drop the record (after `down`): the next `up` runs every phase.

    With keep_ownership (`down --keep-cluster`) the record keeps only what `up`
    created, so that `up; down --keep-cluster; up; down` still deletes the
    cluster and the registry the first `up` started."""
    path = record_path(topology)
    record = (read_json(path) or {}) if keep_ownership else {}
    kept = {key: record[key] for key in OWNERSHIP_KEYS if key in record}
    if kept:
        write_private_json(path, kept)
    else:
        path.unlink(missing_ok=True)


def summary_rows(topology: Topology, context: str) -> list[Mapping[str, Any]]:
    """component, namespace, zone, ready, URL: the table `up` ends with."""
    workloads = _workloads(Kubectl(context))
    rows: list[Mapping[str, Any]] = []
    for component in topology.components.values():
        workload = workloads.get(component.name)
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
                "ready": bool(workload and _is_ready(workload)),
                "url": url,
            }
        )
    return rows
