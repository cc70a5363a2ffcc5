"""Tenant cloud credentials read per request (§6.2 row 1), live: a tenant's call
through every layer is signed with its current credential, which the cloud-API
simulator checks against OpenBao; least privilege per cloud; an unknown tenant
is a 404 and OpenBao down a 503 that names it, both through the chain.

Runs last of the suite (it stops OpenBao) and leaves the environment as it found it.
"""

from __future__ import annotations

import json
import ssl
import time
from collections.abc import Callable

import httpx
import pytest

from devenv.apply.addresses import simulator_addresses
from devenv.apply.phases.openbao import bootstrap_in_place, restart_agents
from devenv.render.simulators import (
    OPENBAO_SIMULATOR_NODE_PORT,
    kind_cluster_of,
    simulator_container,
)
from devenv.secrets.cluster_ca import cluster_ca_pem
from devenv.secrets.connection import openbao_session
from devenv.secrets.files import KV_MOUNT
from devenv.secrets.rotation import rotate_and_keep
from devenv.tools.docker import KIND_NETWORK, Docker
from devenv.tools.process import run
from devenv.verify.suite._live import Live
from devenv.verify.suite.test_end_to_end import ROUTE, _gateway_port

TENANT = "acme"
ENTRY = "finops/tenants/acme/aws"
MCP = "aws-mcp"
RECOVERY_SECONDS = 60  # from the bootstrap of the returned OpenBao to a 200
# From inside aws-mcp, with its own settings and token: which clouds it may read.
_READ_EACH_CLOUD = """
import asyncio, json
from finops_stub.config import load_config
from finops_stub.tenants import CredentialForbidden, OpenBaoRuntime
async def main():
    client, codes = OpenBaoRuntime(load_config().tenant_credentials), {}
    for cloud in ("aws", "azure", "gcp"):
        try:
            await client.read("acme", cloud)
            codes[cloud] = 200
        except CredentialForbidden:
            codes[cloud] = 403
    await client.aclose()
    print(json.dumps(codes))
asyncio.run(main())
"""


@pytest.fixture
def simulated(live: Live) -> None:
    if "cloud-apis" not in simulator_addresses(live.topology, live.context):
        pytest.skip(
            "the cloud-API simulator runs beside kind clusters only: run `devenv"
            " test-integration` against a kind cluster for the tenant credentials"
        )


def _ask(live: Live, tenant: str) -> httpx.Response:
    trust = ssl.create_default_context(cadata=cluster_ca_pem(live.topology, live.context))
    with _gateway_port(live) as port:
        return httpx.post(
            f"https://127.0.0.1:{port}/call",
            json={"route": ROUTE, "tenant": tenant},
            verify=trust,
            timeout=20,
        )


def _last_hop(answer: httpx.Response) -> dict[str, object]:
    hop = answer.json()
    while hop.get("hops"):
        hop = hop["hops"][0]
    return dict(hop)


def _credential_version(answer: httpx.Response) -> int:
    data = _last_hop(answer)["data"]
    assert isinstance(data, dict), answer.text
    assert data["tenant"] == TENANT
    return int(data["credential_version"])


@pytest.mark.usefixtures("simulated")
def test_a_rotated_credential_is_used_by_the_very_next_request(
    live: Live, record_property: Callable[[str, object], None]
) -> None:
    first = _ask(live, TENANT)
    assert first.status_code == 200, first.text
    before = _credential_version(first)
    with openbao_session(live.topology, address=None, context=live.context) as client:
        rotate_and_keep(client, live.topology, [ENTRY])
        rotated_at = time.monotonic()
        current = client.read_kv(KV_MOUNT, ENTRY)
    second = _ask(live, TENANT)  # no render interval: read at run time
    took = time.monotonic() - rotated_at
    assert second.status_code == 200, second.text
    assert _credential_version(second) == before + 1
    assert current is not None
    for value in current[0].values():  # the version travels, never the value
        assert str(value) not in first.text + second.text
    record_property("credential_version", before + 1)
    record_property("rotation_to_next_answer_seconds", round(took, 2))


