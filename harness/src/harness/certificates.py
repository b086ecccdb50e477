"""Test certificates, made with `cryptography` (no openssl command): a CA, the loopback broker's server certificate
and client certificates, written as PEM files.

    ca = Certificate.authority("test-ca")
    ca_file = ca.write(folder, "test-ca")                    # test-ca.pem (certificate) and test-ca.key
    ca.issue_server().write_keystore(folder / "server.pem")  # Kafka's PEM keystore: key + certificate + CA
    client = ca.issue_client("alice")                        # client.key_pem, client.cert_pem, client.pkcs12(b"pw")

Keys are EC P-256, written unencrypted as PKCS#8 ("BEGIN PRIVATE KEY"), which Kafka's PEM keystore needs.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

VALIDITY = timedelta(days=30)
# librdkafka verifies the broker's host name by default: the server certificate names both ways to reach it.
LOOPBACK_HOSTS = ("127.0.0.1", "localhost")


@dataclass(frozen=True)
class Certificate:
    """A private key and its certificate; `issuer` is the CA that signed it (None: self-signed or loaded)."""

    key: ec.EllipticCurvePrivateKey
    cert: x509.Certificate
    issuer: Certificate | None = None

    @classmethod
    def authority(cls, name: str = "harness-ca") -> Certificate:
        """A new self-signed CA named `name`."""
        key = _new_key()
        subject = _name(name)
        builder = (
            _builder(subject, subject, key)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(_key_usage(key_cert_sign=True, crl_sign=True), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        )
        return cls(key, builder.sign(key, hashes.SHA256()))

    @classmethod
    def load(cls, cert_file: Path, key_file: Path | None = None) -> Certificate:
        """Read back a certificate and its key (by default next to it: <name>.key, as `write` leaves them)."""
        key = serialization.load_pem_private_key((key_file or cert_file.with_suffix(".key")).read_bytes(), None)
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            raise TypeError(f"{key_file} does not hold an EC key")
        return cls(key, x509.load_pem_x509_certificate(cert_file.read_bytes()))

    def issue_server(self, name: str = "localhost", hosts: Sequence[str] = LOOPBACK_HOSTS) -> Certificate:
        """A server certificate signed by this CA, with `hosts` (IP addresses or DNS names) in its subjectAltName."""
        names = [_general_name(host) for host in hosts]
        return self._issue(name, ExtendedKeyUsageOID.SERVER_AUTH, names)

    def issue_client(self, name: str) -> Certificate:
        """A client certificate (for mutual TLS) signed by this CA, with the common name `name`."""
        return self._issue(name, ExtendedKeyUsageOID.CLIENT_AUTH, [])

    @property
    def key_pem(self) -> str:
        return self.key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode()

    @property
    def cert_pem(self) -> str:
        return self.cert.public_bytes(serialization.Encoding.PEM).decode()

    @property
    def chain_pem(self) -> str:
        """This certificate, then its issuers' (as far as they are known)."""
        return self.cert_pem + (self.issuer.chain_pem if self.issuer else "")

    def write(self, directory: Path, name: str) -> Path:
        """Write <name>.pem (the certificate) and <name>.key (its key) into directory; returns the certificate file."""
        directory.mkdir(parents=True, exist_ok=True)
        (directory / f"{name}.key").write_text(self.key_pem)
        cert_file = directory / f"{name}.pem"
        cert_file.write_text(self.cert_pem)
        return cert_file

    def write_keystore(self, path: Path) -> Path:
        """Kafka's (and librdkafka's) PEM keystore: the unencrypted PKCS#8 key, this certificate and its issuers."""
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.key_pem + self.chain_pem)
        return path

    def pkcs12(self, password: bytes | None = None, alias: bytes = b"client") -> bytes:
        """A PKCS#12 keystore with the key, this certificate and its issuers."""
        issuers = []
        issuer = self.issuer
        while issuer is not None:
            issuers.append(issuer.cert)
            issuer = issuer.issuer
        encryption = serialization.BestAvailableEncryption(password) if password else serialization.NoEncryption()
        return pkcs12.serialize_key_and_certificates(alias, self.key, self.cert, issuers or None, encryption)

    def _issue(self, name: str, usage: x509.ObjectIdentifier, alt_names: list[x509.GeneralName]) -> Certificate:
        key = _new_key()
        builder = (
            _builder(_name(name), self.cert.subject, key)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(_key_usage(digital_signature=True), critical=True)
            .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(self.key.public_key()), critical=False)
        )
        if alt_names:
            builder = builder.add_extension(x509.SubjectAlternativeName(alt_names), critical=False)
        return Certificate(key, builder.sign(self.key, hashes.SHA256()), issuer=self)


def make_ca(directory: Path, name: str) -> Path:
    """Create a CA key (<name>.key) and self-signed certificate (<name>.pem) in directory; returns the certificate."""
    return Certificate.authority(name).write(directory, name)


def _new_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _builder(subject: x509.Name, issuer: x509.Name, key: ec.EllipticCurvePrivateKey) -> x509.CertificateBuilder:
    now = datetime.now(timezone.utc)
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + VALIDITY)
    )


def _key_usage(
    *, digital_signature: bool = False, key_cert_sign: bool = False, crl_sign: bool = False
) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=digital_signature,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=key_cert_sign,
        crl_sign=crl_sign,
        encipher_only=False,
        decipher_only=False,
    )


def _general_name(host: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(host))
    except ValueError:
        return x509.DNSName(host)
