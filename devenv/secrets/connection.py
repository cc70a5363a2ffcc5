"""Reaching the environment's OpenBao: an address given, or a port-forward
into the cluster; the token from DEVENV_OPENBAO_TOKEN or devenv's state."""

from __future__ import annotations

import contextlib
import os
import ssl
from collections.abc import Iterator
from pathlib import Path

from devenv.errors import DevenvError
from devenv.secrets.client import BaoClient, require_token
from devenv.secrets.dev_values import DevCredentials, load_or_create_credentials
from devenv.secrets.tls import read_ca_pem
from devenv.state import read_json, state_dir
from devenv.tools.kubectl import Kubectl
from devenv.topology.model import Topology

__all__ = ["credentials_path", "dev_credentials", "openbao_session"]

OPENBAO_NAMESPACE = "finops-data"
OPENBAO_SERVICE = "svc/openbao"
OPENBAO_PORT = 8200


def credentials_path(topology: Topology) -> Path:
    return state_dir(topology.cluster.name) / "dev-secrets.json"


def dev_credentials(topology: Topology) -> DevCredentials:
    """The environment's generated credentials (created on first use, mode 0600)."""
    return load_or_create_credentials(credentials_path(topology), topology)


def _token(topology: Topology) -> str:
    if os.environ.get("DEVENV_OPENBAO_TOKEN"):
        return os.environ["DEVENV_OPENBAO_TOKEN"]
    stored = read_json(credentials_path(topology)) or {}
    return require_token(stored.get("openbao_root_token"))


@contextlib.contextmanager
def openbao_session(
    topology: Topology, *, address: str | None, context: str | None
) -> Iterator[BaoClient]:
    token = _token(topology)
    if address:
        with BaoClient(address, token) as client:
            yield client
        return
    kubectl = Kubectl(context)
    with kubectl.port_forward(OPENBAO_NAMESPACE, OPENBAO_SERVICE, OPENBAO_PORT) as port:
        # OpenBao serves TLS from the environment's dev CA; its certificate names
        # 127.0.0.1, where the port-forward listens.
        trust = ssl.create_default_context(cadata=environment_ca_pem(topology))
        with BaoClient(f"https://127.0.0.1:{port}", token, trust=trust) as client:
            yield client


def environment_ca_pem(topology: Topology) -> str:
    """The dev CA certificate `devenv up` made for this environment."""
    pem = read_ca_pem(topology.cluster.name)
    if pem is None:
        raise DevenvError(
            "this machine holds no dev CA for the environment, so OpenBao cannot be verified",
            hint="run `devenv up` (it makes the CA), or DEVENV_OPENBAO_ADDR for another OpenBao",
        )
    return pem
