"""Test certificates, made with `cryptography` (no openssl command): a CA, the loopback broker's server certificate
and client certificates, written as PEM files.

    ca = Certificate.authority("test-ca")
    ca_file = ca.write(folder, "test-ca")                    # test-ca.pem (certificate) and test-ca.key
    ca.issue_server().write_keystore(folder / "server.pem")  # Kafka's PEM keystore: key + certificate + CA
    client = ca.issue_client("alice")                        # client.key_pem, client.cert_pem, client.pkcs12(b"pw")
    client.encrypted_key_pem("pw")                           # the key as encrypted PKCS#8, for ssl.key.password
    ca.issue_client("old", expired=True)                     # a client certificate whose validity has ended

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

    def issue_client(self, name: str, *, expired: bool = False) -> Certificate:
        """A client certificate (for mutual TLS) signed by this CA, with the common name `name`; an expired one
        was valid for a day that ended an hour ago."""
        return self._issue(name, ExtendedKeyUsageOID.CLIENT_AUTH, [], expired=expired)

    @property
    def key_pem(self) -> str:
        return self.key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode()

    def encrypted_key_pem(self, password: str) -> str:
        """The key as encrypted PKCS#8 ("BEGIN ENCRYPTED PRIVATE KEY"), as OpenSSL and Kafka read it."""
        encryption = serialization.BestAvailableEncryption(password.encode())
        pkcs8 = serialization.PrivateFormat.PKCS8
        return self.key.private_bytes(serialization.Encoding.PEM, pkcs8, encryption).decode()

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

    def _issue(
        self, name: str, usage: x509.ObjectIdentifier, alt_names: list[x509.GeneralName], *, expired: bool = False
    ) -> Certificate:
        key = _new_key()
        builder = (
            _builder(_name(name), self.cert.subject, key, expired=expired)
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


def _builder(
    subject: x509.Name, issuer: x509.Name, key: ec.EllipticCurvePrivateKey, *, expired: bool = False
) -> x509.CertificateBuilder:
    now = datetime.now(timezone.utc)
    if expired:
        start, end = now - timedelta(days=1, hours=1), now - timedelta(hours=1)
    else:
        start, end = now - timedelta(minutes=5), now + VALIDITY
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
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


# Throw-away passwords of the harness's client keys; ASCII (PKCS#12 readers disagree on how to encode the rest)
# with quotes, a backslash and separators, so that every layer a password passes through is exercised.
CLIENT_KEY_PASSWORD = "Key-Pass-4u'\"; =\\k"
CLIENT_KEYSTORE_PASSWORD = "Store-Pass-8z'\"; =\\s"


@dataclass(frozen=True)
class ClientCertificates:
    """Client certificates for a listener that requires them (mutual TLS), as files in `directory`:

    client.pem, client.key          certificate, and its key as unencrypted PKCS#8 (``ssl.certificate.location``...)
    client-keystore.pem             that key, certificate and the CA in one file (Java's PEM keystore)
    encrypted.pem, encrypted.key    another certificate, its key encrypted with `key_password`
    encrypted-keystore.pem          that encrypted key, its certificate and the CA in one file
    client.p12                      a PKCS#12 keystore (key, certificate, CA) locked with `keystore_password`
    untrusted.pem, untrusted.key    signed by a CA the broker does not trust
    expired.pem, expired.key        signed by the broker's CA, no longer valid
    """

    directory: Path
    key_password: str = CLIENT_KEY_PASSWORD
    keystore_password: str = CLIENT_KEYSTORE_PASSWORD

    @classmethod
    def create(cls, ca: Certificate, directory: Path) -> ClientCertificates:
        """Issue and write the whole set; the broker must trust `ca` (and nothing that signed `untrusted`)."""
        made = cls(directory)
        directory.mkdir(parents=True, exist_ok=True)
        client = ca.issue_client("harness-client")
        client.write(directory, "client")
        client.write_keystore(made.pem_keystore)
        encrypted = ca.issue_client("harness-client-encrypted-key")
        (directory / "encrypted.key").write_text(encrypted.encrypted_key_pem(made.key_password))
        (directory / "encrypted.pem").write_text(encrypted.cert_pem)
        made.encrypted_pem_keystore.write_text(encrypted.encrypted_key_pem(made.key_password) + encrypted.chain_pem)
        pkcs12_client = ca.issue_client("harness-client-pkcs12")
        made.pkcs12_keystore.write_bytes(pkcs12_client.pkcs12(made.keystore_password.encode()))
        stranger = Certificate.authority("not-the-broker-ca")
        stranger.issue_client("harness-client-untrusted").write(directory, "untrusted")
        ca.issue_client("harness-client-expired", expired=True).write(directory, "expired")
        return made

    def cert(self, name: str = "client") -> Path:
        """<name>.pem: client, encrypted, untrusted or expired."""
        return self.directory / f"{name}.pem"

    def key(self, name: str = "client") -> Path:
        """<name>.key: the key of cert(name); only encrypted.key is encrypted (with key_password)."""
        return self.directory / f"{name}.key"

    @property
    def pem_keystore(self) -> Path:
        return self.directory / "client-keystore.pem"

    @property
    def encrypted_pem_keystore(self) -> Path:
        return self.directory / "encrypted-keystore.pem"

    @property
    def pkcs12_keystore(self) -> Path:
        return self.directory / "client.p12"
