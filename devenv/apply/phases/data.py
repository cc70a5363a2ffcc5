"""Phase data: the Secrets devenv makes (the data layer's credentials, the
HTTPS stubs' certificates), then TimescaleDB and Redis, ready."""

from __future__ import annotations

from devenv.apply.engine import Phase, RunContext, digest
from devenv.apply.waiting import wait_ready
from devenv.render import Manifest
from devenv.render.dev_secrets import render_dev_secrets, serving_hosts, tls_components
from devenv.secrets.connection import dev_credentials
from devenv.secrets.tls import environment_ca, load_or_create_certificate
from devenv.state import state_dir
from devenv.yamlio import dump_documents

__all__ = ["DATA_COMPONENTS", "PHASE"]

DATA_COMPONENTS = ("postgresql-timescaledb", "redis")


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


def _objects(run: RunContext) -> list[Manifest]:
    """What the phase applies: the data layer and the Secrets devenv makes."""
    return [*run.objects_of(DATA_COMPONENTS), *_secret_manifests(run)]


def _execute(run: RunContext) -> str:
    run.kubectl.apply(dump_documents(_secret_manifests(run)))  # stdin: never argv, never logs
    run.apply("data", run.objects_of(DATA_COMPONENTS))
    wait_ready(run, "data", list(DATA_COMPONENTS))
    return "TimescaleDB and Redis ready"


PHASE = Phase("data", _execute, lambda run: digest(_objects(run)), _objects)
