"""The cloud MCPs' runtime read of tenant credentials (§6.2 row 1), against a
real OpenBao dev server: a real login (JWT auth takes the same login body as
Kubernetes auth, and needs no API server), real leases, renewals and expiry,
real policies. Nothing is mocked."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from finops_stub.tenants import (
    CredentialForbidden,
    CredentialNotFound,
    OpenBaoRuntime,
    OpenBaoUnavailable,
    RuntimeSettings,
    sign,
    verify,
)

from tests.secrets.conftest import KV_MOUNT, ROOT_TOKEN, BaoServer
from tests.stub_processes import RunningStub

PREFIX = "finops/tenants"
AUDIENCE = "openbao"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class Issuer:
    """Signs service-account-like JWTs, as the API server does for a projected token."""

    def __init__(self) -> None:
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    @property
    def public_pem(self) -> str:
        public = self.key.public_key()
        pem = public.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return pem.decode()

    def token(self, subject: str) -> str:
        header = _b64(json.dumps({"alg": "RS256", "typ": "JWT"}).encode())
        now = int(time.time())
        claims = {"sub": subject, "aud": [AUDIENCE], "iat": now, "nbf": now, "exp": now + 600}
        body = _b64(json.dumps(claims).encode())
        signature = self.key.sign(f"{header}.{body}".encode(), padding.PKCS1v15(), hashes.SHA256())
        return f"{header}.{body}.{_b64(signature)}"


def _root(
    server: BaoServer, method: str, path: str, payload: dict[str, object] | None = None
) -> None:
    response = httpx.request(
        method, f"{server.address}/v1/{path}", headers={"X-Vault-Token": ROOT_TOKEN}, json=payload
    )
    assert response.status_code in (200, 204), response.text


def _write(server: BaoServer, tenant: str, cloud: str, fields: dict[str, str]) -> int:
    return server.client().write_kv(KV_MOUNT, f"{PREFIX}/{tenant}/{cloud}", fields)


def _stop(pid: int) -> None:
    """SIGSTOP, returning once the process is stopped: a Go server answers from any of
    its threads until the kernel has stopped them all (it then answers nothing)."""
    os.kill(pid, signal.SIGSTOP)
    deadline = time.monotonic() + 5
    while Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "T":
        assert time.monotonic() < deadline, "the process did not stop"
        time.sleep(0.01)


AWS = {"access_key_id": "AKIADEVACME", "secret_access_key": "acme-aws-secret-v1"}


@pytest.fixture
def issuer() -> Issuer:
    return Issuer()


@pytest.fixture
def jwt_auth(bao_server: BaoServer, issuer: Issuer) -> BaoServer:
    """JWT auth trusting ``issuer``; role aws-mcp reads tenants/+/aws only."""
    _root(bao_server, "POST", "sys/auth/jwt", {"type": "jwt"})
    _root(bao_server, "POST", "auth/jwt/config", {"jwt_validation_pubkeys": [issuer.public_pem]})
    policy = f'path "{KV_MOUNT}/data/{PREFIX}/+/aws" {{\n  capabilities = ["read"]\n}}\n'
    _root(bao_server, "PUT", "sys/policies/acl/finops-aws-mcp", {"policy": policy})
    _write(bao_server, "acme", "aws", AWS)
    _write(bao_server, "acme", "azure", {"client_id": "c", "client_secret": "acme-azure-secret"})
    return bao_server


def _role(server: BaoServer, ttl: int, max_ttl: int) -> None:
    _root(
        server,
        "POST",
        "auth/jwt/role/finops-aws-mcp",
        {
            "role_type": "jwt",
            "bound_audiences": [AUDIENCE],
            "user_claim": "sub",
            "token_policies": ["finops-aws-mcp"],
            "token_ttl": ttl,
            "token_max_ttl": max_ttl,
        },
    )


@pytest.fixture
def runtime(jwt_auth: BaoServer, issuer: Issuer, tmp_path: Path) -> RuntimeSettings:
    jwt_file = tmp_path / "token"
    jwt_file.write_text(issuer.token("system:serviceaccount:finops-mcp:aws-mcp"))
    return RuntimeSettings(
        address=jwt_auth.address,
        kv_mount=KV_MOUNT,
        path_prefix=PREFIX,
        auth_mount="jwt",
        role="finops-aws-mcp",
        jwt_file=jwt_file,
        timeout=1.0,
    )


async def _reads(settings: RuntimeSettings, *calls: tuple[str, str, float]) -> OpenBaoRuntime:
    """Each (tenant, cloud, seconds to wait first) read in turn; the client after."""
    async with OpenBaoRuntime(settings) as client:
        for tenant, cloud, pause in calls:
            await asyncio.sleep(pause)
            await client.read(tenant, cloud)
    return client


def test_reads_the_current_version_each_time_with_one_login(
    jwt_auth: BaoServer, runtime: RuntimeSettings
) -> None:
    _role(jwt_auth, ttl=600, max_ttl=1200)

    async def scenario() -> tuple[int, int, int]:
        async with OpenBaoRuntime(runtime) as client:
            first = await client.read("acme", "aws")
            rotated = _write(jwt_auth, "acme", "aws", {**AWS, "secret_access_key": "v2"})
            second = await client.read("acme", "aws")
            assert second.fields["secret_access_key"] == "v2"
            assert rotated == second.version
            return first.version, second.version, client.logins

    first, second, logins = asyncio.run(scenario())
    assert (second, logins) == (first + 1, 1)  # the very next read, one login


def test_the_token_is_renewed_at_two_thirds_of_its_lease(
    jwt_auth: BaoServer, runtime: RuntimeSettings
) -> None:
    _role(jwt_auth, ttl=3, max_ttl=60)
    client = asyncio.run(_reads(runtime, ("acme", "aws", 0), ("acme", "aws", 2.2)))
    assert (client.logins, client.renewals) == (1, 1)


def test_a_lease_that_ran_out_logs_in_again(jwt_auth: BaoServer, runtime: RuntimeSettings) -> None:
    _role(jwt_auth, ttl=2, max_ttl=2)  # not renewable past 2 s
    client = asyncio.run(_reads(runtime, ("acme", "aws", 0), ("acme", "aws", 2.5)))
    assert client.logins == 2


def test_a_token_openbao_forgot_is_replaced_by_a_new_login(
    jwt_auth: BaoServer, runtime: RuntimeSettings
) -> None:
    _role(jwt_auth, ttl=600, max_ttl=1200)

    async def scenario() -> int:
        async with OpenBaoRuntime(runtime) as client:
            await client.read("acme", "aws")
            token = await client.token()
            revoke = {"token": token}
            _root(jwt_auth, "POST", "auth/token/revoke", revoke)  # e.g. OpenBao restarted
            await client.read("acme", "aws")
            return client.logins

    assert asyncio.run(scenario()) == 2


def test_another_clouds_path_is_forbidden_and_an_unknown_tenant_not_found(
    jwt_auth: BaoServer, runtime: RuntimeSettings
) -> None:
    _role(jwt_auth, ttl=600, max_ttl=1200)
    with pytest.raises(CredentialForbidden, match="may not read"):
        asyncio.run(_reads(runtime, ("acme", "azure", 0)))
    with pytest.raises(CredentialNotFound, match="no aws credential for tenant nobody"):
        asyncio.run(_reads(runtime, ("nobody", "aws", 0)))
    with pytest.raises(CredentialNotFound, match="not a tenant id"):
        asyncio.run(_reads(runtime, ("../sys", "aws", 0)))


def test_openbao_stopped_fails_fast_and_a_read_works_again_once_it_answers(
    jwt_auth: BaoServer, runtime: RuntimeSettings
) -> None:
    _role(jwt_auth, ttl=600, max_ttl=1200)

    async def scenario() -> float:
        async with OpenBaoRuntime(runtime) as client:
            await client.read("acme", "aws")
            _stop(jwt_auth.process.pid)  # answers nothing, like a hung pod
            try:
                started = time.monotonic()
                with pytest.raises(OpenBaoUnavailable, match=r"OpenBao at \S+ does not answer"):
                    await client.read("acme", "aws")
                failed_after = time.monotonic() - started
            finally:
                os.kill(jwt_auth.process.pid, signal.SIGCONT)
            assert (await client.read("acme", "aws")).version == 1
            return failed_after

    assert asyncio.run(scenario()) < 2.0  # the client's timeout, not a hang


def test_a_signature_holds_for_the_current_version_only(
    jwt_auth: BaoServer, runtime: RuntimeSettings
) -> None:
    _role(jwt_auth, ttl=600, max_ttl=1200)

    async def scenario() -> tuple[str | None, str | None, str | None]:
        async with OpenBaoRuntime(runtime) as client:
            held = await client.read("acme", "aws")
            headers = sign(held, method="POST", path="/call", body=b"{}")
            fresh = verify(held, headers, method="POST", path="/call", body=b"{}")
            tampered = verify(held, headers, method="POST", path="/call", body=b"{ }")
            _write(jwt_auth, "acme", "aws", {**AWS, "secret_access_key": "rotated"})
            current = await client.read("acme", "aws")
            stale = verify(current, headers, method="POST", path="/call", body=b"{}")
            return fresh, tampered, stale

    fresh, tampered, stale = asyncio.run(scenario())
    assert fresh is None
    assert tampered == "the signature does not match the tenant's credential"
    assert stale == "credential version 1 is not the current one (2)"


def test_no_value_shows_in_a_credential_repr(jwt_auth: BaoServer, runtime: RuntimeSettings) -> None:
    _role(jwt_auth, ttl=600, max_ttl=1200)

    async def scenario() -> str:
        async with OpenBaoRuntime(runtime) as client:
            return repr(await client.read("acme", "aws"))

    shown = asyncio.run(scenario())
    assert shown == "Credential(acme/aws v1)"
    assert AWS["secret_access_key"] not in shown


# --- the chain as processes: cost-agent -> aws-mcp -> the cloud-API simulator


@dataclass
class Chain:
    agent: RunningStub
    mcp: RunningStub
    simulator: RunningStub

    def ask(self, tenant: str) -> httpx.Response:
        body = {"route": ["aws-mcp", "cloud-apis"], "tenant": tenant}
        return httpx.post(f"{self.agent.url}/call", json=body, timeout=10)


@pytest.fixture
def chain(
    jwt_auth: BaoServer,
    runtime: RuntimeSettings,
    start_stub: Callable[..., RunningStub],
    tmp_path: Path,
) -> Chain:
    _role(jwt_auth, ttl=600, max_ttl=1200)
    reader = f'path "{KV_MOUNT}/data/{PREFIX}/+/+" {{\n  capabilities = ["read"]\n}}\n'
    _root(jwt_auth, "PUT", "sys/policies/acl/finops-cloud-apis-simulator", {"policy": reader})
    token_file = tmp_path / "simulator-token"
    token_file.write_text(jwt_auth.token_for("finops-cloud-apis-simulator"))
    settings = {
        "address": jwt_auth.address, "kv_mount": KV_MOUNT, "path_prefix": PREFIX,
        "auth_mount": "jwt", "role": "finops-aws-mcp", "jwt_file": str(runtime.jwt_file),
        "timeout": 1.0,
    }  # fmt: skip
    simulator = start_stub(
        "cloud-apis",
        kind="simulator",
        config_extra={"tenant_credentials": {**settings, "token_file": str(token_file)}},
    )
    mcp = start_stub(
        "aws-mcp",
        kind="mcp",
        external_calls=("cloud-apis",),
        external_urls={"cloud-apis": simulator.url},
        config_extra={"tenant_credentials": settings, "cloud": "aws"},
    )
    agent = start_stub("cost-agent", calls={"aws-mcp": mcp.url})
    return Chain(agent, mcp, simulator)


def _credential_version(answer: httpx.Response) -> int:
    simulator = answer.json()["hops"][0]["hops"][0]
    return int(simulator["data"]["credential_version"])


def test_a_tenants_call_is_signed_with_its_current_credential(
    chain: Chain, jwt_auth: BaoServer
) -> None:
    first = chain.ask("acme")
    assert first.status_code == 200, first.text
    assert _credential_version(first) == 1
    _write(jwt_auth, "acme", "aws", {**AWS, "secret_access_key": "acme-aws-secret-v2"})
    second = chain.ask("acme")  # the very next request: no render interval to wait out
    assert second.status_code == 200, second.text
    assert _credential_version(second) == 2
    for stub in (chain.agent, chain.mcp, chain.simulator):
        text = stub.log_path.read_text()
        assert "acme-aws-secret" not in text  # never logged by any hop
    assert "acme-aws-secret" not in first.text + second.text


def test_a_superseded_credential_is_refused_by_the_simulator(
    chain: Chain, jwt_auth: BaoServer, runtime: RuntimeSettings
) -> None:
    async def stale_headers() -> dict[str, str]:
        async with OpenBaoRuntime(runtime) as client:
            held = await client.read("acme", "aws")
        return sign(held, method="POST", path="/call", body=b"{}")

    headers = asyncio.run(stale_headers())  # a cache that kept version 1
    _write(jwt_auth, "acme", "aws", {**AWS, "secret_access_key": "acme-aws-secret-v2"})
    refused = httpx.post(f"{chain.simulator.url}/call", content=b"{}", headers=headers)
    assert refused.status_code == 403
    assert "credential version 1 is not the current one (2)" in refused.json()["error"]


def test_an_unknown_tenant_is_a_404_through_the_chain(chain: Chain) -> None:
    answer = chain.ask("nobody")
    assert answer.status_code == 404, answer.text
    assert answer.json()["error"] == "aws-mcp: no aws credential for tenant nobody"


def test_openbao_down_is_a_503_naming_it_and_the_chain_recovers(
    chain: Chain, jwt_auth: BaoServer
) -> None:
    assert chain.ask("acme").status_code == 200
    _stop(jwt_auth.process.pid)
    try:
        down = chain.ask("acme")
        ready = httpx.get(f"{chain.mcp.url}/ready", timeout=10)
    finally:
        os.kill(jwt_auth.process.pid, signal.SIGCONT)
    assert down.status_code == 503, down.text
    assert "OpenBao at" in down.json()["error"]
    # /ready names OpenBao, yet keeps the pod in its Service (see SHARED_DEPENDENCY_CHECKS).
    assert (ready.status_code, ready.json()["status"]) == (200, "degraded")
    assert ready.json()["checks"]["openbao"]["ok"] is False
    assert chain.ask("acme").status_code == 200  # no restart
