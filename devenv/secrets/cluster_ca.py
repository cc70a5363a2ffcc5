"""The dev CA cert-manager runs in the cluster (the root of the gateway's
certificate): read from the Secret its root Certificate writes, for the host's
clients (`devenv ca`, `curl --cacert`, the live tests). The certificate only:
the key never leaves the cluster."""

from __future__ import annotations

import base64
from pathlib import Path

from devenv.errors import DevenvError, ToolError
from devenv.render.cert_manager import CONTROLLER, ROOT_CA_SECRET
from devenv.state import state_dir
from devenv.tools.kubectl import Kubectl
from devenv.topology.model import Topology

__all__ = ["cluster_ca_pem", "default_ca_file"]


def default_ca_file(topology: Topology) -> Path:
    """Where `devenv ca` writes the certificate unless told otherwise."""
    return state_dir(topology.cluster.name) / "dev-ca.crt"


def cluster_ca_pem(topology: Topology, context: str) -> str:
    """The dev CA's certificate (PEM) on ``context``."""
    namespace = topology.components[CONTROLLER].namespace
    try:
        secret = Kubectl(context).get_json("secret", ROOT_CA_SECRET, "-n", namespace)
    except ToolError as error:
        raise DevenvError(
            f"no dev CA on {context}: {error.message}",
            hint="`devenv up` issues it (cert-manager's root Certificate in"
            f" {namespace}/{ROOT_CA_SECRET})",
        ) from None
    data = secret.get("data") or {}
    encoded = data.get("ca.crt") or data.get("tls.crt")
    if not encoded:
        raise DevenvError(
            f"{namespace}/{ROOT_CA_SECRET} on {context} holds no certificate yet",
            hint=f"kubectl --context {context} -n {namespace}"
            f" describe certificate {ROOT_CA_SECRET}",
        )
    return base64.b64decode(encoded).decode()
