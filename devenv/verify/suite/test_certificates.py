"""§6.2 API gateway TLS: cert-manager issues the gateway's certificate from the dev
CA, and a renewal reaches HTTPS clients without restarting the gateway."""

from __future__ import annotations

import datetime
import json
import socket
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

from cryptography import x509

from devenv.render.stubs import tls_secret_name
from devenv.tools.kind import kind_context
from devenv.topology.lifetime import parse_duration
from devenv.verify.suite._live import Live
from devenv.verify.suite.test_end_to_end import _gateway_port

RENEWAL_LIMIT_S = 30
# On a cluster devenv did not create, the kubelet's own sync period (1 min by
# default; devenv's kind cluster has 10 s) comes on top: it is when a changed
# Secret reaches the pod's files.
DEFAULT_KUBELET_SYNC_S = 60


def _ca_file(live: Live, directory: Path) -> Path:
    """The dev CA's certificate, as a user gets it: `devenv ca -o FILE`."""
    path = directory / "dev-ca.crt"
    argv = [sys.executable, "-m", "devenv", "ca", "--context", live.context, "-o", str(path)]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    return path


def _served(port: int, trust: ssl.SSLContext) -> x509.Certificate:
    """The certificate a new, verified TLS connection to the gateway is given."""
    with (
        socket.create_connection(("127.0.0.1", port), timeout=5) as raw,
        trust.wrap_socket(raw, server_hostname="localhost") as tls,
    ):
        der = tls.getpeercert(binary_form=True)
        tls.sendall(b"GET /health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        status = tls.recv(64).split(b" ", 2)[1]
    assert der is not None
    assert status == b"200", status
    return x509.load_der_x509_certificate(der)


def _gateway_pod(live: Live) -> tuple[str, int]:
    """The gateway pod's uid and its containers' restart count."""
    pod = live.pods(live.topology.components["api-gateway"])[0]
    restarts = sum(s.get("restartCount", 0) for s in pod["status"].get("containerStatuses", []))
    return pod["metadata"]["uid"], restarts


def test_the_gateway_serves_a_certificate_from_the_dev_ca(
    live: Live, profile: str, tmp_path: Path
) -> None:
    trust = ssl.create_default_context(cafile=_ca_file(live, tmp_path))
    with _gateway_port(live) as port:
        served = _served(port, trust)  # verification with the dev CA happens here
    issuer = served.issuer.rfc4514_string()
    assert issuer == f"CN={live.topology.cluster.name} dev CA", issuer
    names = served.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert "localhost" in names.get_values_for_type(x509.DNSName)
    # The profile's lifetime (dev: 1 h, so renewals happen within minutes, not months).
    lifetime = served.not_valid_after_utc - served.not_valid_before_utc
    assert lifetime == parse_duration(live.topology.profile(profile).certificates.duration)


def _force_renewal(live: Live) -> None:
    """What `cmctl renew` does: the Issuing condition set by hand, in the status."""
    gateway = live.topology.components["api-gateway"]
    name, namespace = tls_secret_name(gateway), gateway.namespace
    current = live.kubectl.get_json("certificate", name, "-n", namespace)
    condition = {
        "type": "Issuing",
        "status": "True",
        "reason": "ManuallyTriggered",
        "message": "Certificate re-issuance manually triggered by devenv test-integration",
        "lastTransitionTime": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "observedGeneration": current["metadata"]["generation"],
    }
    patch = [{"op": "add", "path": "/status/conditions/-", "value": condition}]
    live.kubectl.run(
        "patch", "certificate", name, "-n", namespace, "--subresource=status",
        "--type=json", "-p", json.dumps(patch),
    )  # fmt: skip


def test_a_forced_renewal_is_served_without_a_restart_or_a_failed_request(
    live: Live, tmp_path: Path, record_property: Callable[[str, object], None]
) -> None:
    trust = ssl.create_default_context(cafile=_ca_file(live, tmp_path))
    own_cluster = live.context == kind_context(live.topology.cluster.name)
    limit = RENEWAL_LIMIT_S if own_cluster else RENEWAL_LIMIT_S + DEFAULT_KUBELET_SYNC_S
    pod_before = _gateway_pod(live)
    with _gateway_port(live) as port:
        first = _served(port, trust).serial_number
        # A steady stream of new verified connections throughout the renewal.
        failures: list[str] = []
        answered = 0
        stop = threading.Event()

        def stream() -> None:
            nonlocal answered
            while not stop.is_set():
                try:
                    _served(port, trust)
                    answered += 1
                except (OSError, AssertionError) as error:
                    failures.append(f"{type(error).__name__}: {error}")
                time.sleep(0.2)  # a steady stream, not a load test: the node is shared

        streamer = threading.Thread(target=stream, daemon=True)
        streamer.start()
        try:
            started = time.monotonic()
            _force_renewal(live)
            renewed = None
            while time.monotonic() - started < limit + 5:
                serial = _served(port, trust).serial_number
                if serial != first:
                    renewed = time.monotonic() - started
                    break
                time.sleep(0.2)
            time.sleep(1)  # the stream goes on a moment with the new certificate
        finally:
            stop.set()
            streamer.join(timeout=10)
    assert renewed is not None, f"the gateway still served serial {first:x} after {limit} s"
    record_property("renewal_seen_after_s", round(renewed, 2))
    record_property("requests_during_renewal", answered)
    print(
        f"renewal: new serial served {renewed:.1f}s after it was forced;"
        f" {answered} requests during it"
    )
    assert renewed <= limit
    assert not failures, (
        f"{len(failures)} of {answered + len(failures)} requests failed: {failures[:3]}"
    )
    assert answered > 0
    assert _gateway_pod(live) == pod_before, "the gateway pod was replaced or restarted"
