"""The api-gateway's dev serving certificate (cert-manager issues it in
production, §6.2): self-signed, kept in devenv's state so it stays stable."""

from __future__ import annotations

import datetime
import ipaddress
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from devenv.state import read_json, write_private_json

__all__ = ["DevCertificate", "load_or_create_certificate"]


@dataclass(frozen=True)
class DevCertificate:
    cert_pem: str
    key_pem: str


def _issue(hostnames: list[str]) -> DevCertificate:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "finops-devenv api-gateway")])
    now = datetime.datetime.now(datetime.UTC)
    alt_names: list[x509.GeneralName] = [x509.DNSName(h) for h in hostnames]
    alt_names.append(x509.IPAddress(ipaddress.ip_address("127.0.0.1")))
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=365))
        .add_extension(x509.SubjectAlternativeName(alt_names), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    return DevCertificate(
        cert_pem=certificate.public_bytes(serialization.Encoding.PEM).decode(),
        key_pem=key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode(),
    )


def load_or_create_certificate(path: Path, hostnames: list[str]) -> DevCertificate:
    stored = read_json(path)
    if stored and stored.get("hostnames") == hostnames:
        return DevCertificate(stored["cert_pem"], stored["key_pem"])
    certificate = _issue(hostnames)
    write_private_json(
        path,
        {"hostnames": hostnames, "cert_pem": certificate.cert_pem, "key_pem": certificate.key_pem},
    )
    return certificate
