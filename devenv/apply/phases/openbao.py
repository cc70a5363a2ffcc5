"""Phase openbao: dev-mode OpenBao and the agent injector, ready, the injector's
webhook serving, then the bootstrap (KV, Kubernetes auth, policies, values)."""

from __future__ import annotations

from devenv.apply.engine import Phase, PhaseFailed, RunContext, digest
from devenv.apply.waiting import poll, wait_ready
from devenv.render import Manifest
from devenv.secrets.bootstrap import bootstrap
from devenv.secrets.connection import dev_credentials, openbao_session
from devenv.secrets.dev_values import KUBERNETES_ADDRESSES
from devenv.topology.labels import component_selector

__all__ = ["PHASE", "SECRETS_COMPONENTS"]

SECRETS_COMPONENTS = ("openbao", "openbao-agent-injector")
WEBHOOK = "openbao-agent-injector-cfg"


def _manifests(run: RunContext) -> list[Manifest]:
    return run.objects_of(SECRETS_COMPONENTS)


def _openbao_instance(run: RunContext) -> str:
    """Which OpenBao process holds the bootstrap. Dev mode keeps everything in
    memory: a new pod or a restarted container starts empty, so the phase (and its
    bootstrap) must run again. Empty before OpenBao exists."""
    openbao = run.topology.components["openbao"]
    result = run.kubectl.run(
        "get", "pods", "-n", openbao.namespace, "-l", component_selector(openbao.name),
        "-o", "jsonpath={range .items[*]}{.metadata.uid}/"
        "{.status.containerStatuses[*].restartCount} {end}",
        check=False,
    )  # fmt: skip
    return result.stdout.strip() if result.returncode == 0 else ""


def _inputs(run: RunContext) -> str:
    return digest(
        _manifests(run),
        run.topology.spec.model_dump(mode="json")["secrets"],
        {c.name: c.secrets for c in run.topology.components.values()},
        _openbao_instance(run),
    )


def _webhook_ca_set(run: RunContext) -> bool | None:
    bundle = run.kubectl.run(
        "get", "mutatingwebhookconfiguration", WEBHOOK,
        "-o", "jsonpath={.webhooks[0].clientConfig.caBundle}",
        check=False,
    ).stdout.strip()  # fmt: skip
    return True if bundle else None


def _execute(run: RunContext) -> str:
    run.apply("openbao", _manifests(run))
    wait_ready(run, "openbao", list(SECRETS_COMPONENTS))
    # The injector patches its webhook's CA bundle; pods created before that skip injection.
    poll(
        lambda: _webhook_ca_set(run),
        timeout=run.options.timeout,
        interval=1,
        on_timeout=lambda: PhaseFailed(
            "openbao",
            "the injector never set its webhook's CA bundle",
            next_command=f"devenv logs openbao-agent-injector --context {run.context}",
        ),
    )
    with openbao_session(run.topology, address=None, context=run.context) as client:
        report = bootstrap(
            client, run.topology, dev_credentials(run.topology), KUBERNETES_ADDRESSES
        )
    return f"injector ready, bootstrap: {len(report.changed)} change(s)"


PHASE = Phase("openbao", _execute, _inputs, _manifests)
