"""The Kubernetes Secrets devenv makes itself: the data layer's bootstrap
credentials, OpenBao's serving certificate, and the
dev CA's certificate in every namespace (what clients verify them with).

Pure: the values come in (from ``devenv.secrets``); the manifests go to
``kubectl apply`` on stdin, never to argv, a file or a log.
"""

from __future__ import annotations

from collections.abc import Mapping

from devenv.render.objects import Manifest, metadata
from devenv.render.stubs import tls_secret_name
from devenv.secrets.files import DATA_CREDENTIALS_SECRET, DEV_CA_SECRET
from devenv.topology.model import ComponentSpec, Topology

__all__ = ["DATA_NAMESPACE", "render_dev_secrets", "serving_hosts", "tls_components"]

DATA_NAMESPACE = "finops-data"


def tls_components(topology: Topology) -> list[ComponentSpec]:
    """What serves HTTPS with a certificate from devenv's dev CA: OpenBao, which must
    serve before anything else runs (cert-manager issues the HTTPS stubs' certificates;
    the injector and cert-manager's webhook make their own)."""
    return [c for c in topology.components.values() if c.image == "openbao"]


def serving_hosts(component: ComponentSpec) -> list[str]:
    service = f"{component.name}.{component.namespace}.svc"
    return [component.name, "localhost", f"{component.name}.{component.namespace}", service,
            f"{service}.cluster.local"]  # fmt: skip


def render_dev_secrets(
    topology: Topology,
    data_credentials: Mapping[str, str],
    certificates: Mapping[str, tuple[str, str]],
    ca_pem: str,
) -> list[Manifest]:
    """The data credentials Secret, the CA certificate in every namespace, and a
    TLS Secret per component of ``tls_components`` from ``certificates``
    (component name -> (certificate PEM, key PEM))."""
    manifests: list[Manifest] = [
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": metadata(DATA_CREDENTIALS_SECRET, DATA_NAMESPACE),
            "type": "Opaque",
            "stringData": dict(data_credentials),
        }
    ]
    manifests += [
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": metadata(DEV_CA_SECRET, namespace),
            "type": "Opaque",
            "stringData": {"ca.crt": ca_pem},
        }
        for namespace in topology.namespaces
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
