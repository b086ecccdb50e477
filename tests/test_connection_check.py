"""The Connections UI's Test, below the UI: KafkaProducerHook.test_connection() against the real broker."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from airflow_provider_kafka_connector.connection_check import check_connection
from airflow_provider_kafka_connector.hooks.kafka_producer import KafkaProducerHook
from harness.ports import free_port
from harness.pytest_plugin import require

WRONG_PASSWORD = "Wrong-Pass-4711"


def timed_test(hook: KafkaProducerHook) -> tuple[bool, str, float]:
    started = time.monotonic()
    ok, message = hook.test_connection()
    return ok, message, time.monotonic() - started


def test_importing_the_hook_does_not_import_confluent_kafka():
    code = (
        "import sys, airflow_provider_kafka_connector.hooks.kafka_producer;sys.exit('confluent_kafka' in sys.modules)"
    )
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0


def test_invalid_configuration_is_reported_without_a_broker():
    ok, message = check_connection({"bootstrap.servers": "127.0.0.1:1", "linger.mss": "5"})
    assert not ok
    assert message.startswith("'linger.mss' is neither a librdkafka producer property nor a Java client property")
    assert "Did you mean 'linger.ms'" in message


def test_a_connection_without_servers_names_what_is_missing(kafka_connection):
    conn_id = kafka_connection(login="alice", password="Secret-Pass-1")
    ok, message = KafkaProducerHook(conn_id).test_connection()
    assert not ok
    assert "names no bootstrap server" in message
    assert "Secret-Pass-1" not in message


@pytest.mark.broker
def test_plaintext_success_names_the_cluster_and_its_brokers(broker, kafka_connection):
    ok, message, seconds = timed_test(KafkaProducerHook(kafka_connection(host=broker.plaintext)))
    cluster_id = broker.admin().list_topics(timeout=10).cluster_id
    assert ok, message
    assert message.startswith(f"Connected to Kafka cluster {cluster_id} over PLAINTEXT: 1 broker reachable: ")
    assert broker.plaintext in message
    assert seconds < 5


@pytest.mark.broker
def test_sasl_ssl_success_with_the_connection_credentials(broker, kafka_connection):
    require(broker.sasl_ssl and broker.plain_user and broker.ca_file, "SASL_SSL listener, PLAIN user and CA file")
    user = broker.plain_user
    conn_id = kafka_connection(
        host=broker.sasl_ssl,
        login=user.name,
        password=user.password,
        extra={"additional_properties": {"ssl.ca.location": str(broker.ca_file)}},
    )
    ok, message, _ = timed_test(KafkaProducerHook(conn_id))
    assert ok, message
    assert f"over SASL_SSL (PLAIN as user '{user.name}')" in message
    assert user.password not in message


@pytest.mark.broker
def test_wrong_password_fails_fast_naming_user_and_mechanism(broker, kafka_connection):
    require(broker.sasl_ssl and broker.plain_user and broker.ca_file, "SASL_SSL listener, PLAIN user and CA file")
    user = broker.plain_user
    conn_id = kafka_connection(
        host=broker.sasl_ssl, login=user.name, password=WRONG_PASSWORD, extra={"ssl.ca.location": str(broker.ca_file)}
    )
    ok, message, seconds = timed_test(KafkaProducerHook(conn_id))
    assert not ok
    assert message.startswith(f"Authentication failed for user '{user.name}' with mechanism PLAIN at {broker.sasl_ssl}")
    assert "Invalid username or password" in message
    assert WRONG_PASSWORD not in message
    assert seconds < 5


@pytest.mark.broker
def test_untrusted_certificate_points_to_ssl_ca_location(broker, kafka_connection):
    require(broker.sasl_ssl and broker.plain_user, "SASL_SSL listener with a PLAIN user")
    user = broker.plain_user
    conn_id = kafka_connection(host=broker.sasl_ssl, login=user.name, password=user.password)
    ok, message, seconds = timed_test(KafkaProducerHook(conn_id))
    assert not ok
    assert message.startswith(f"TLS connection to {broker.sasl_ssl} failed:")
    assert "certificate verify failed" in message
    assert "'ssl.ca.location'" in message
    assert user.password not in message
    assert seconds < 5


@pytest.mark.broker
def test_plaintext_client_on_a_tls_listener_says_so(broker, kafka_connection):
    require(broker.sasl_ssl, "SASL_SSL listener")
    ok, message, seconds = timed_test(KafkaProducerHook(kafka_connection(host=broker.sasl_ssl)))
    assert not ok
    assert message.startswith(f"The broker at {broker.sasl_ssl} does not speak PLAINTEXT on that port")
    assert seconds < 5


@pytest.mark.broker
def test_credentials_at_a_plaintext_listener_say_so(broker, kafka_connection):
    conn_id = kafka_connection(host=broker.plaintext, login="alice", password="Secret-Pass-1")
    ok, message, seconds = timed_test(KafkaProducerHook(conn_id))
    assert not ok
    assert message.startswith(f"The broker at {broker.plaintext} does not speak SASL_SSL on that port")
    assert "Secret-Pass-1" not in message
    assert seconds < 5


def test_unreachable_broker(kafka_connection):
    port = free_port()
    ok, message, seconds = timed_test(KafkaProducerHook(kafka_connection(host=f"127.0.0.1:{port}")))
    assert not ok
    assert message.startswith(f"No broker at 127.0.0.1:{port} answered within")
    assert "Connection refused" in message
    assert seconds < 8


def test_unresolvable_host(kafka_connection):
    ok, message, seconds = timed_test(KafkaProducerHook(kafka_connection(host="no-such-broker.invalid:9092")))
    assert not ok
    assert "Failed to resolve 'no-such-broker.invalid:9092'" in message
    assert seconds < 8
