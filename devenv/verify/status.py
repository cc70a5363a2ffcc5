"""`devenv status` and `devenv logs`: what runs, seen through the API server."""

from __future__ import annotations

import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from typing import Any

from devenv.errors import ToolError
from devenv.secrets.redaction import redactor
from devenv.tools.kubectl import AGENT_CONTAINER, Kubectl, container_names, pod_proxy_path
from devenv.tools.process import spawn
from devenv.topology.model import ComponentSpec, Topology

__all__ = ["ComponentStatus", "component_status", "stream_logs"]

# Health checks go through the API server, one `kubectl get --raw` each (~80 ms);
# 8 side by side take about 3 rounds for the 23 HTTP components instead of 23.
HEALTH_CHECKS_AT_ONCE = 8


@dataclass(frozen=True)
class ComponentStatus:
    component: str
    namespace: str
    zone: str
    ready: str  # "1/1"
    is_ready: bool
    restarts: int
    health: str  # "200", "unreachable", "-"
    secrets: str  # "injected", "MISSING agent", "-"

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _health(kubectl: Kubectl, component: ComponentSpec, pod: str) -> str:
    if not component.is_stub and component.image != "openbao":
        return "-"  # PostgreSQL and Redis have no HTTP health endpoint
    path = "/v1/sys/health" if component.image == "openbao" else "/health"
    proxy = pod_proxy_path(
        component.namespace, pod, component.primary_port.port, path,
        https=component.probe_scheme == "HTTPS",
    )  # fmt: skip
    try:
        kubectl.raw(proxy, timeout=5)
    except ToolError:
        return "unreachable"
    return "200"


def component_status(topology: Topology, context: str) -> list[ComponentStatus]:
    kubectl = Kubectl(context)
    pods: dict[str, list[dict[str, Any]]] = {}
    for item in kubectl.get_json("pods", "-A", "-l", "app.kubernetes.io/part-of=finops").get(
        "items", []
    ):
        name = item["metadata"].get("labels", {}).get("app.kubernetes.io/name")
        if item.get("metadata", {}).get("deletionTimestamp"):
            continue
        pods.setdefault(name, []).append(item)

    def health_of(component: ComponentSpec) -> str:
        mine = pods.get(component.name)
        return _health(kubectl, component, mine[0]["metadata"]["name"]) if mine else "-"

    components = list(topology.components.values())
    with ThreadPoolExecutor(max_workers=HEALTH_CHECKS_AT_ONCE) as pool:
        health = list(pool.map(health_of, components))
    rows = []
    for component, component_health in zip(components, health, strict=True):
        mine = pods.get(component.name, [])
        ready = sum(
            all(s.get("ready") for s in p.get("status", {}).get("containerStatuses", []) or [{}])
            for p in mine
        )
        restarts = sum(
            s.get("restartCount", 0)
            for p in mine
            for s in p.get("status", {}).get("containerStatuses", []) or []
        )
        if not topology.injected_secrets(component):
            secrets = "-"
        elif mine and all(AGENT_CONTAINER in container_names(p) for p in mine):
            secrets = "injected"
        else:
            secrets = "MISSING agent"
        rows.append(
            ComponentStatus(
                component=component.name,
                namespace=component.namespace,
                zone=component.zone,
                ready=f"{ready}/{len(mine)}",
                is_ready=bool(mine) and ready == len(mine),
                restarts=restarts,
                health=component_health,
                secrets=secrets,
            )
        )
    return rows


def _main_container(component: ComponentSpec) -> str:
    if component.is_stub:
        return "stub"
    return {"timescaledb": "postgres", "vault-k8s": "sidecar-injector"}.get(
        component.image, component.image
    )


def stream_logs(topology: Topology, context: str, name: str, *, follow: bool, tail: int) -> None:
    component = topology.components[name]
    kind = "statefulset" if component.image == "timescaledb" else "deployment"
    argv = Kubectl(context).argv(
        "logs", "-n", component.namespace, f"{kind}/{name}", "-c", _main_container(component),
        f"--tail={tail}", *(["-f"] if follow else []),
    )  # fmt: skip
    redact = redactor()  # OpenBao's dev banner prints its unseal key and root token
    process = spawn(argv)
    assert process.stdout is not None  # noqa: S101 - spawn pipes stdout
    try:
        for line in process.stdout:
            sys.stdout.write(redact(line))
            sys.stdout.flush()
    finally:
        process.terminate()
    if process.wait() not in (0, -15):
        stderr = (process.stderr.read() if process.stderr else "").strip()
        last = stderr.splitlines()[-1] if stderr else "no output"
        raise ToolError(
            f"kubectl logs {name} failed: {last}",
            hint="is it deployed? `devenv status` shows what runs",
        )
