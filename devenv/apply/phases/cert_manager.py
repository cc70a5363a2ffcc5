"""Phase cert-manager: its CRDs (from the pinned release, at run time), the
controller, webhook and cainjector ready, then the dev CA chain and the HTTPS
stubs' Certificates issued. The stubs wait for it: the gateway mounts the
Secret its Certificate writes."""

from __future__ import annotations

from collections.abc import Callable

from devenv.apply.engine import Phase, PhaseFailed, RunContext, digest
from devenv.apply.waiting import poll_phase, wait_ready
from devenv.errors import ToolError
from devenv.render import Manifest
from devenv.render.cert_manager import CERT_MANAGER_COMPONENTS, is_issuance_object, label_crds
from devenv.tools.go_module import pinned_crds, release_pin
from devenv.topology.labels import ENVIRONMENT_LABEL, MANAGED_BY
from devenv.yamlio import dump_documents

__all__ = ["PHASE", "cert_manager_crds"]

SERVER_SIDE = ("--server-side", "--force-conflicts", "--field-manager=devenv")


def cert_manager_crds(report: Callable[[str], None] = lambda _: None) -> list[Manifest]:
    """cert-manager's CRDs as its pinned release publishes them, labelled as devenv's."""
    return label_crds(pinned_crds("cert-manager", report=report))


def _objects(run: RunContext) -> list[Manifest]:
    return run.objects_of(CERT_MANAGER_COMPONENTS)


def _inputs(run: RunContext) -> str:
    pin = release_pin("cert-manager")
    return digest(_objects(run), pin.module, pin.version, pin.h1)


def _issue(run: RunContext, issuance: list[Manifest]) -> None:
    """Apply the issuers and Certificates once the webhook admits them: it serves
    before the cainjector has written its CA bundle, and until then the API server
    cannot call it."""
    last_error = ""

    def admitted() -> bool | None:
        nonlocal last_error
        try:
            run.kubectl.apply(dump_documents(issuance))
        except ToolError as error:
            last_error = error.message
            return None
        return True

    namespace = run.topology.components["cert-manager-webhook"].namespace
    problem = "cert-manager's webhook did not admit the dev CA's issuers within 120 s"
    logs = f"kubectl --context {run.context} -n {namespace} logs deploy/cert-manager-webhook"
    try:
        poll_phase(
            run, "cert-manager", admitted, interval=1.0, timeout=120, problem=problem,
            next_command=logs,
        )  # fmt: skip
    except PhaseFailed:
        raise PhaseFailed(
            "cert-manager", problem, evidence=[last_error], next_command=logs
        ) from None


def _wait_issued(run: RunContext, certificates: list[Manifest]) -> None:
    for certificate in certificates:
        meta = certificate["metadata"]
        try:
            run.kubectl.run(
                "wait", "-n", meta["namespace"], "--for=condition=Ready",
                f"certificate/{meta['name']}", "--timeout=120s", timeout=130,
            )  # fmt: skip
        except ToolError as error:
            raise PhaseFailed(
                "cert-manager",
                f"Certificate {meta['namespace']}/{meta['name']} was not issued: {error.message}",
                next_command=(
                    f"kubectl --context {run.context} -n {meta['namespace']}"
                    f" describe certificate {meta['name']}"
                ),
            ) from None


def _refuse_a_foreign_cert_manager(run: RunContext, crds: list[Manifest]) -> None:
    """CRDs are cluster-wide: one another cert-manager installed is never taken over."""
    names = [crd["metadata"]["name"] for crd in crds]
    label = ENVIRONMENT_LABEL.replace(".", "\\.")
    each = f"{{.metadata.name}}={{.metadata.labels.{label}}}{{'\\n'}}"
    owners = run.kubectl.run(
        "get",
        "crd",
        *names,
        "--ignore-not-found",
        "-o",
        f"jsonpath={{range .items[*]}}{each}{{end}}",
    ).stdout
    foreign = [
        name
        for name, _, owner in (line.partition("=") for line in owners.splitlines() if line)
        if owner != MANAGED_BY[ENVIRONMENT_LABEL]
    ]
    if foreign:
        raise PhaseFailed(
            "cert-manager",
            f"the cluster already has cert-manager's CRDs, not devenv's ({', '.join(foreign[:2])})",
            next_command="deploy to a cluster without cert-manager (devenv installs its own,"
            f" {release_pin('cert-manager').version}), or remove that one",
        )


def _execute(run: RunContext) -> str:
    crds = cert_manager_crds(report=run.report)
    _refuse_a_foreign_cert_manager(run, crds)
    # Server-side: the biggest CRDs exceed what client-side apply can annotate.
    run.apply("cert-manager", crds, *SERVER_SIDE)
    names = [f"crd/{crd['metadata']['name']}" for crd in crds]
    run.kubectl.run("wait", "--for=condition=Established", "--timeout=60s", *names, timeout=70)
    objects = _objects(run)
    run.apply("cert-manager", [m for m in objects if not is_issuance_object(m)])
    wait_ready(run, "cert-manager", list(CERT_MANAGER_COMPONENTS))
    issuance = [m for m in objects if is_issuance_object(m)]
    _issue(run, issuance)
    certificates = [m for m in issuance if m["kind"] == "Certificate"]
    _wait_issued(run, certificates)
    return f"{len(crds)} CRDs, the dev CA, {len(certificates)} certificates issued"


PHASE = Phase("cert-manager", _execute, _inputs, _objects, needs=("namespaces", "images"))
