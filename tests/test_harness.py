"""The broker harness itself: every listener and user it advertises really works; its ports, certificates, cache
and pytest plugin."""

from __future__ import annotations

import ipaddress
import socket
import sqlite3
import ssl
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

import pytest
from confluent_kafka import KafkaError, Producer
from cryptography import x509
from cryptography.hazmat.primitives.serialization import pkcs12

import harness.identity_provider
import harness.kafka_broker
import harness.oidc_server
from harness.airflow_dag_run import AirflowHome, migrated_database
from harness.certificates import Certificate, ClientCertificates, make_ca
from harness.kafka_broker import KafkaBroker, User, broker_env, existing_broker_from_env, quiet, running_broker
from harness.locations import source_checkout
from harness.ports import free_port, free_ports

REPO = Path(__file__).resolve().parent.parent
needs_broker = pytest.mark.broker


@pytest.fixture(scope="module")
def kafka(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KafkaBroker]:
    with running_broker(tmp_path_factory.mktemp("harness-kafka")) as broker:
        yield broker


@pytest.fixture
def topic(kafka: KafkaBroker) -> str:
    name = f"harness-{uuid.uuid4().hex[:12]}"
    kafka.create_topic(name)
    return name


def produce_one(config: dict[str, object], topic: str, value: bytes, timeout: float = 20) -> None:
    """Produce one message and wait for its delivery; fail at once on an authentication or TLS error (the broker's
    TLS alert included)."""
    errors: list[KafkaError] = []
    reports: list[KafkaError | None] = []
    producer = Producer(quiet({**config, "error_cb": errors.append}))
    producer.produce(topic, value, on_delivery=lambda error, _message: reports.append(error))
    deadline = time.monotonic() + timeout
    while not reports and time.monotonic() < deadline:
        producer.poll(0.1)
        fatal = [
            e for e in errors if e.code() in (KafkaError._AUTHENTICATION, KafkaError._SSL) or "SSL alert" in e.str()
        ]
        assert not fatal, fatal
    assert reports == [None], (reports, errors)


def sasl_ssl(kafka: KafkaBroker, mechanism: str, user: User, ca_file: Path | None = None) -> dict[str, object]:
    return {
        "bootstrap.servers": kafka.sasl_ssl,
        "security.protocol": "SASL_SSL",
        "ssl.ca.location": str(ca_file or kafka.ca_file),
        "sasl.mechanism": mechanism,
        "sasl.username": user.name,
        "sasl.password": user.password,
    }


def assert_consumed(kafka: KafkaBroker, topic: str, *values: bytes) -> None:
    assert [m.value() for m in kafka.consume(topic, len(values))] == list(values)


@needs_broker
def test_plaintext_produce_and_consume(kafka: KafkaBroker, topic: str) -> None:
    produce_one({"bootstrap.servers": kafka.plaintext}, topic, b"plain")
    assert_consumed(kafka, topic, b"plain")


@needs_broker
def test_sasl_ssl_plain(kafka: KafkaBroker, topic: str) -> None:
    assert kafka.plain_user is not None
    produce_one(sasl_ssl(kafka, "PLAIN", kafka.plain_user), topic, b"sasl-ssl-plain")
    assert_consumed(kafka, topic, b"sasl-ssl-plain")


@needs_broker
def test_sasl_plaintext_plain(kafka: KafkaBroker, topic: str) -> None:
    assert kafka.plain_user is not None
    config = {
        "bootstrap.servers": kafka.sasl_plaintext,
        "security.protocol": "SASL_PLAINTEXT",
        "sasl.mechanism": "PLAIN",
        "sasl.username": kafka.plain_user.name,
        "sasl.password": kafka.plain_user.password,
    }
    produce_one(config, topic, b"sasl-plaintext")
    assert_consumed(kafka, topic, b"sasl-plaintext")


@needs_broker
@pytest.mark.parametrize("mechanism", ["SCRAM-SHA-256", "SCRAM-SHA-512"])
def test_sasl_ssl_scram(kafka: KafkaBroker, topic: str, mechanism: str) -> None:
    assert kafka.scram_user is not None
    produce_one(sasl_ssl(kafka, mechanism, kafka.scram_user), topic, mechanism.encode())
    assert_consumed(kafka, topic, mechanism.encode())


