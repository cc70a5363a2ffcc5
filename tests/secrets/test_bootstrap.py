"""Bootstrap, least privilege, templates, rotation: a real OpenBao server and agent."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from devenv.errors import ConfigError
from devenv.secrets.bootstrap import (
    BootstrapReport,
    KubernetesAuth,
    bootstrap,
    policy_document,
)
from devenv.secrets.client import BaoClient, OpenBaoError
from devenv.secrets.dev_values import KUBERNETES_ADDRESSES, DevCredentials
from devenv.secrets.files import KV_MOUNT, secret_file_content
from devenv.secrets.inventory import list_secrets, rotate, secret_entries
from devenv.topology.model import Topology
from tests.secrets.conftest import Agent, BaoServer
from tests.stub_processes import RunningStub, wait_until

Bootstrap = Callable[[BaoClient], BootstrapReport]


@pytest.fixture
def run_bootstrap(
    topology: Topology, credentials: DevCredentials, outside_cluster: KubernetesAuth
) -> Bootstrap:
    """Bootstrap as devenv does it, for an OpenBao outside any cluster."""

    def run(client: BaoClient) -> BootstrapReport:
        return bootstrap(client, topology, credentials, KUBERNETES_ADDRESSES, outside_cluster)

    return run


def snapshot(client: BaoClient) -> dict[str, Any]:
    """Everything the bootstrap owns, to compare two runs."""
    policies = sorted(client.request("LIST", "sys/policies/acl")["data"]["keys"])  # type: ignore[index]
    roles = sorted(client.request("LIST", "auth/kubernetes/role")["data"]["keys"])  # type: ignore[index]
    secrets = {}
    folders = ["finops/"]
    while folders:  # every entry under finops/, tenants' included
        folder = folders.pop()
        for key in client.request("LIST", f"{KV_MOUNT}/metadata/{folder}")["data"]["keys"]:  # type: ignore[index]
            if key.endswith("/"):
                folders.append(f"{folder}{key}")
                continue
            data, version = client.read_kv(KV_MOUNT, f"{folder}{key}")  # type: ignore[misc]
            secrets[f"{folder}{key}".removeprefix("finops/")] = (
                version,
                hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest(),
            )
    return {
        "mount": client.mounts()[f"{KV_MOUNT}/"]["options"],
        "auth": sorted(client.auth_methods()),
        "policies": {
            p: client.request("GET", f"sys/policies/acl/{p}")["data"]["policy"] for p in policies
        },  # type: ignore[index]
        "roles": {r: client.request("GET", f"auth/kubernetes/role/{r}")["data"] for r in roles},  # type: ignore[index]
        "secrets": secrets,
    }


def test_bootstrap_twice_gives_the_same_state(
    bao_server: BaoServer,
    topology: Topology,
    run_bootstrap: Bootstrap,
) -> None:
    with bao_server.client() as client:
        first = run_bootstrap(client)
        assert "role finops-cost-agent" in first.changed
        state = snapshot(client)
        second = run_bootstrap(client)
        assert second.changed == []
        assert snapshot(client) == state
    assert state["mount"]["version"] == "2"
    assert "kubernetes/" in state["auth"]
    assert state["roles"]["finops-cost-agent"]["bound_service_account_names"] == ["cost-agent"]
    assert state["roles"]["finops-cost-agent"]["bound_service_account_namespaces"] == [
        "finops-agents"
    ]
    assert set(state["secrets"]) == {
        entry.path.removeprefix("finops/") for entry in secret_entries(topology)
    }
    assert "tenants/acme/aws" in state["secrets"]


def test_each_policy_reads_exactly_its_topology_paths(
    bao_server: BaoServer,
    topology: Topology,
    run_bootstrap: Bootstrap,
) -> None:
    with bao_server.client() as client:
        run_bootstrap(client)
    for component in topology.components.values():
        if not component.secrets:
            continue
        token = bao_server.token_for(f"finops-{component.name}")
        with BaoClient(bao_server.address, token) as own:
            for entry in secret_entries(topology):
                mine = entry.secret in component.secrets and (
                    entry.cloud is None or entry.cloud in component.clouds
                )
                if mine:
                    assert own.read_kv(KV_MOUNT, entry.path) is not None, (component.name, entry)
                else:
                    with pytest.raises(OpenBaoError, match="HTTP 403"):
                        own.read_kv(KV_MOUNT, entry.path)
            with pytest.raises(OpenBaoError, match="HTTP 403"):
                own.write_kv(KV_MOUNT, topology.secrets[component.secrets[0]].path, {"x": "y"})
    assert policy_document(topology, topology.components["cost-agent"]).count("capabilities") == 2


def test_a_rerun_keeps_rotated_values(
    bao_server: BaoServer,
    topology: Topology,
    run_bootstrap: Bootstrap,
) -> None:
    with bao_server.client() as client:
        run_bootstrap(client)
        with pytest.raises(ConfigError, match="unknown secret 'nope'"):
            rotate(client, topology, ["llm-api-keys", "nope"])  # writes nothing
        versions = rotate(client, topology, ["llm-api-keys"])
        assert versions == {"llm-api-keys": 2}
        rotated = client.read_kv(KV_MOUNT, "finops/llm")
        run_bootstrap(client)
        assert client.read_kv(KV_MOUNT, "finops/llm") == rotated
        statuses = {s.name: s for s in list_secrets(client, topology)}
    assert statuses["llm-api-keys"].version == 2
    assert "cost-agent" in statuses["llm-api-keys"].readers


def test_tenant_credentials_are_one_entry_per_tenant_and_cloud(
    bao_server: BaoServer,
    topology: Topology,
    run_bootstrap: Bootstrap,
) -> None:
    with bao_server.client() as client:
        run_bootstrap(client)
        before = client.read_kv(KV_MOUNT, "finops/tenants/acme/aws")
        versions = rotate(client, topology, ["finops/tenants/acme/aws"])
        assert versions == {"tenant-cloud-credentials/acme/aws": 2}
        after = client.read_kv(KV_MOUNT, "finops/tenants/acme/aws")
        statuses = {s.name: s for s in list_secrets(client, topology)}
    assert before is not None
    assert after is not None
    assert set(before[0]) == set(after[0]) == {"access_key_id", "secret_access_key"}
    assert before[0]["secret_access_key"] != after[0]["secret_access_key"]
    assert statuses["tenant-cloud-credentials/acme/aws"].version == 2
    assert statuses["tenant-cloud-credentials/globex/azure"].readers == (
        "azure-mcp", "remediation-mcp",
    )  # fmt: skip
    # The simulators' policy reads every tenant's entries and nothing else.
    token = bao_server.token_for("finops-simulator-cloud-apis")
    with BaoClient(bao_server.address, token) as simulator:
        assert simulator.read_kv(KV_MOUNT, "finops/tenants/initech/gcp") is not None
        with pytest.raises(OpenBaoError, match="HTTP 403"):
            simulator.read_kv(KV_MOUNT, "finops/llm")


def _file_version(path: Path) -> int | None:
    try:
        return int(json.loads(path.read_text())["version"])
    except (OSError, ValueError, KeyError):
        return None


def test_agent_renders_templates_and_rotation_reaches_file_and_stub(
    bao_server: BaoServer,
    topology: Topology,
    run_bootstrap: Bootstrap,
    start_agent: Callable[..., Agent],
    start_stub: Callable[..., RunningStub],
) -> None:
    with bao_server.client() as client:
        run_bootstrap(client)
        component = topology.components["cost-agent"]
        secrets = {name: topology.secrets[name].path for name in component.secrets}
        agent = start_agent(bao_server, bao_server.token_for("finops-cost-agent"), secrets)
        for name in secrets:
            wait_until(
                lambda name=name: _file_version(agent.directory / name) == 1,
                timeout=20, what=f"the agent to render {name}", hint=str(agent.log),
            )  # fmt: skip
        for name, path in secrets.items():
            data, version = client.read_kv(KV_MOUNT, path)  # type: ignore[misc]
            content = (agent.directory / name).read_bytes()
            assert content == secret_file_content(data, version).encode()
        stub = start_stub("cost-agent", secrets=tuple(secrets), secrets_dir=agent.directory)
        before = {s["name"]: s for s in httpx.get(f"{stub.url}/secrets").json()["secrets"]}
        assert before["llm-api-keys"]["version"] == 1
        rotated_at = time.monotonic()
        rotate(client, topology, ["finops/llm"])

    def stub_sees_version_2() -> bool:
        view = {s["name"]: s for s in httpx.get(f"{stub.url}/secrets").json()["secrets"]}
        return bool(view["llm-api-keys"]["version"] == 2)

    wait_until(stub_sees_version_2, timeout=15, what="the rotation in the stub's /secrets")
    took = time.monotonic() - rotated_at
    assert stub.process.poll() is None  # no restart
    assert _file_version(agent.directory / "llm-api-keys") == 2
    assert took < 10, f"render interval 1 s, but the rotation took {took:.1f}s"


def test_bootstrap_removes_only_the_roles_it_made(
    bao_server: BaoServer, topology: Topology, run_bootstrap: Bootstrap
) -> None:
    with bao_server.client() as client:
        run_bootstrap(client)
        payload = {"bound_service_account_names": ["x"], "bound_service_account_namespaces": ["y"]}
        client.request("POST", "auth/kubernetes/role/someone-elses", payload)  # not devenv's
        client.request("POST", "auth/kubernetes/role/finops-removed-component", payload)
        report = run_bootstrap(client)
        roles = client.request("LIST", "auth/kubernetes/role")["data"]["keys"]  # type: ignore[index]
    assert "role finops-removed-component" in report.changed
    assert "someone-elses" in roles
    assert "finops-removed-component" not in roles
