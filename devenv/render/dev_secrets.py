"""The Kubernetes Secrets devenv makes itself: the data layer's bootstrap
credentials and the HTTPS stubs' serving certificates.

Pure: the values come in (from ``devenv.secrets``); the manifests go to
``kubectl apply`` on stdin, never to argv, a file or a log.
"""

from __future__ import annotations

from collections.abc import Mapping

from devenv.render.objects import Manifest, metadata
from devenv.render.stubs import tls_secret_name
from devenv.secrets.files import DATA_CREDENTIALS_SECRET
from devenv.topology.model import ComponentSpec, Topology

__all__ = ["DATA_NAMESPACE", "render_dev_secrets", "serving_hosts", "tls_components"]

DATA_NAMESPACE = "finops-data"


def tls_components(topology: Topology) -> list[ComponentSpec]:
    """The stubs that serve HTTPS and need a serving certificate."""
    return [c for c in topology.components.values() if c.is_stub and c.probe_scheme == "HTTPS"]


def serving_hosts(component: ComponentSpec) -> list[str]:
    return ["localhost", component.name, f"{component.name}.{component.namespace}.svc"]


def render_dev_secrets(
    topology: Topology,
    data_credentials: Mapping[str, str],
    certificates: Mapping[str, tuple[str, str]],
) -> list[Manifest]:
    """The data credentials Secret, and a TLS Secret per HTTPS stub from
    ``certificates`` (component name -> (certificate PEM, key PEM))."""
    manifests: list[Manifest] = [
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": metadata(DATA_CREDENTIALS_SECRET, DATA_NAMESPACE),
            "type": "Opaque",
            "stringData": dict(data_credentials),
        }
    ]
    for component in tls_components(topology):
        cert_pem, key_pem = certificates[component.name]
        manifests.append(
            {
                "apiVersion": "v1",
                "kind": "Secret",
                "metadata": metadata(tls_secret_name(component), component.namespace),
                "type": "kubernetes.io/tls",
                "stringData": {"tls.crt": cert_pem, "tls.key": key_pem},
            }
        )
    return manifests