@needs_broker
@pytest.mark.parametrize("mechanism", ["PLAIN", "SCRAM-SHA-256"])
def test_tricky_user(kafka: KafkaBroker, topic: str, mechanism: str) -> None:
    user = kafka.tricky_user
    assert user is not None
    assert all(char in user.password for char in "'\"\\ ;=é€")
    produce_one(sasl_ssl(kafka, mechanism, user), topic, b"tricky")
    assert_consumed(kafka, topic, b"tricky")


@needs_broker
def test_unicode_user_name_with_plain(kafka: KafkaBroker, topic: str) -> None:
    user = kafka.unicode_user
    assert user is not None and not user.name.isascii()
    produce_one(sasl_ssl(kafka, "PLAIN", user), topic, b"unicode")
    assert_consumed(kafka, topic, b"unicode")


@needs_broker
def test_wrong_ca_is_refused(kafka: KafkaBroker, topic: str, tmp_path: Path) -> None:
    assert kafka.plain_user is not None
    wrong_ca = make_ca(tmp_path, "wrong-ca")
    with pytest.raises(AssertionError, match="code=_SSL"):
        produce_one(sasl_ssl(kafka, "PLAIN", kafka.plain_user, ca_file=wrong_ca), topic, b"never", timeout=5)


@needs_broker
def test_broker_env_describes_every_listener(kafka: KafkaBroker) -> None:
    env = broker_env(kafka)
    assert env["KAFKA_BOOTSTRAP_SERVERS"] == kafka.plaintext
    assert env["KAFKA_SASL_SSL_BOOTSTRAP_SERVERS"] == kafka.sasl_ssl
    assert env["KAFKA_SASL_PLAINTEXT_BOOTSTRAP_SERVERS"] == kafka.sasl_plaintext
    assert env["KAFKA_CA_LOCATION"] == str(kafka.ca_file)
    assert env["KAFKA_SSL_BOOTSTRAP_SERVERS"] == kafka.ssl
    assert env["KAFKA_CLIENT_CERTIFICATES"] == str(kafka.client_certificates.directory)
    assert kafka.plain_user == User(env["KAFKA_USERNAME"], env["KAFKA_PASSWORD"])
    assert kafka.scram_user == User(env["KAFKA_SCRAM_USERNAME"], env["KAFKA_SCRAM_PASSWORD"])


