"""The stubs under docker compose, laid out as in Kubernetes: each stub beside
an OpenBao agent that renders the same templates into a shared volume mounted
at /vault/secrets. Pure: paths and references in, a compose document out."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from devenv.render.stubs import STUB_UID, stub_config
from devenv.secrets.files import (
    KV_MOUNT,
    SECRETS_DIR,
    STATIC_SECRET_RENDER_INTERVAL,
    TLS_DIR,
    secret_file_template,
)
from devenv.topology.images import ImageSet
from devenv.topology.model import ComponentSpec, Topology

__all__ = ["CLOUD_API_SIMULATOR", "agent_config", "render_compose_stubs"]

CLOUD_API_SIMULATOR = "cloud-apis"
OPENBAO_ADDRESS = "http://openbao:8200"
AGENT_DIR = "/agent"
RUNTIME_TOKEN_DIR = "/run/openbao"  # noqa: S105 - where a runtime reader's token is


def agent_config(
    topology: Topology, component: ComponentSpec, *, interval: str = STATIC_SECRET_RENDER_INTERVAL
) -> dict[str, Any]:
    """The agent configuration the injector would generate, with token auth."""
    return {
        "vault": {"address": OPENBAO_ADDRESS},
        "auto_auth": {
            "method": [{"type": "token_file", "config": {"token_file_path": f"{AGENT_DIR}/token"}}]
        },
        "template_config": {
            "exit_on_retry_failure": True,
            "static_secret_render_interval": interval,
        },
        "template": [
            {
                "destination": f"{SECRETS_DIR}/{name}",
                "contents": secret_file_template(topology.secrets[name].path),
                "left_delimiter": "{{",
                "right_delimiter": "}}",
            }
            for name in topology.injected_secrets(component)
        ],
    }


def _compose_config(topology: Topology, component: ComponentSpec) -> dict[str, Any]:
    config = stub_config(topology, component)
    config["calls"] = {
        target: f"{'https' if topology.components[target].probe_scheme == 'HTTPS' else 'http'}"
        f"://{target}:{topology.components[target].primary_port.port}"
        for target in config["calls"]
    }
    # Compose has no dev CA (its simulator speaks plain HTTP on the compose network).
    config.pop("ca_file", None)
    if config["external_calls"]:
        config["external_urls"] = {CLOUD_API_SIMULATOR: f"http://{CLOUD_API_SIMULATOR}:8080"}
    if "redis" in config["checks"]:
        config["checks"]["redis"]["address"] = "redis:6379"
    if "tenant_credentials" in config:  # no Kubernetes auth here: a token of its policy
        config["tenant_credentials"] = _compose_tenant_credentials(topology)
    return config


def _compose_tenant_credentials(topology: Topology) -> dict[str, Any]:
    runtime = topology.runtime_secret
    assert runtime is not None  # noqa: S101 - asked for runtime readers only
    return {
        "address": OPENBAO_ADDRESS,
        "kv_mount": KV_MOUNT,
        "path_prefix": runtime.path,
        "token_file": f"{RUNTIME_TOKEN_DIR}/token",
    }


def runtime_token_holders(topology: Topology, chosen: Sequence[ComponentSpec]) -> list[str]:
    """Who reads tenant credentials at run time with a token `compose up` issues:
    the chosen runtime readers, and the cloud-API simulator when one runs."""
    if topology.runtime_secret is None:
        return []
    readers = [c.name for c in chosen if topology.runtime_secrets(c) and c.clouds]
    simulator = [CLOUD_API_SIMULATOR] if _runs_simulator(chosen) else []
    return readers + simulator


def _runs_simulator(chosen: Sequence[ComponentSpec]) -> bool:
    return any(c.calls and CLOUD_API_SIMULATOR in c.calls for c in chosen)


def _healthcheck(component: ComponentSpec) -> dict[str, Any]:
    port = component.primary_port.port
    if component.probe_scheme == "HTTPS":
        test = ["CMD", "python", "-m", "finops_stub.probe", "127.0.0.1", str(port)]
    else:
        url = f"http://127.0.0.1:{port}/ready"
        script = "import sys, urllib.request as u; "
        script += f"sys.exit(u.urlopen('{url}', timeout=2).status != 200)"
        test = ["CMD", "python", "-c", script]
    return {"test": test, "interval": "2s", "timeout": "3s", "retries": 60}


def render_compose_stubs(
    topology: Topology,
    images: ImageSet,
    *,
    agents_dir: Path,
    tls_dir: Path,
    only: Sequence[str] = (),
) -> dict[str, Any]:
    """Services for the stubs (all, or ``only`` these) and their agents."""
    chosen = [c for c in topology.components.values() if c.is_stub and (not only or c.name in only)]
    services: dict[str, Any] = {}
    volumes: dict[str, Any] = {}
    for component in chosen:
        service: dict[str, Any] = {
            "image": images.ref(component.image),
            "environment": {
                "STUB_CONFIG": json.dumps(_compose_config(topology, component), sort_keys=True)
            },
            "healthcheck": _healthcheck(component),
            "depends_on": {"timescaledb": {"condition": "service_healthy"},
                           "redis": {"condition": "service_healthy"}},
        }  # fmt: skip
        mounts = []
        if topology.injected_secrets(component):
            volume = f"{component.name}-secrets"
            volumes[volume] = {}
            mounts.append(f"{volume}:{SECRETS_DIR}:ro")
            services[f"{component.name}-agent"] = {
                "image": images.ref("openbao"),
                "entrypoint": ["bao"],
                "command": ["agent", f"-config={AGENT_DIR}/config.json"],
                # The environment wins over the config file's address, should an image set it.
                "environment": {"BAO_ADDR": OPENBAO_ADDRESS, "VAULT_ADDR": OPENBAO_ADDRESS},
                # Root inside the container: it writes into a fresh named volume.
                "user": "0:0",
                "volumes": [
                    f"{volume}:{SECRETS_DIR}",
                    f"{agents_dir / component.name}:{AGENT_DIR}:ro",
                ],
                "depends_on": {"openbao": {"condition": "service_healthy"}},
            }
            service["depends_on"][f"{component.name}-agent"] = {"condition": "service_started"}
        if component.probe_scheme == "HTTPS":
            # The key stays 0600 on the host; a one-shot service (root in its
            # container) copies it into a volume the stub's uid alone reads.
            volume = f"{component.name}-tls"
            volumes[volume] = {}
            services[volume] = _handover(images, tls_dir, volume)
            mounts.append(f"{volume}:{TLS_DIR}:ro")
            service["depends_on"][volume] = {"condition": "service_completed_successfully"}
            service["ports"] = [
                f"127.0.0.1:${{DEVENV_GATEWAY_PORT-8443}}:{component.primary_port.port}"
            ]
        if mounts:
            service["volumes"] = mounts
        services[component.name] = service
    if _runs_simulator(chosen):
        config: dict[str, Any] = {"component": CLOUD_API_SIMULATOR, "kind": "cloud-api"}
        if CLOUD_API_SIMULATOR in runtime_token_holders(topology, chosen):
            config["tenant_credentials"] = _compose_tenant_credentials(topology)
        services[CLOUD_API_SIMULATOR] = {
            "image": images.ref("stub-agent"),
            "environment": {"STUB_CONFIG": json.dumps(config, sort_keys=True)},
            "healthcheck": _healthcheck_plain(8080),
            "depends_on": {},
        }  # fmt: skip
    # The tokens for reads at run time: 0600 on the host, copied like the TLS key
    # into a volume the stub's uid alone reads.
    for holder in runtime_token_holders(topology, chosen):
        volume = f"{holder}-openbao"
        volumes[volume] = {}
        services[volume] = _handover(images, agents_dir / holder / "runtime", volume)
        service = services[holder]
        service.setdefault("volumes", []).append(f"{volume}:{RUNTIME_TOKEN_DIR}:ro")
        service["depends_on"][volume] = {"condition": "service_completed_successfully"}
    return {"services": services, "volumes": volumes}


_HAND_OVER = (
    "import os, shutil\n"
    "for name in os.listdir('/source'):\n"
    "    target = os.path.join('/target', name)\n"
    "    shutil.copyfile(os.path.join('/source', name), target)\n"
    f"    os.chown(target, {STUB_UID}, {STUB_UID})\n"
    "    os.chmod(target, 0o400)\n"
)


def _handover(images: ImageSet, source: Path, volume: str) -> dict[str, Any]:
    """A one-shot service (root in its container) copying the files of ``source``
    into ``volume``, owned by the stub's uid and readable by it alone."""
    return {
        "image": images.ref("stub-agent"),
        "user": "0:0",
        "network_mode": "none",
        "entrypoint": ["python", "-c", _HAND_OVER],
        "volumes": [f"{source}:/source:ro", f"{volume}:/target"],
    }


def _healthcheck_plain(port: int) -> dict[str, Any]:
    return {
        "test": ["CMD", "python", "-m", "finops_stub.probe", "127.0.0.1", str(port)],
        "interval": "2s", "timeout": "3s", "retries": 30,
    }  # fmt: skip
