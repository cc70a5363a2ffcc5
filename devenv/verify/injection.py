"""`devenv secrets check`: is every secret where the topology says, as OpenBao has it?

The injector's webhook fails open (failurePolicy Ignore, as the chart ships
it), so a pod can come up without its agent. That is a failure here, never
something to pass over.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from devenv.errors import ToolError
from devenv.secrets.client import BaoClient
from devenv.secrets.files import KV_MOUNT, secret_file_content
from devenv.tools.kubectl import (
    AGENT_CONTAINER,
    AGENT_INIT_CONTAINER,
    Kubectl,
    container_names,
    pod_proxy_path,
)
from devenv.topology.model import ComponentSpec, Topology

__all__ = [
    "InjectionResult",
    "check_injection",
    "expected_hashes",
]


@dataclass(frozen=True)
class InjectionResult:
    component: str
    pod: str
    problems: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.problems


def expected_hashes(client: BaoClient, topology: Topology) -> dict[str, tuple[str, int]]:
    """secret name -> (short content hash of the file the agent writes, version)."""
    expected = {}
    for name, secret in topology.secrets.items():
        if secret.injection != "sidecar":
            continue
        current = client.read_kv(KV_MOUNT, secret.path)
        if current is None:
            continue
        data, version = current
        digest = hashlib.sha256(secret_file_content(data, version).encode()).hexdigest()[:12]
        expected[name] = (digest, version)
    return expected


def evaluate_pod(
    topology: Topology,
    component: ComponentSpec,
    pod: Mapping[str, Any],
    secrets_view: Mapping[str, Any] | None,
    expected: Mapping[str, tuple[str, int]],
) -> tuple[str, ...]:
    """Problems with one pod (empty: all good). Pure: the caller fetched the data."""
    problems = []
    if AGENT_CONTAINER not in container_names(dict(pod)):
        problems.append(
            "no vault-agent container: the pod came up without injection"
            " (the webhook fails open; check the injector, then delete the pod)"
        )
    if AGENT_INIT_CONTAINER not in container_names(dict(pod), "initContainers"):
        problems.append("no vault-agent-init container: secrets were not there at start")
    if secrets_view is None:
        problems.append("its /secrets endpoint did not answer")
        return tuple(problems)
    files = {entry["name"]: entry for entry in secrets_view.get("secrets", [])}
    for name in topology.injected_secrets(component):
        entry = files.get(name)
        if entry is None or not entry.get("present"):
            problems.append(f"/vault/secrets/{name} is missing or empty")
            continue
        if name not in expected:
            problems.append(f"/vault/secrets/{name}: OpenBao has no such secret to compare with")
            continue
        digest, version = expected[name]
        if entry.get("sha256") != digest:
            problems.append(
                f"/vault/secrets/{name} is version {entry.get('version')} with hash"
                f" {entry.get('sha256')}; OpenBao has version {version} (hash {digest})"
            )
    return tuple(problems)


def check_injection(
    topology: Topology, kubectl: Kubectl, expected: Mapping[str, tuple[str, int]]
) -> list[InjectionResult]:
    results = []
    for component in topology.components.values():
        if not topology.injected_secrets(component):
            continue
        pods = kubectl.get_json(
            "pods", "-n", component.namespace, "-l", f"app.kubernetes.io/name={component.name}"
        ).get("items", [])
        if not pods:
            results.append(InjectionResult(component.name, "-", ("no pod is running",)))
            continue
        for pod in pods:
            name = pod["metadata"]["name"]
            port = component.primary_port.port
            path = pod_proxy_path(
                component.namespace, name, port, "/secrets", https=component.probe_scheme == "HTTPS"
            )
            try:
                view = json.loads(kubectl.raw(path))
            except (ValueError, ToolError):
                view = None  # reported by evaluate_pod
            results.append(
                InjectionResult(
                    component.name, name, evaluate_pod(topology, component, pod, view, expected)
                )
            )
    return results
