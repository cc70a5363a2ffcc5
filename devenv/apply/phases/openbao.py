"""Phase openbao: dev-mode OpenBao and the agent injector, ready, the injector's
webhook serving, then the bootstrap (KV, Kubernetes auth, policies, values)."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import replace

from devenv.apply.engine import Phase, RunContext, digest
from devenv.apply.waiting import is_ready, poll_phase, wait_ready, workloads
from devenv.errors import DevenvError, ToolError
from devenv.render import Manifest
from devenv.render.simulators import (
    SIMULATOR_TOKEN_FILE,
    simulated_endpoints,
    simulator_config,
    simulator_container,
)
from devenv.secrets.bootstrap import BootstrapReport, bootstrap, simulator_token
from devenv.secrets.client import BaoClient
from devenv.secrets.connection import credentials_path, dev_credentials, openbao_session
from devenv.secrets.dev_values import KUBERNETES_ADDRESSES, save_credentials
from devenv.tools.docker import Docker
from devenv.tools.kubectl import Kubectl
from devenv.topology.labels import COMPONENT_LABEL, component_selector
from devenv.topology.model import Topology

__all__ = [
    "PHASE",
    "SECRETS_COMPONENTS",
    "bootstrap_in_place",
    "keep_bootstrapped",
    "openbao_instance",
    "restart_agents",
]

SECRETS_COMPONENTS = ("openbao", "openbao-agent-injector")
WEBHOOK = "openbao-agent-injector-cfg"


def _manifests(run: RunContext) -> list[Manifest]:
    return run.objects_of(SECRETS_COMPONENTS)


def openbao_instance(topology: Topology, kubectl: Kubectl) -> str:
    """Which OpenBao process holds the bootstrap. Dev mode keeps everything in
    memory: a new pod or a restarted container starts empty, so the phase (and its
    bootstrap) must run again. Empty before OpenBao exists."""
    openbao = topology.components["openbao"]
    try:
        pods = kubectl.list_objects(
            ["Pod"], namespace=openbao.namespace, selector=component_selector(openbao.name)
        )
    except ToolError:
        return ""
    instances = []
    for pod in pods:
        statuses = pod.get("status", {}).get("containerStatuses", [])
        restarts = " ".join(str(status.get("restartCount", 0)) for status in statuses)
        instances.append(f"{pod['metadata']['uid']}/{restarts}")
    return " ".join(instances)


def _ready_instance(topology: Topology, kubectl: Kubectl) -> str | None:
    """The OpenBao instance, once its one pod is ready to be bootstrapped."""
    instance = openbao_instance(topology, kubectl)
    if not instance or " " in instance:  # none yet, or a rollout with two pods
        return None
    found = workloads(kubectl).get("openbao")
    return instance if found is not None and is_ready(found) else None


def keep_bootstrapped(
    topology: Topology,
    context: str,
    *,
    report: Callable[[str], None],
    interval: float = 3.0,
) -> None:
    """Bootstrap OpenBao again each time its pod is replaced or restarted (dev mode
    starts empty, and every agent's login then fails): what Tilt's inner loop runs
    beside the stubs, until stopped."""
    kubectl = Kubectl(context)
    bootstrapped: str | None = None
    while True:
        try:
            instance = _ready_instance(topology, kubectl)
            if instance is not None and instance != bootstrapped:
                report(f"OpenBao {instance}: {_bootstrap_here(topology, kubectl, context)}")
                bootstrapped = instance
        except DevenvError as error:  # the next round tries again: OpenBao may be starting
            report(f"OpenBao: {error.message}; retrying")
        time.sleep(interval)


def bootstrap_in_place(topology: Topology, context: str) -> tuple[BootstrapReport, int]:
    """Bootstrap the cluster's OpenBao and hand the simulators their tokens; no pod
    is touched. The report, and how many simulators got a token."""
    _keep_unseal_key(topology, Kubectl(context))
    with openbao_session(topology, address=None, context=context) as client:
        result = bootstrap(client, topology, dev_credentials(topology), KUBERNETES_ADDRESSES)
        return result, _hand_tokens_to_simulators(client, topology, context)


def _bootstrap_here(topology: Topology, kubectl: Kubectl, context: str) -> str:
    """Bootstrap the cluster's OpenBao; on one that started empty, replace the pods
    whose agents hold the old one's tokens. What happened, in a few words."""
    result, simulators = bootstrap_in_place(topology, context)
    restarted = restart_agents(topology, kubectl) if result.fresh_openbao else 0
    handed = f", an OpenBao token for {simulators} simulator(s)" if simulators else ""
    return (
        f"bootstrap, {len(result.changed)} change(s),"
        f" {restarted} pod(s) restarted for new agent tokens{handed}"
    )


# Writes the token from stdin over the placeholder the simulators phase made: the
# simulator's own uid owns it, and the value never appears in an argument list.
_WRITE_FROM_STDIN = (
    "import sys; handle = open(sys.argv[1], 'w'); handle.write(sys.stdin.read()); handle.close()"
)


def _hand_tokens_to_simulators(client: BaoClient, topology: Topology, context: str) -> int:
    """A fresh token (its own policy: tenants' entries, read only) for each running
    simulator that checks signed calls; it re-reads the file when OpenBao refuses
    the one it holds (a restarted dev-mode OpenBao forgot every token)."""
    docker, handed = Docker(), 0
    for endpoint in simulated_endpoints(topology):
        config = simulator_config(topology, endpoint, context)
        container = simulator_container(topology, endpoint, context)
        if "tenant_credentials" not in config or docker.container_id(container) is None:
            continue
        docker.exec(
            container, ["python", "-c", _WRITE_FROM_STDIN, SIMULATOR_TOKEN_FILE],
            input_text=simulator_token(client, endpoint),
        )  # fmt: skip
        handed += 1
    return handed


def _inputs(run: RunContext) -> str:
    return digest(
        _manifests(run),
        run.topology.spec.model_dump(mode="json")["secrets"],
        {c.name: c.secrets for c in run.topology.components.values()},
        openbao_instance(run.topology, run.kubectl),
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
    poll_phase(
        run, "openbao", lambda: _webhook_ca_set(run), interval=1,
        problem="the injector never set its webhook's CA bundle",
        next_command=f"devenv logs openbao-agent-injector --context {run.context}",
    )  # fmt: skip
    return f"injector ready, {_bootstrap_here(run.topology, run.kubectl, run.context)}"


def restart_agents(topology: Topology, kubectl: Kubectl) -> int:
    """Replace the pods whose agents hold tokens of an OpenBao that is gone (dev mode
    starts empty): their agents would keep failing until their retries ran out,
    while the files they had already written still looked right. Their
    Deployments make new pods, whose agents log in afresh. Returns how many."""
    injected: dict[str, list[str]] = {}
    for component in topology.components.values():
        if component.is_stub and topology.injected_secrets(component):
            injected.setdefault(component.namespace, []).append(component.name)
    deleted = 0
    for namespace, names in injected.items():
        result = kubectl.run(
            "delete", "pods", "-n", namespace, "--wait=false",
            "-l", f"{COMPONENT_LABEL} in ({','.join(sorted(names))})",
            timeout=60,
        )  # fmt: skip
        deleted += result.stdout.count(" deleted")
    return deleted


_UNSEAL_KEY = re.compile(r"Unseal Key:\s*(\S+)")


def _keep_unseal_key(topology: Topology, kubectl: Kubectl) -> None:
    """Dev mode prints a fresh unseal key at each start: keep it in the 0600 state
    file (devenv's output never shows it: see devenv.secrets.redaction)."""
    openbao = topology.components["openbao"]
    log = kubectl.run(
        "logs", "-n", openbao.namespace, f"deployment/{openbao.name}", "-c", "openbao",
        "--tail=200", check=False,
    ).stdout  # fmt: skip
    found = _UNSEAL_KEY.search(log)
    credentials = dev_credentials(topology)
    if found and found.group(1) != credentials.openbao_unseal_key:
        save_credentials(
            credentials_path(topology), replace(credentials, openbao_unseal_key=found.group(1))
        )


PHASE = Phase("openbao", _execute, _inputs, _manifests, needs=("secrets", "images", "simulators"))
