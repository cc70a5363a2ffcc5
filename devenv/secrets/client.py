"""A small OpenBao HTTP API client (httpx): the calls the bootstrap and the
secrets commands need, with errors that say what failed and never a value."""

from __future__ import annotations

import ssl
import time
from collections.abc import Mapping
from typing import Any

import httpx

from devenv.errors import DevenvError, ToolError

__all__ = ["BaoClient", "OpenBaoError"]


HEALTH_ATTEMPTS = 3


class OpenBaoError(ToolError):
    """OpenBao refused or failed a request."""


class BaoClient:
    def __init__(self, address: str, token: str, *, trust: ssl.SSLContext | None = None) -> None:
        """``trust``: what OpenBao's certificate is verified with (the environment's
        dev CA); None, the system's trust store. Never unverified."""
        self.address = address.rstrip("/")
        self._http = httpx.Client(
            base_url=self.address,
            headers={"X-Vault-Token": token},
            # The connect phase includes the TLS handshake, which through a fresh
            # port-forward to a node busy starting pods can take seconds.
            timeout=httpx.Timeout(10.0, connect=10.0),
            verify=trust if trust is not None else True,
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> BaoClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def request(
        self, method: str, path: str, payload: Mapping[str, Any] | None = None
    ) -> dict[str, Any] | None:
        """JSON body of the answer; None for 404 or an empty body."""
        try:
            response = self._http.request(method, f"/v1/{path}", json=payload)
        except httpx.HTTPError as error:
            raise OpenBaoError(
                f"OpenBao at {self.address} does not answer: {type(error).__name__}",
                hint="is OpenBao running? `devenv status` shows the data layer",
            ) from None
        if response.status_code == 404:
            return None
        if response.status_code >= 400:
            errors = _errors(response)
            raise OpenBaoError(
                f"OpenBao refused {method} {path}: HTTP {response.status_code} {errors}",
                hint="a 403 means the token lacks a policy for this path",
            )
        if not response.content:
            return None
        body: dict[str, Any] = response.json()
        return body

    # --- the calls used by devenv
    def health(self, attempts: int = HEALTH_ATTEMPTS) -> dict[str, Any]:
        """OpenBao's health: the first call of a session, so a transport failure (a
        port-forward just opened, a busy node) is tried again before it counts."""
        for attempt in range(1, attempts + 1):
            try:
                response = self._http.get("/v1/sys/health")
            except httpx.TransportError as error:
                if attempt == attempts:
                    raise OpenBaoError(
                        f"OpenBao at {self.address} does not answer: {error}",
                        hint="is OpenBao running? `devenv status` shows the data layer",
                    ) from None
                time.sleep(attempt)
                continue
            body: dict[str, Any] = response.json()
            return body
        raise AssertionError("unreachable")  # pragma: no cover

    def mounts(self) -> dict[str, Any]:
        return (self.request("GET", "sys/mounts") or {}).get("data") or {}

    def auth_methods(self) -> dict[str, Any]:
        return (self.request("GET", "sys/auth") or {}).get("data") or {}

    def read_kv(self, mount: str, path: str) -> tuple[dict[str, Any], int] | None:
        """(data, version) of a KV v2 secret, or None when it does not exist."""
        body = self.request("GET", f"{mount}/data/{path}")
        if body is None or body.get("data") is None:
            return None
        data = body["data"]
        return dict(data.get("data") or {}), int(data["metadata"]["version"])

    def write_kv(self, mount: str, path: str, data: Mapping[str, Any]) -> int:
        body = self.request("POST", f"{mount}/data/{path}", {"data": dict(data)}) or {}
        return int(body["data"]["version"])


def _errors(response: httpx.Response) -> str:
    try:
        errors = response.json().get("errors") or []
    except ValueError:
        return response.text[:200]
    return "; ".join(str(e) for e in errors)[:300]


def require_token(token: str | None) -> str:
    if not token:
        raise DevenvError(
            "no OpenBao token",
            hint="devenv up creates one; or set DEVENV_OPENBAO_TOKEN",
        )
    return token
