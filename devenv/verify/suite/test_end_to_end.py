"""End to end: one request over HTTPS from the host (through the kind port
mapping, or a port-forward on another cluster), across the agent layers, with
one request id in every hop's log."""

from __future__ import annotations

import contextlib
import ssl
import time
import uuid
from collections.abc import Iterator

import httpx

from devenv.apply.addresses import simulator_addresses
from devenv.render.kind_config import GATEWAY_HOST_PORT
from devenv.secrets.cluster_ca import cluster_ca_pem
from devenv.tools.kind import kind_context
from devenv.verify.suite._live import Live

# Ends at the cloud-API simulator, outside the cluster (devenv up runs it).
ROUTE = ["ag-ui-server", "coordinator-agent", "cost-agent", "aws-mcp", "cloud-apis"]


@contextlib.contextmanager
def _gateway_port(live: Live) -> Iterator[int]:
    """Where the host reaches the gateway: devenv's kind cluster maps a host port to
    it; any other cluster is reached through a port-forward to its Service."""
    if live.context == kind_context(live.topology.cluster.name):
        yield GATEWAY_HOST_PORT
        return
    gateway = live.topology.components["api-gateway"]
    service_port = gateway.primary_port.exposed_port
    with live.kubectl.port_forward(gateway.namespace, f"svc/{gateway.name}", service_port) as port:
        yield port


def test_one_request_through_every_layer(live: Live) -> None:
    request_id = f"it-{uuid.uuid4().hex[:12]}"
    # The gateway's certificate comes from the dev CA cert-manager runs, verified here;
    # the last hop (aws-mcp -> the simulator) is verified with devenv's CA in the pod.
    trust = ssl.create_default_context(cadata=cluster_ca_pem(live.topology, live.context))
    # The cloud-API simulator runs beside kind clusters only; elsewhere the route
    # ends at the MCP server that would call it.
    has_simulator = "cloud-apis" in simulator_addresses(live.topology, live.context)
    route = ROUTE if has_simulator else ROUTE[:-1]
    with _gateway_port(live) as port:
        answer = httpx.post(
            f"https://127.0.0.1:{port}/call",
            json={"route": route},
            headers={"X-Request-ID": request_id},
            verify=trust,
            timeout=20,
        )
    assert answer.status_code == 200, answer.text
    hop, seen = answer.json(), []
    while hop:
        seen.append(hop["component"])
        assert hop["request_id"] == request_id, hop
        hop = (hop.get("hops") or [None])[0]
    assert seen == ["api-gateway", *route]
    time.sleep(1)
    for name in seen:
        if name in live.topology.components:
            logs = live.logs(live.topology.components[name])
        else:  # the simulator runs outside the cluster
            logs = live.simulator_logs(name)
        assert request_id in logs, f"{name}: no log line with request id {request_id}"
