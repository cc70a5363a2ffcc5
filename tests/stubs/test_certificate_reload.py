"""The gateway stub follows its mounted certificate: a renewal written the way the
kubelet updates a Secret volume (a new timestamped directory, then the ``..data``
link swapped) is served on the next handshake, by the same process."""

from __future__ import annotations

import socket
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
import trustme
from cryptography import x509

from tests.stub_processes import RunningStub, wait_until


def _kubelet_write(volume: Path, authority: trustme.CA, generation: int) -> None:
    """Write a certificate pair into ``volume`` as the kubelet's atomic writer does."""
    leaf = authority.issue_cert("127.0.0.1", "localhost")
    data = volume / f"..{generation}"
    data.mkdir()
    leaf.cert_chain_pems[0].write_to_path(data / "tls.crt")
    leaf.private_key_pem.write_to_path(data / "tls.key")
    link = volume / "..data_tmp"
    link.symlink_to(data.name)
    link.replace(volume / "..data")  # rename(2): atomic
    for name in ("tls.crt", "tls.key"):
        if not (volume / name).is_symlink():
            (volume / name).symlink_to(f"..data/{name}")


def _served_serial(url: str, ca: Path) -> int:
    """The serial of the certificate a new TLS connection is given (verified with ``ca``)."""
    port = int(url.rsplit(":", 1)[1])
    trust = ssl.create_default_context(cafile=ca)
    with (
        socket.create_connection(("127.0.0.1", port), timeout=5) as raw,
        trust.wrap_socket(raw, server_hostname="localhost") as tls,
    ):
        der = tls.getpeercert(binary_form=True)
    assert der is not None
    return x509.load_der_x509_certificate(der).serial_number


@dataclass
class ServingGateway:
    """A gateway stub serving from a kubelet-style Secret volume, and its CA."""

    stub: RunningStub
    authority: trustme.CA
    ca: Path
    volume: Path

    def served_serial(self) -> int:
        return _served_serial(self.stub.url, self.ca)


@pytest.fixture
def gateway(start_stub: Callable[..., RunningStub], tmp_path: Path) -> ServingGateway:
    authority = trustme.CA()
    ca = tmp_path / "ca.crt"
    authority.cert_pem.write_to_path(ca)
    volume = tmp_path / "tls"
    volume.mkdir()
    _kubelet_write(volume, authority, 1)
    stub = start_stub("api-gateway", kind="gateway", tls=(volume / "tls.crt", volume / "tls.key"))
    return ServingGateway(stub, authority, ca, volume)


def test_a_renewed_certificate_is_served_without_a_restart(gateway: ServingGateway) -> None:
    first = gateway.served_serial()
    _kubelet_write(gateway.volume, gateway.authority, 2)
    renewed = x509.load_pem_x509_certificate((gateway.volume / "tls.crt").read_bytes())
    assert renewed.serial_number != first
    started = time.monotonic()
    wait_until(
        lambda: gateway.served_serial() == renewed.serial_number,
        timeout=10, what="the renewed certificate to be served",
    )  # fmt: skip
    assert time.monotonic() - started < 5  # the follower looks every second
    assert gateway.stub.process.poll() is None  # the same process, never restarted
    assert any(line["event"] == "certificate_reloaded" for line in gateway.stub.log_lines())


def test_a_broken_pair_keeps_the_old_certificate(gateway: ServingGateway) -> None:
    """A key that does not match its certificate is not loaded: the server keeps
    serving the last good pair and says why in its log."""
    first = gateway.served_serial()
    volume = gateway.volume
    other = gateway.authority.issue_cert("localhost")
    data = volume / "..2"
    data.mkdir()
    (data / "tls.crt").write_bytes((volume / "tls.crt").read_bytes())
    other.private_key_pem.write_to_path(data / "tls.key")
    (volume / "..data_tmp").symlink_to(data.name)
    (volume / "..data_tmp").replace(volume / "..data")
    wait_until(
        lambda: any(e["event"] == "certificate_reload_failed" for e in gateway.stub.log_lines()),
        timeout=10, what="the failed reload to be logged",
    )  # fmt: skip
    assert gateway.served_serial() == first