def test_each_cloud_mcp_reads_its_own_cloud_only(live: Live) -> None:
    component = live.topology.components[MCP]
    out = live.exec_python(component, ["-c", _READ_EACH_CLOUD])
    assert json.loads(out.strip().splitlines()[-1]) == {"aws": 200, "azure": 403, "gcp": 403}


@pytest.mark.usefixtures("simulated")
def test_an_unknown_tenant_is_a_404_through_the_chain(live: Live) -> None:
    answer = _ask(live, "no-such-tenant")
    assert answer.status_code == 404, answer.text
    assert "no aws credential for tenant no-such-tenant" in answer.json()["error"]


@pytest.mark.usefixtures("simulated")
def test_outside_the_cluster_only_the_simulator_reaches_openbao(live: Live) -> None:
    docker = Docker()
    node = f"{kind_cluster_of(live.topology, live.context)}-control-plane"
    # The stub image's TCP probe: exit 0 when the connection opens.
    probe = ["python", "-m", "finops_stub.probe", node, str(OPENBAO_SIMULATOR_NODE_PORT),
             "--timeout", "3"]  # fmt: skip
    simulator = simulator_container(live.topology, "cloud-apis", live.context)
    assert docker.exec(simulator, probe, check=False) is not None
    # Another container on kind's network, from the same image: refused by the policy.
    stranger = f"devenv-it-stranger-{int(time.time())}"
    image = str((docker.container(simulator) or {})["Config"]["Image"])
    try:
        docker.run_detached(
            stranger, image, network=KIND_NETWORK,
            options=["--entrypoint", "python"], command=["-c", "import time; time.sleep(120)"],
        )  # fmt: skip
        assert docker.exec(stranger, probe, check=False) is None
    finally:
        docker.remove(stranger)


@pytest.mark.usefixtures("simulated")
def test_openbao_down_is_a_503_naming_it_and_the_same_pods_recover(
    live: Live, record_property: Callable[[str, object], None]
) -> None:
    openbao = live.topology.components["openbao"]
    mcp_pods = {p["metadata"]["uid"] for p in live.pods(live.topology.components[MCP])}
    scale = ["scale", "-n", openbao.namespace, f"deployment/{openbao.name}"]
    run(live.kubectl.argv(*scale, "--replicas=0"), timeout=60)
    try:
        live.wait_ready(["openbao"], ready=False, timeout=90)
        started = time.monotonic()
        down = _ask(live, TENANT)
        answered_in = time.monotonic() - started
        assert down.status_code == 503, down.text
        assert "OpenBao" in down.json()["error"], down.text
    finally:
        run(live.kubectl.argv(*scale, "--replicas=1"), timeout=60)
    try:
        live.wait_ready(["openbao"], timeout=180)
        # Dev mode came back empty: bootstrap it as `up` (or Tilt) does, without
        # touching a pod. The MCP logs in again on its own.
        returned = time.monotonic()
        bootstrap_in_place(live.topology, live.context)
        # The new pod is ready, yet the node may still be wiring its address (the
        # Service's endpoints, the enforcer's rules): asked again until it answers.
        again = _ask(live, TENANT)
        while again.status_code != 200 and time.monotonic() - returned < RECOVERY_SECONDS:
            time.sleep(1)
            again = _ask(live, TENANT)
        assert again.status_code == 200, again.text
        recovered_in = time.monotonic() - returned
        assert {p["metadata"]["uid"] for p in live.pods(live.topology.components[MCP])} == mcp_pods
    finally:
        # The sidecar agents hold the old OpenBao's tokens: new pods, as `up` makes.
        restart_agents(live.topology, live.kubectl)
        live.wait_ready(list(live.topology.components), timeout=240)
    record_property("openbao_down_answer_seconds", round(answered_in, 2))
    record_property("recovered_after_bootstrap_seconds", round(recovered_in, 2))
