"""Tenant cloud credentials, read from OpenBao per request (§6.2 row 1).

A cloud MCP logs in to OpenBao with its own service-account token (Kubernetes
auth: ``POST auth/<mount>/login`` with its role and the token), keeps the
client token while its lease lasts (renewing it at two thirds, logging in
again when it can no longer be renewed or OpenBao forgot it), reads one
tenant's credentials for its own cloud, and signs the call to the cloud API
with them. A value lives only for the request: never written, logged or kept.

The cloud-API simulator reads the same path with its own token and checks the
signature against the *current* version, so a caller that kept a superseded
credential is refused (403), as a real cloud refuses a revoked key.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # httpx is loaded by the roles that read at run time only (memory)
    import httpx

TENANT_PATTERN = re.compile(r"[a-z0-9][a-z0-9-]{0,62}")
CLOUDS = ("aws", "azure", "gcp")
# The field each cloud signs with (the others, e.g. the key id, are not secret).
SIGNING_FIELD = {"aws": "secret_access_key", "azure": "client_secret", "gcp": "private_key"}
KEY_ID_FIELD = {"aws": "access_key_id", "azure": "client_id", "gcp": "private_key_id"}
# Headers of a signed call to a cloud API.
TENANT_HEADER = "x-finops-tenant"
CLOUD_HEADER = "x-finops-cloud"
VERSION_HEADER = "x-finops-credential-version"
KEY_ID_HEADER = "x-finops-key-id"
TIMESTAMP_HEADER = "x-finops-timestamp"
SIGNATURE_HEADER = "x-finops-signature"
# A signature older than this is refused (a replayed call).
MAX_SKEW_SECONDS = 300


class OpenBaoUnavailable(Exception):
    """OpenBao did not answer, or answered sealed: no credential can be had."""


class CredentialNotFound(Exception):
    """OpenBao has no credential for this tenant and cloud."""


class CredentialForbidden(Exception):
    """OpenBao refused the read: this role may not read that path."""


@dataclass(frozen=True)
class Credential:
    tenant: str
    cloud: str
    version: int
    fields: Mapping[str, str]  # for the request only; never logged or serialised

    def __repr__(self) -> str:  # a stray log line shows no value
        return f"Credential({self.tenant}/{self.cloud} v{self.version})"


@dataclass(frozen=True)
class RuntimeSettings:
    """Where and how to read: rendered by devenv into STUB_CONFIG."""

    address: str  # OpenBao's base URL
    kv_mount: str  # the KV v2 mount
    path_prefix: str  # tenants live at <prefix>/<tenant>/<cloud>
    auth_mount: str = "kubernetes"  # POST auth/<mount>/login (jwt auth takes the same body)
    role: str = ""
    jwt_file: Path | None = None  # the service-account token projected for OpenBao
    token_file: Path | None = None  # a token given as a file instead (compose, the simulator)
    ca_file: Path | None = None
    # The name OpenBao's certificate is checked for, where the address is another
    # (the simulator reaches it on a node port of the kind node).
    tls_server_name: str | None = None
    timeout: float = 2.0

    def path(self, tenant: str, cloud: str) -> str:
        return f"{self.kv_mount}/data/{self.path_prefix}/{tenant}/{cloud}"


def signing_message(
    *, method: str, path: str, tenant: str, cloud: str, version: int, timestamp: str, body: bytes
) -> bytes:
    digest = hashlib.sha256(body).hexdigest()
    return "\n".join(
        [method.upper(), path, tenant, cloud, str(version), timestamp, digest]
    ).encode()


def sign(credential: Credential, *, method: str, path: str, body: bytes) -> dict[str, str]:
    """The headers of a call signed with the tenant's credential (HMAC-SHA256)."""
    timestamp = str(int(time.time()))
    message = signing_message(
        method=method, path=path, tenant=credential.tenant, cloud=credential.cloud,
        version=credential.version, timestamp=timestamp, body=body,
    )  # fmt: skip
    key = credential.fields[SIGNING_FIELD[credential.cloud]].encode()
    return {
        TENANT_HEADER: credential.tenant,
        CLOUD_HEADER: credential.cloud,
        VERSION_HEADER: str(credential.version),
        KEY_ID_HEADER: credential.fields.get(KEY_ID_FIELD[credential.cloud], ""),
        TIMESTAMP_HEADER: timestamp,
        SIGNATURE_HEADER: hmac.new(key, message, hashlib.sha256).hexdigest(),
    }


def verify(
    current: Credential, headers: Mapping[str, str], *, method: str, path: str, body: bytes
) -> str | None:
    """Why a signed call is refused (None: accepted), against the current credential."""
    claimed = headers.get(VERSION_HEADER, "")
    if claimed != str(current.version):
        return f"credential version {claimed or '?'} is not the current one ({current.version})"
    timestamp = headers.get(TIMESTAMP_HEADER, "")
    if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > MAX_SKEW_SECONDS:
        return "the signature's timestamp is missing or too old"
    message = signing_message(
        method=method, path=path, tenant=current.tenant, cloud=current.cloud,
        version=current.version, timestamp=timestamp, body=body,
    )  # fmt: skip
    key = current.fields.get(SIGNING_FIELD[current.cloud], "").encode()
    expected = hmac.new(key, message, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, headers.get(SIGNATURE_HEADER, "")):
        return "the signature does not match the tenant's credential"
    return None