@needs_broker
def test_broker_env_round_trips_the_ssl_listener_and_client_certificates(
    kafka: KafkaBroker, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in broker_env(kafka).items():
        monkeypatch.setenv(name, value)
    described = existing_broker_from_env()
    assert described is not None
    assert (described.ssl, described.client_certificates) == (kafka.ssl, kafka.client_certificates)


@needs_broker
def test_ssl_listener_requires_a_client_certificate_signed_by_its_ca(kafka: KafkaBroker, topic: str) -> None:
    assert kafka.ssl and kafka.client_certificates
    certs = kafka.client_certificates
    tls = {"bootstrap.servers": kafka.ssl, "security.protocol": "SSL", "ssl.ca.location": str(kafka.ca_file)}

    def client(name: str) -> dict[str, object]:
        return {**tls, "ssl.certificate.location": str(certs.cert(name)), "ssl.key.location": str(certs.key(name))}

    produce_one(client("client"), topic, b"m")
    assert_consumed(kafka, topic, b"m")
    for refused in (tls, client("untrusted"), client("expired")):
        with pytest.raises(AssertionError, match="SSL alert number"):
            produce_one(refused, topic, b"never", timeout=5)


@needs_broker
def test_restart_keeps_data_and_ports(kafka: KafkaBroker, topic: str) -> None:
    produce_one({"bootstrap.servers": kafka.plaintext}, topic, b"before restart")
    address = kafka.plaintext
    restarter = threading.Thread(target=kafka.restart, kwargs={"down_seconds": 0.5})
    restarter.start()
    restarter.join()
    assert kafka.plaintext == address
    produce_one({"bootstrap.servers": kafka.plaintext}, topic, b"after restart")
    assert_consumed(kafka, topic, b"before restart", b"after restart")


# --- without a broker -------------------------------------------------------------------------------------------


def test_the_pytest_plugin_is_registered_through_its_entry_point(request: pytest.FixtureRequest) -> None:
    import harness.pytest_plugin

    assert request.config.pluginmanager.get_plugin("kafka_connector_harness") is harness.pytest_plugin


def test_the_harness_comes_from_its_own_distribution_and_caches_jars_in_the_repository() -> None:
    assert Path(harness.kafka_broker.__file__).parent == REPO / "harness" / "src" / "harness"
    assert source_checkout() == REPO
    assert harness.kafka_broker.CACHE_DIR == REPO / ".cache" / f"kafka-{harness.kafka_broker.KAFKA_VERSION}"
    assert harness.kafka_broker.POM.is_file()
    assert harness.oidc_server.LIB_DIR == REPO / ".cache" / f"mock-oauth2-server-{harness.oidc_server.VERSION}" / "lib"
    assert harness.oidc_server.POM.is_file()
    assert harness.identity_provider.build_dir().parent == REPO / ".cache"
    assert all(path.is_file() for path in harness.identity_provider.SOURCES)


def test_free_ports_are_distinct_and_closed() -> None:
    ports = free_ports(5)
    assert len(set(ports)) == 5
    for port in [*ports, free_port()]:
        with socket.socket() as sock, pytest.raises(ConnectionRefusedError):
            sock.connect(("127.0.0.1", port))


def test_server_certificate_names_the_loopback_and_verifies_against_its_ca(tmp_path: Path) -> None:
    ca = Certificate.authority("test-ca")
    ca_file = ca.write(tmp_path, "test-ca")
    server = ca.issue_server()
    names = server.cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert names.get_values_for_type(x509.IPAddress) == [ipaddress.ip_address("127.0.0.1")]
    assert names.get_values_for_type(x509.DNSName) == ["localhost"]
    keystore = server.write_keystore(tmp_path / "keystore.pem").read_text()
    assert keystore.startswith("-----BEGIN PRIVATE KEY-----")  # unencrypted PKCS#8, as Kafka's PEM keystore needs
    assert keystore.count("BEGIN CERTIFICATE") == 2 and keystore.endswith(ca.cert_pem)
    server.cert.verify_directly_issued_by(Certificate.load(ca_file).cert)
    # Python's own TLS stack loads the keystore, and the CA file as trust.
    ssl.create_default_context(ssl.Purpose.CLIENT_AUTH).load_cert_chain(tmp_path / "keystore.pem")
    ssl.create_default_context(cafile=ca_file)


def test_the_client_certificate_set(tmp_path: Path) -> None:
    ca = Certificate.authority("broker-ca")
    certs = ClientCertificates.create(ca, tmp_path)
    for name in ("client", "encrypted", "expired"):
        x509.load_pem_x509_certificate(certs.cert(name).read_bytes()).verify_directly_issued_by(ca.cert)
    untrusted = x509.load_pem_x509_certificate(certs.cert("untrusted").read_bytes())
    assert untrusted.issuer != ca.cert.subject
    expired = x509.load_pem_x509_certificate(certs.cert("expired").read_bytes())
    assert expired.not_valid_after_utc < datetime.now(timezone.utc)
    # Only the encrypted key needs its password, which OpenSSL (Python's ssl module) accepts.
    assert certs.key("encrypted").read_text().startswith("-----BEGIN ENCRYPTED PRIVATE KEY-----")
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
    context.load_cert_chain(certs.cert("encrypted"), certs.key("encrypted"), password=certs.key_password)
    context.load_cert_chain(certs.encrypted_pem_keystore, password=certs.key_password)
    context.load_cert_chain(certs.pem_keystore)
    with pytest.raises(ssl.SSLError):
        context.load_cert_chain(certs.cert("encrypted"), certs.key("encrypted"), password="wrong")
    stores = pkcs12.load_pkcs12(certs.pkcs12_keystore.read_bytes(), certs.keystore_password.encode())
    assert stores.cert is not None and [extra.certificate for extra in stores.additional_certs] == [ca.cert]


def test_client_certificate_and_its_keystores(tmp_path: Path) -> None:
    ca = Certificate.load(make_ca(tmp_path, "client-ca"))
    client = ca.issue_client("alice")
    client.cert.verify_directly_issued_by(ca.cert)
    assert client.cert.subject.rfc4514_string() == "CN=alice"
    stores = pkcs12.load_pkcs12(client.pkcs12(b"store-pass"), b"store-pass")
    assert stores.cert is not None and stores.cert.certificate == client.cert
    assert [extra.certificate for extra in stores.additional_certs] == [ca.cert]


def test_airflow_database_is_migrated_once_and_copied_into_each_home(tmp_path: Path) -> None:
    template = migrated_database()
    made = template.stat().st_mtime_ns
    assert migrated_database() == template and template.stat().st_mtime_ns == made
    with sqlite3.connect(template) as db:
        assert db.execute("SELECT count(*) FROM alembic_version").fetchone() == (1,)
    home = AirflowHome(tmp_path, {})
    assert (home.path / "airflow.db").read_bytes() == template.read_bytes()
