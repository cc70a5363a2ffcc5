"""Phase simulators: on a kind cluster, each external endpoint's simulator (a
stub in the cloud-API role) runs outside the cluster, on the kind network.

It runs before the namespaces phase because the NetworkPolicies name its
address: cloud-API egress excludes private ranges, and kind's network is one,
so the policy admits the simulator by address. The stubs phase points the
simulator's selector-less Service at it.
"""

from __future__ import annotations

import json

from devenv.apply.engine import Phase, RunContext, digest
from devenv.apply.waiting import poll_phase
from devenv.render.simulators import (
    SIMULATOR_TOKEN_DIR,
    simulated_endpoints,
    simulator_config,
    simulator_container,
    simulator_hosts,
    simulator_openbao_volume,
    simulator_tls_volume,
)
from devenv.render.stubs import STUB_UID
from devenv.secrets.files import TLS_DIR
from devenv.secrets.tls import DevCertificate, environment_ca, load_or_create_certificate
from devenv.state import state_dir
from devenv.tools.docker import KIND_NETWORK, Docker

__all__ = ["PHASE"]

SIMULATOR_IMAGE = "stub-agent"
NETWORK_WAIT_SECONDS = 120.0
# As locked down as a stub pod: its uid, a read-only root with a small /tmp, no
# capabilities and no way to gain any. Port 443 is opened to unprivileged users
# inside its own network namespace instead of granting NET_BIND_SERVICE (Docker
# gives a non-root process no effective capabilities anyway).
SIMULATOR_OPTIONS = [
    "--restart", "unless-stopped",
    "--user", f"{STUB_UID}:{STUB_UID}",
    "--read-only", "--tmpfs", "/tmp:size=16m",  # noqa: S108 - its own tmpfs
    "--cap-drop", "ALL",
    "--security-opt", "no-new-privileges",
    "--sysctl", "net.ipv4.ip_unprivileged_port_start=443",
]  # fmt: skip


def _inputs(run: RunContext) -> str:
    if not run.image_route.on_kind_network:
        return digest("no kind network: no simulators")
    docker = Docker()
    return digest(
        run.images.ref(SIMULATOR_IMAGE),
        SIMULATOR_OPTIONS,
        {
            endpoint: (
                simulator_config(run.topology, endpoint, run.context),
                _certificate(run, endpoint).cert_pem,
                # A simulator removed by hand is started again.
                docker.running_address(simulator_container(run.topology, endpoint, run.context)),
            )
            for endpoint in simulated_endpoints(run.topology)
        },
    )


def _execute(run: RunContext) -> str:
    if not run.image_route.on_kind_network:
        return "none: the cluster is not on kind's network (calls to cloud APIs find no endpoint)"
    docker = Docker()
    # kind makes its network in the first seconds of creating a cluster: the
    # simulators start then, while the node boots.
    poll_phase(
        run, "simulators", lambda: docker.network_exists(KIND_NETWORK) or None,
        interval=0.5, timeout=NETWORK_WAIT_SECONDS,
        problem=f"Docker network {KIND_NETWORK} did not appear (kind makes it as it creates"
        " a cluster)",
        next_command="docker network ls   # and the cluster phase's error above",
    )  # fmt: skip
    image = run.images.ref(SIMULATOR_IMAGE)
    endpoints = simulated_endpoints(run.topology)
    for endpoint in endpoints:
        container = simulator_container(run.topology, endpoint, run.context)
        # Its serving key, readable by the simulator's uid alone, in a volume of its own.
        certificate = _certificate(run, endpoint)
        tls_volume = simulator_tls_volume(run.topology, endpoint, run.context)
        files = {
            "tls.crt": certificate.cert_pem,
            "tls.key": certificate.key_pem,
            "ca.crt": environment_ca(run.topology.cluster.name).cert_pem,  # OpenBao's issuer
        }
        docker.fill_volume(tls_volume, image, files, uid=STUB_UID)
        # Its OpenBao token: the openbao phase writes it once OpenBao is bootstrapped,
        # into this volume (kept when the simulator is started again).
        token_volume = simulator_openbao_volume(run.topology, endpoint, run.context)
        if not docker.volume_exists(token_volume):
            docker.fill_volume(token_volume, image, {"token": ""}, uid=STUB_UID, mode=0o600)
        docker.run_detached(
            container, image, network=KIND_NETWORK,
            options=[
                *SIMULATOR_OPTIONS,
                "-v", f"{tls_volume}:{TLS_DIR}:ro",
                "-v", f"{token_volume}:{SIMULATOR_TOKEN_DIR}",
            ],
            env={"STUB_CONFIG": json.dumps(simulator_config(run.topology, endpoint, run.context))},
        )  # fmt: skip
    run.remember("started_simulators", True)  # `down` on this context removes them
    return f"{len(endpoints)} simulator(s) on the kind network, HTTPS from the dev CA"


def _certificate(run: RunContext, endpoint: str) -> DevCertificate:
    cluster = run.topology.cluster.name
    return load_or_create_certificate(
        state_dir(cluster) / f"{endpoint}-simulator-certificate.json",
        simulator_hosts(run.topology, endpoint),
        environment_ca(cluster),
    )


# Beside the cluster: the simulators join kind's network as soon as it exists.
PHASE = Phase("simulators", _execute, _inputs)