class OpenBaoRuntime:
    """One process's OpenBao client: a client token kept while its lease lasts."""

    def __init__(
        self,
        settings: RuntimeSettings,
        *,
        client: httpx.AsyncClient | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        import httpx

        self.settings = settings
        self._clock = clock
        verify_tls: Any = str(settings.ca_file) if settings.ca_file else True
        self._client = client or httpx.AsyncClient(
            base_url=settings.address, timeout=settings.timeout, verify=verify_tls
        )
        self._token: str | None = None
        self._issued_at = 0.0
        self._expires_at = 0.0
        self._renewable = False
        self._lock = asyncio.Lock()  # one login at a time, however many requests wait
        self.logins = 0  # how often it logged in (tests and /ready show it)
        self.renewals = 0

    async def aclose(self) -> None:
        await self._client.aclose()

    async def __aenter__(self) -> OpenBaoRuntime:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        import httpx

        if self.settings.tls_server_name:
            kwargs["extensions"] = {"sni_hostname": self.settings.tls_server_name}
        try:
            return await self._client.request(method, f"/v1/{path}", **kwargs)
        except httpx.HTTPError as error:
            raise OpenBaoUnavailable(
                f"OpenBao at {self.settings.address} does not answer ({type(error).__name__})"
            ) from None

    async def health(self) -> str:
        """Why OpenBao cannot serve a read ("" when it can)."""
        response = await self._send("GET", "sys/health", params={"standbyok": "true"})
        if response.status_code == 503:
            return f"OpenBao at {self.settings.address} is sealed"
        if response.status_code not in (200, 429, 472, 473):
            return f"OpenBao at {self.settings.address} answers {response.status_code}"
        return ""

    async def _login(self) -> None:
        settings = self.settings
        if settings.token_file is not None:  # a token given to us: re-read, never renewed here
            try:
                token = settings.token_file.read_text(encoding="utf-8").strip()
            except OSError:
                token = ""
            if not token:  # `devenv up` writes it once OpenBao is bootstrapped
                raise OpenBaoUnavailable(f"no OpenBao token in {settings.token_file} yet")
            self._token = token
            self._issued_at, self._expires_at, self._renewable = self._clock(), float("inf"), False
            return
        jwt = settings.jwt_file.read_text(encoding="utf-8").strip() if settings.jwt_file else ""
        response = await self._send(
            "POST", f"auth/{settings.auth_mount}/login", json={"role": settings.role, "jwt": jwt}
        )
        if response.status_code != 200:
            raise OpenBaoUnavailable(
                f"OpenBao refused the login of role {settings.role} ({response.status_code})"
            )
        self._take(response.json()["auth"])
        self.logins += 1

    def _take(self, auth: Mapping[str, Any]) -> None:
        now = self._clock()
        self._token = str(auth["client_token"])
        lease = float(auth.get("lease_duration") or 0)
        self._issued_at = now
        self._expires_at = now + lease if lease > 0 else float("inf")
        self._renewable = bool(auth.get("renewable"))

    async def _renew(self) -> bool:
        response = await self._send(
            "POST", "auth/token/renew-self", headers={"X-Vault-Token": self._token or ""}
        )
        if response.status_code != 200:
            return False
        auth = response.json()["auth"]
        self._take(auth)
        self.renewals += 1
        return True

    async def token(self) -> str:
        """A client token good for the next call: kept, renewed at two thirds of its
        lease (while renewable), or a new login once it ran out."""
        async with self._lock:
            now = self._clock()
            if self._token is not None and now < self._expires_at:
                renew_at = self._issued_at + (self._expires_at - self._issued_at) * 2 / 3
                if now < renew_at:
                    return self._token
                if self._renewable and await self._renew():
                    # Renewed, unless the lease stopped growing (max TTL): then it is
                    # used until it ends, and the next call after that logs in.
                    return self._token
                if now < self._expires_at - 1:
                    return self._token
            await self._login()
            assert self._token is not None  # noqa: S101 - set by a login that returned
            return self._token

    def forget_token(self) -> None:
        self._token = None

    async def read(self, tenant: str, cloud: str) -> Credential:
        """The tenant's current credential for ``cloud``."""
        if not TENANT_PATTERN.fullmatch(tenant):
            raise CredentialNotFound(f"{tenant!r} is not a tenant id")
        path = self.settings.path(tenant, cloud)
        for attempt in range(2):
            token = await self.token()
            response = await self._send("GET", path, headers={"X-Vault-Token": token})
            if response.status_code == 200:
                data = response.json()["data"]
                fields = {str(k): str(v) for k, v in (data.get("data") or {}).items()}
                return Credential(tenant, cloud, int(data["metadata"]["version"]), fields)
            if response.status_code == 404:
                raise CredentialNotFound(f"no {cloud} credential for tenant {tenant}")
            if response.status_code == 403 and attempt == 0:
                # A token OpenBao no longer knows (restarted in dev mode, revoked):
                # log in again once. Still 403 then: the path is not ours to read.
                self.forget_token()
                continue
            if response.status_code == 403:
                raise CredentialForbidden(
                    f"role {self.settings.role or 'token'} may not read {path}"
                )
            if response.status_code == 503:
                raise OpenBaoUnavailable(f"OpenBao at {self.settings.address} is sealed")
            raise OpenBaoUnavailable(
                f"OpenBao at {self.settings.address} answered {response.status_code} for {path}"
            )
        raise AssertionError("unreachable")  # pragma: no cover
