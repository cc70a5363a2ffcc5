"""The live environment as the integration suite sees it: pods, probes, logs."""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from devenv.render.simulators import simulator_container
from devenv.tools.docker import Docker
from devenv.tools.kubectl import Kubectl, pod_proxy_path
from devenv.tools.process import run
from devenv.topology.model import ComponentSpec, Topology

# Listeners on the cluster's Docker network: one for the internet, and one for a
# private address on 443 that cloud-API egress must not reach (only the simulator).
EXTERNAL_CONTAINERS = {"internet": (80, 443), "private-host": (443,)}
NODE_NETWORK_HOST = "node-network-host"
# From a host on the node network that is not a node: a route to the pods through
# a node, then one TCP connect per target ("1" open, "0" blocked).
_CONNECT_ALL = """
ip route replace "$1" via "$2"
shift 2
for target in "$@"; do
  if timeout 1.5 bash -c "</dev/tcp/${target%:*}/${target#*:}" 2>/dev/null; then
    echo 1
  else
    echo 0
  fi
done
"""
_LISTENER = (
    "import socket, threading, time\n"
    "def serve(port):\n"
    "    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n"
    "    s.bind(('0.0.0.0', port)); s.listen(64)\n"
    "    while True: s.accept()[0].close()\n"
    "for p in PORTS: threading.Thread(target=serve, args=(p,), daemon=True).start()\n"
    "time.sleep(10**9)\n"
)


@dataclass
class Live:
    topology: Topology
    context: str

    @property
    def kubectl(self) -> Kubectl:
        return Kubectl(self.context)

    def pods(self, component: ComponentSpec) -> list[dict[str, Any]]:
        items = self.kubectl.get_json(
            "pods", "-n", component.namespace, "-l", f"app.kubernetes.io/name={component.name}"
        ).get("items", [])
        return [p for p in items if not p["metadata"].get("deletionTimestamp")]

    def is_ready(self, name: str) -> bool:
        """The component has pods (none being deleted) and every one is Ready."""
        pods = self.pods(self.topology.components[name])
        return bool(pods) and all(
            any(
                c["type"] == "Ready" and c["status"] == "True"
                for c in p["status"].get("conditions", [])
            )
            for p in pods
        )

    def wait_ready(self, names: Sequence[str], *, ready: bool = True, timeout: float) -> float:
        """Seconds until every one of ``names`` is (or is not) ready; fails at ``timeout``."""
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            if all(self.is_ready(name) == ready for name in names):
                return time.monotonic() - started
            time.sleep(1)
        state = "ready" if ready else "not ready"
        lagging = [name for name in names if self.is_ready(name) != ready]
        raise AssertionError(f"{', '.join(lagging)} did not become {state} within {timeout:.0f}s")

    def pod_name(self, component: ComponentSpec) -> str:
        pods = self.pods(component)
        if not pods:
            raise AssertionError(f"{component.name}: no pod")
        return str(pods[0]["metadata"]["name"])

    def get(self, component: ComponentSpec, path: str) -> tuple[int, dict[str, Any] | str]:
        """GET a pod's port through the API server's proxy: (status, body)."""
        proxy = pod_proxy_path(
            component.namespace, self.pod_name(component), component.primary_port.port, path,
            https=component.probe_scheme == "HTTPS",
        )  # fmt: skip
        result = run(self.kubectl.argv("get", "--raw", proxy), check=False, timeout=20)
        if result.returncode == 0:
            return 200, _json_or_text(result.stdout)
        # kubectl prints the pod's error body for 5xx; keep the status for the caller.
        status = 503 if "503" in result.stderr or "ServiceUnavailable" in result.stderr else 0
        return status, result.stderr.strip()

    def exec_python(self, component: ComponentSpec, args: Sequence[str], stdin: str = "") -> str:
        argv = self.kubectl.argv(
            "exec", "-i", "-n", component.namespace, self.pod_name(component), "-c", "stub",
            "--", "python", *args,
        )  # fmt: skip
        return run(argv, input_text=stdin, timeout=60).stdout

    def probe_row(
        self, component: ComponentSpec, targets: Sequence[tuple[str, int]], timeout: float = 1.5
    ) -> list[bool]:
        out = self.exec_python(
            component, ["-m", "finops_stub.probe", "--batch", "--timeout", str(timeout)],
            stdin=json.dumps(list(targets)),
        )  # fmt: skip
        return [bool(v) for v in json.loads(out)]

    def probe_rows(
        self, rows: Iterable[tuple[ComponentSpec, Sequence[tuple[str, int]]]], parallel: int = 6
    ) -> dict[str, list[bool]]:
        rows = list(rows)
        with ThreadPoolExecutor(max_workers=parallel) as pool:
            results = pool.map(lambda row: self.probe_row(row[0], row[1]), rows)
            return {
                component.name: result for (component, _), result in zip(rows, results, strict=True)
            }

    def simulator_logs(self, endpoint: str) -> str:
        container = simulator_container(self.topology, endpoint, self.context)
        return Docker().logs(container)

    def logs(self, component: ComponentSpec) -> str:
        argv = self.kubectl.argv(
            "logs", "-n", component.namespace, self.pod_name(component), "-c", "stub", "--tail=2000"
        )
        return run(argv, timeout=60).stdout


def _json_or_text(text: str) -> dict[str, Any] | str:
    try:
        value = json.loads(text)
    except ValueError:
        return text
    return value if isinstance(value, dict) else text


def start_external_endpoints(network: str, image: str, prefix: str) -> dict[str, str]:
    """Containers on the cluster's Docker network standing in for the internet and
    the cloud APIs, listening on their ports: {endpoint: IP address}."""
    docker = Docker()
    addresses = {}
    for name, ports in EXTERNAL_CONTAINERS.items():
        container = f"{prefix}-{name}"
        script = _LISTENER.replace("PORTS", repr(list(ports)))
        docker.run_detached(
            container, image, network=network, options=["--user", "0", "--entrypoint", "python"],
            command=["-c", script],
        )  # fmt: skip
        addresses[name] = docker.address(container, network)
    time.sleep(1)
    return addresses


def stop_external_endpoints(prefix: str) -> None:
    docker = Docker()
    for name in [*EXTERNAL_CONTAINERS, NODE_NETWORK_HOST]:
        docker.remove(f"{prefix}-{name}")


def start_node_network_host(network: str, node_container: str, prefix: str) -> str:
    """A container on the nodes' Docker network that is not a node (like the registry
    or a simulator), from the node image (it has `ip` and bash): its address."""
    docker = Docker()
    container = f"{prefix}-{NODE_NETWORK_HOST}"
    image = run(
        ["docker", "inspect", "-f", "{{.Config.Image}}", node_container], timeout=30
    ).stdout.strip()
    docker.run_detached(
        container, image, network=network,
        options=["--cap-add", "NET_ADMIN", "--entrypoint", "sleep"], command=["900"],
    )  # fmt: skip
    return docker.address(container, network)


def probe_from_node_network_host(
    prefix: str, pod_network: str, via_node: str, targets: Sequence[tuple[str, int]]
) -> list[bool]:
    """Open or blocked, per target, from the node-network host."""
    argv = ["bash", "-c", _CONNECT_ALL, "connect", pod_network, via_node]
    out = Docker().exec(f"{prefix}-{NODE_NETWORK_HOST}", [*argv, *(f"{a}:{p}" for a, p in targets)])
    return [line == "1" for line in (out or "").split()]
