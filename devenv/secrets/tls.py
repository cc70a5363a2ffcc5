"""devenv's own dev certificates: one dev CA per environment, kept in devenv's
0600 state, and the serving certificates it signs for what must serve before
cert-manager runs or lives outside the cluster (OpenBao, the cloud-API
simulator), so that every client verifies: nothing here needs `verify=False`.
In the cluster, cert-manager issues the gateway's (devenv.render.cert_manager).
Compose, which has no cert-manager, keeps a self-signed gateway certificate."""

from __future__ import annotations

import datetime
import ipaddress
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from devenv.state import read_json, state_dir, write_private_json

__all__ = [
    "DevCA",
    "DevCertificate",
    "ca_path",
    "environment_ca",
    "load_or_create_ca",
    "load_or_create_certificate",
    "read_ca_pem",
]

CA_DAYS = 3650
SERVING_DAYS = 365
_LOOPBACK = ipaddress.ip_address("127.0.0.1")  # port-forwards and published ports


@dataclass(frozen=True)
class DevCertificate:
    cert_pem: str
    key_pem: str


def _key_pem(key: ec.EllipticCurvePrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def _pem(certificate: x509.Certificate) -> str:
    return certificate.public_bytes(serialization.Encoding.PEM).decode()


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def _builder(
    subject: x509.Name, issuer: x509.Name, key: ec.EllipticCurvePrivateKey, days: int
) -> x509.CertificateBuilder:
    """What every certificate here shares: names, key, serial, validity (from five
    minutes ago, for clocks a little behind)."""
    now = _now()
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=days))
    )


def _serving(builder: x509.CertificateBuilder, hostnames: list[str]) -> x509.CertificateBuilder:
    """A leaf for ``hostnames`` and 127.0.0.1 (port-forwards and published ports)."""
    names: list[x509.GeneralName] = [x509.DNSName(h) for h in hostnames]
    names.append(x509.IPAddress(_LOOPBACK))
    return builder.add_extension(x509.SubjectAlternativeName(names), critical=False).add_extension(
        x509.BasicConstraints(ca=False, path_length=None), critical=True
    )


def _common_name(name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])


_CA_KEY_USAGE = x509.KeyUsage(
    digital_signature=True, key_cert_sign=True, crl_sign=True,
    content_commitment=False, key_encipherment=False, data_encipherment=False,
    key_agreement=False, encipher_only=False, decipher_only=False,
)  # fmt: skip


@dataclass(frozen=True)
class DevCA:
    """The environment's certificate authority: its certificate is public (every
    namespace gets it), its key never leaves devenv's state."""

    cert_pem: str
    key_pem: str

    def issue(self, hostnames: list[str]) -> DevCertificate:
        """A serving certificate for ``hostnames`` (and 127.0.0.1), signed by this CA."""
        issuer = x509.load_pem_x509_certificate(self.cert_pem.encode())
        issuer_key = serialization.load_pem_private_key(self.key_pem.encode(), password=None)
        assert isinstance(issuer_key, ec.EllipticCurvePrivateKey)  # noqa: S101 - made below
        key = ec.generate_private_key(ec.SECP256R1())
        builder = _builder(_common_name(hostnames[0]), issuer.subject, key, SERVING_DAYS)
        certificate = (
            _serving(builder, hostnames)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()),
                critical=False,
            )
            .sign(issuer_key, hashes.SHA256())
        )
        return DevCertificate(cert_pem=_pem(certificate), key_pem=_key_pem(key))

    @classmethod
    def create(cls, environment: str) -> DevCA:
        key = ec.generate_private_key(ec.SECP256R1())
        name = _common_name(f"{environment} dev CA")
        certificate = (
            _builder(name, name, key, CA_DAYS)
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(_CA_KEY_USAGE, critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
            .sign(key, hashes.SHA256())
        )
        return cls(cert_pem=_pem(certificate), key_pem=_key_pem(key))


def load_or_create_ca(path: Path, environment: str) -> DevCA:
    stored = read_json(path)
    if stored and {"cert_pem", "key_pem"} <= set(stored):
        return DevCA(stored["cert_pem"], stored["key_pem"])
    ca = DevCA.create(environment)
    write_private_json(path, {"cert_pem": ca.cert_pem, "key_pem": ca.key_pem})
    return ca


def _self_signed(hostnames: list[str]) -> DevCertificate:
    key = ec.generate_private_key(ec.SECP256R1())
    name = _common_name(f"finops-devenv {hostnames[0]}")
    certificate = _serving(_builder(name, name, key, SERVING_DAYS), hostnames).sign(
        key, hashes.SHA256()
    )
    return DevCertificate(cert_pem=_pem(certificate), key_pem=_key_pem(key))


RENEW_DAYS = 30  # issued again this long before it expires (the next `up` does it)


def _expires_soon(cert_pem: str) -> bool:
    certificate = x509.load_pem_x509_certificate(cert_pem.encode())
    return certificate.not_valid_after_utc - _now() < datetime.timedelta(days=RENEW_DAYS)


def load_or_create_certificate(
    path: Path, hostnames: list[str], ca: DevCA | None = None
) -> DevCertificate:
    """The certificate kept at ``path``, issued again when its hostnames or its CA
    changed; signed by ``ca``, or self-signed without one (compose)."""
    stored = read_json(path)
    issuer = ca.cert_pem if ca else None
    if (
        stored
        and stored.get("hostnames") == hostnames
        and stored.get("issuer") == issuer
        and not _expires_soon(stored["cert_pem"])
    ):
        return DevCertificate(stored["cert_pem"], stored["key_pem"])
    certificate = ca.issue(hostnames) if ca else _self_signed(hostnames)
    write_private_json(
        path,
        {
            "hostnames": hostnames,
            "issuer": issuer,
            "cert_pem": certificate.cert_pem,
            "key_pem": certificate.key_pem,
        },
    )
    return certificate


def ca_path(cluster: str) -> Path:
    return state_dir(cluster) / "dev-ca.json"


def read_ca_pem(cluster: str) -> str | None:
    """The environment's CA certificate if `up` made it here (never creates one)."""
    stored = read_json(ca_path(cluster)) or {}
    return str(stored["cert_pem"]) if stored.get("cert_pem") else None


def environment_ca(cluster: str) -> DevCA:
    """The CA of the environment named ``cluster`` (created on first use)."""
    return load_or_create_ca(ca_path(cluster), cluster)
