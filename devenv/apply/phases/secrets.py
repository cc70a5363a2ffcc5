"""Phase secrets: the Kubernetes Secrets devenv makes (the data layer's
credentials, OpenBao's serving certificate, the dev CA's certificate in every
namespace). Its own phase because the data layer,
OpenBao and the stubs all mount them, and those three need nothing else of one
another to start."""

from __future__ import annotations

from devenv.apply.engine import Phase, RunContext, digest
from devenv.render import Manifest
from devenv.render.dev_secrets import render_dev_secrets, serving_hosts, tls_components
from devenv.secrets.connection import dev_credentials
from devenv.secrets.tls import environment_ca, load_or_create_certificate
from devenv.state import state_dir
from devenv.yamlio import dump_documents

__all__ = ["PHASE"]


def _secret_manifests(run: RunContext) -> list[Manifest]:
    topology = run.topology
    ca = environment_ca(topology.cluster.name)
    certificates = {}
    for component in tls_components(topology):
        certificate = load_or_create_certificate(
            state_dir(topology.cluster.name) / f"{component.name}-certificate.json",
            serving_hosts(component),
            ca,
        )
        certificates[component.name] = (certificate.cert_pem, certificate.key_pem)
    credentials = dev_credentials(topology).kubernetes_secret_data()
    return render_dev_secrets(topology, credentials, certificates, ca.cert_pem)


def _execute(run: RunContext) -> str:
    manifests = _secret_manifests(run)
    run.kubectl.apply(dump_documents(manifests))  # stdin: never argv, never logs
    return f"{len(manifests)} Secrets (credentials, certificates, the dev CA's certificate)"


PHASE = Phase(
    "secrets", _execute, lambda run: digest(_secret_manifests(run)), _secret_manifests,
    needs=("namespaces",),
)  # fmt: skip
