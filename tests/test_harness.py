"""The broker harness itself: every listener and user it advertises really works."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from confluent_kafka import KafkaError, Producer

from harness.kafka_broker import KafkaBroker, User, broker_env, make_ca, quiet, running_broker

pytestmark = pytest.mark.broker


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
    """Produce one message and wait for its delivery; fail at once on an authentication or TLS error."""
    errors: list[KafkaError] = []
    reports: list[KafkaError | None] = []
    producer = Producer(quiet({**config, "error_cb": errors.append}))
    producer.produce(topic, value, on_delivery=lambda error, _message: reports.append(error))
    deadline = time.monotonic() + timeout
    while not reports and time.monotonic() < deadline:
        producer.poll(0.1)
        fatal = [e for e in errors if e.code() in (KafkaError._AUTHENTICATION, KafkaError._SSL)]
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


def test_plaintext_produce_and_consume(kafka: KafkaBroker, topic: str) -> None:
    produce_one({"bootstrap.servers": kafka.plaintext}, topic, b"plain")
    assert_consumed(kafka, topic, b"plain")


def test_sasl_ssl_plain(kafka: KafkaBroker, topic: str) -> None:
    assert kafka.plain_user is not None
    produce_one(sasl_ssl(kafka, "PLAIN", kafka.plain_user), topic, b"sasl-ssl-plain")
    assert_consumed(kafka, topic, b"sasl-ssl-plain")


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


@pytest.mark.parametrize("mechanism", ["SCRAM-SHA-256", "SCRAM-SHA-512"])
def test_sasl_ssl_scram(kafka: KafkaBroker, topic: str, mechanism: str) -> None:
    assert kafka.scram_user is not None
    produce_one(sasl_ssl(kafka, mechanism, kafka.scram_user), topic, mechanism.encode())
    assert_consumed(kafka, topic, mechanism.encode())


@pytest.mark.parametrize("mechanism", ["PLAIN", "SCRAM-SHA-256"])
def test_tricky_user(kafka: KafkaBroker, topic: str, mechanism: str) -> None:
    user = kafka.tricky_user
    assert user is not None
    assert all(char in user.password for char in "'\"\\ ;=é€")
    produce_one(sasl_ssl(kafka, mechanism, user), topic, b"tricky")
    assert_consumed(kafka, topic, b"tricky")


def test_unicode_user_name_with_plain(kafka: KafkaBroker, topic: str) -> None:
    user = kafka.unicode_user
    assert user is not None and not user.name.isascii()
    produce_one(sasl_ssl(kafka, "PLAIN", user), topic, b"unicode")
    assert_consumed(kafka, topic, b"unicode")


def test_wrong_ca_is_refused(kafka: KafkaBroker, topic: str, tmp_path: Path) -> None:
    assert kafka.plain_user is not None
    wrong_ca = make_ca(tmp_path, "wrong-ca")
    with pytest.raises(AssertionError, match="code=_SSL"):
        produce_one(sasl_ssl(kafka, "PLAIN", kafka.plain_user, ca_file=wrong_ca), topic, b"never", timeout=5)


def test_broker_env_describes_every_listener(kafka: KafkaBroker) -> None:
    env = broker_env(kafka)
    assert env["KAFKA_BOOTSTRAP_SERVERS"] == kafka.plaintext
    assert env["KAFKA_SASL_SSL_BOOTSTRAP_SERVERS"] == kafka.sasl_ssl
    assert env["KAFKA_SASL_PLAINTEXT_BOOTSTRAP_SERVERS"] == kafka.sasl_plaintext
    assert env["KAFKA_CA_LOCATION"] == str(kafka.ca_file)
    assert kafka.plain_user == User(env["KAFKA_USERNAME"], env["KAFKA_PASSWORD"])
    assert kafka.scram_user == User(env["KAFKA_SCRAM_USERNAME"], env["KAFKA_SCRAM_PASSWORD"])


def test_restart_keeps_data_and_ports(kafka: KafkaBroker, topic: str) -> None:
    produce_one({"bootstrap.servers": kafka.plaintext}, topic, b"before restart")
    address = kafka.plaintext
    restarter = threading.Thread(target=kafka.restart, kwargs={"down_seconds": 0.5})
    restarter.start()
    restarter.join()
    assert kafka.plaintext == address
    produce_one({"bootstrap.servers": kafka.plaintext}, topic, b"after restart")
    assert_consumed(kafka, topic, b"before restart", b"after restart")
