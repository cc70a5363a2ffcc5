"""The stub's configuration: ``STUB_CONFIG`` (JSON rendered from the topology)
plus a few environment overrides for running outside Kubernetes."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from finops_stub.tenants import CLOUDS, RuntimeSettings

WORKER_ROLES = frozenset({"celery-beat", "celery-workers", "event-processor"})
CLOUD_API_ROLE = "cloud-apis"


class ConfigError(Exception):
    """STUB_CONFIG is missing or malformed."""


@dataclass(frozen=True)
class StubConfig:
    component: str
    kind: str
    port: int
    zone: str = ""
    tls: bool = False
    tls_cert: Path = Path("/etc/finops/tls/tls.crt")
    tls_key: Path = Path("/etc/finops/tls/tls.key")
    # The CA that external endpoints' certificates are verified with (the dev CA
    # for the cloud-API simulator); None: the system's trust store.
    ca_file: Path | None = None
    calls: Mapping[str, str] = field(default_factory=dict)  # component -> base URL
    external_calls: tuple[str, ...] = ()
    external_urls: Mapping[str, str] = field(default_factory=dict)  # endpoint -> base URL
    secrets: tuple[str, ...] = ()
    secrets_dir: Path = Path("/vault/secrets")
    postgres_secret: str | None = None
    redis_address: str | None = None
    redis_secret: str | None = None
    check_timeout: float = 1.0
    heartbeat_interval: float = 5.0
    # Tenant cloud credentials read from OpenBao per request (§6.2): the cloud MCPs
    # sign their calls to the cloud API for ``cloud``; the simulator verifies them.
    tenant_credentials: RuntimeSettings | None = None
    cloud: str | None = None
    host: str = "0.0.0.0"  # noqa: S104 - a pod serves on its own address

    @property
    def worker_role(self) -> str | None:
        return self.component if self.component in WORKER_ROLES else None

    def next_hop_url(self, target: str) -> str | None:
        if target in self.calls:
            return self.calls[target]
        if target in self.external_calls:
            return self.external_urls.get(target)
        return None


def _optional_path(value: object) -> Path | None:
    return Path(str(value)) if value else None


def _cloud(value: object) -> str | None:
    if value is None:
        return None
    if value not in CLOUDS:
        raise ConfigError(f"STUB_CONFIG: cloud {value!r} is not one of {', '.join(CLOUDS)}")
    return str(value)


def _json_env(environ: Mapping[str, str], name: str) -> Any:
    try:
        return json.loads(environ[name])
    except json.JSONDecodeError as error:
        raise ConfigError(f"{name} is not valid JSON: {error}") from None


def _runtime_settings(raw: Any, environ: Mapping[str, str]) -> RuntimeSettings | None:
    """STUB_CONFIG's ``tenant_credentials``; STUB_OPENBAO_* override it outside a cluster."""
    if not raw:
        return None
    if not isinstance(raw, dict):
        raise ConfigError("STUB_CONFIG: tenant_credentials must be an object")
    token_file = environ.get("STUB_OPENBAO_TOKEN_FILE", raw.get("token_file"))
    return RuntimeSettings(
        address=str(environ.get("STUB_OPENBAO_ADDRESS", raw["address"])),
        kv_mount=str(raw["kv_mount"]),
        path_prefix=str(raw["path_prefix"]),
        auth_mount=str(raw.get("auth_mount", "kubernetes")),
        role=str(raw.get("role", "")),
        jwt_file=_optional_path(raw.get("jwt_file")),
        token_file=_optional_path(token_file),
        ca_file=_optional_path(environ.get("STUB_OPENBAO_CA_FILE", raw.get("ca_file"))),
        tls_server_name=raw.get("tls_server_name"),
        timeout=float(raw.get("timeout", 2.0)),
    )


def load_config(environ: Mapping[str, str] | None = None) -> StubConfig:
    environ = os.environ if environ is None else environ
    if "STUB_CONFIG" not in environ:
        raise ConfigError("STUB_CONFIG is not set (JSON rendered by `devenv render`)")
    raw = _json_env(environ, "STUB_CONFIG")
    if not isinstance(raw, dict) or "component" not in raw:
        raise ConfigError("STUB_CONFIG must be a JSON object with at least `component`")
    checks = raw.get("checks") or {}
    external_urls = dict(raw.get("external_urls") or {})
    if "STUB_EXTERNAL_URLS" in environ:
        external_urls.update(_json_env(environ, "STUB_EXTERNAL_URLS"))
    try:
        return StubConfig(
            component=str(raw["component"]),
            kind=str(raw.get("kind", "agent")),
            zone=str(raw.get("zone", "")),
            port=int(environ.get("STUB_PORT", raw.get("port", 8080))),
            tls=bool(raw.get("tls", False)),
            tls_cert=Path(environ.get("STUB_TLS_CERT", "/etc/finops/tls/tls.crt")),
            tls_key=Path(environ.get("STUB_TLS_KEY", "/etc/finops/tls/tls.key")),
            ca_file=_optional_path(environ.get("STUB_CA_FILE", raw.get("ca_file"))),
            calls=dict(raw.get("calls") or {}),
            external_calls=tuple(raw.get("external_calls") or ()),
            external_urls=external_urls,
            secrets=tuple(raw.get("secrets") or ()),
            secrets_dir=Path(
                environ.get("STUB_SECRETS_DIR", raw.get("secrets_dir", "/vault/secrets"))
            ),
            postgres_secret=(checks.get("postgres") or {}).get("secret"),
            redis_address=environ.get(
                "STUB_REDIS_ADDRESS", (checks.get("redis") or {}).get("address")
            ),
            redis_secret=(checks.get("redis") or {}).get("secret"),
            check_timeout=float(environ.get("STUB_CHECK_TIMEOUT", raw.get("check_timeout", 1.0))),
            heartbeat_interval=float(
                environ.get("STUB_HEARTBEAT_INTERVAL", raw.get("heartbeat_interval", 5.0))
            ),
            host=environ.get("STUB_HOST", "0.0.0.0"),  # noqa: S104 - see the field
            tenant_credentials=_runtime_settings(raw.get("tenant_credentials"), environ),
            cloud=_cloud(raw.get("cloud")),
        )
    except KeyError as error:
        raise ConfigError(f"STUB_CONFIG: tenant_credentials needs {error}") from None
    except (TypeError, ValueError) as error:
        raise ConfigError(f"STUB_CONFIG: {error}") from None
