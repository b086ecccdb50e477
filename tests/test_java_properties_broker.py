"""The spec's own examples, written in the Java client's form, work against the real broker."""

from __future__ import annotations

import pytest

from airflow_provider_kafka_connector.hooks.kafka_producer import KafkaProducerHook
from airflow_provider_kafka_connector.producer import OutgoingMessage
from harness.pytest_plugin import require

pytestmark = pytest.mark.broker

PLAIN_MODULE = "org.apache.kafka.common.security.plain.PlainLoginModule"
SCRAM_MODULE = "org.apache.kafka.common.security.scram.ScramLoginModule"
STRING_SERIALIZER = "org.apache.kafka.common.serialization.StringSerializer"


def jaas_quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def java_style_properties(broker, mechanism: str, jaas: str) -> dict:
    """As a Java or Camunda set-up writes them: the spec's defaults plus a PEM truststore."""
    return {
        "security.protocol": "SASL_SSL",
        "sasl.mechanism": mechanism,
        "sasl.jaas.config": jaas,
        "ssl.truststore.type": "PEM",
        "ssl.truststore.location": str(broker.ca_file),
        "key.serializer": STRING_SERIALIZER,
        "value.serializer": STRING_SERIALIZER,
        "session.timeout.ms": "45000",
        "client.dns.lookup": "use_all_dns_ips",
        "acks": "all",
        "delivery.timeout.ms": "45000",
    }


def send_and_read_back(broker, topic, kafka_connection, extra, task_properties=None):
    conn_id = kafka_connection(host=broker.sasl_ssl, extra=extra)
    with KafkaProducerHook(conn_id).get_producer(task_properties) as producer:
        response = producer.send(OutgoingMessage(topic, b"key", "välue".encode(), []))
    [record] = broker.consume(topic, 1)
    assert (record.offset(), record.value()) == (response["offset"], "välue".encode())


def test_spec_default_plain_jaas_line(broker, topic, kafka_connection):
    require(broker.sasl_ssl and broker.plain_user, "SASL_SSL listener with a PLAIN user")
    user = broker.plain_user
    # The spec's line, with its runs of spaces.
    jaas = f"{PLAIN_MODULE}   required username='{user.name}'   password='{user.password}';"
    send_and_read_back(broker, topic, kafka_connection, java_style_properties(broker, "PLAIN", jaas))


def test_scram_login_module_with_client_id(broker, topic, kafka_connection):
    require(broker.sasl_ssl and broker.scram_user, "SASL_SSL listener with a SCRAM user")
    user = broker.scram_user
    jaas = f'{SCRAM_MODULE} required username="{user.name}" password="{user.password}";'
    extra = java_style_properties(broker, "SCRAM-SHA-256", jaas)
    send_and_read_back(broker, topic, kafka_connection, extra, {"client.id": "MyDemoClientId"})


def test_jaas_line_with_quotes_backslashes_and_non_ascii(broker, topic, kafka_connection):
    require(broker.sasl_ssl and broker.tricky_user, "SASL_SSL listener with the tricky user")
    user = broker.tricky_user
    jaas = f"{SCRAM_MODULE} required username={jaas_quoted(user.name)} password={jaas_quoted(user.password)};"
    send_and_read_back(broker, topic, kafka_connection, java_style_properties(broker, "SCRAM-SHA-512", jaas))


def test_connection_fields_and_java_overrides_together(broker, topic, kafka_connection):
    """The spec's override example on top of login and password: SCRAM-SHA-256 with a client.id."""
    require(broker.sasl_ssl and broker.scram_user, "SASL_SSL listener with a SCRAM user")
    conn_id = kafka_connection(
        host=broker.sasl_ssl,
        login=broker.scram_user.name,
        password=broker.scram_user.password,
        extra={"ssl.truststore.type": "PEM", "ssl.truststore.location": str(broker.ca_file)},
    )
    hook = KafkaProducerHook(conn_id)
    with hook.get_producer({"client.id": "MyDemoClientId", "sasl.mechanism": "SCRAM-SHA-256"}) as producer:
        producer.send(OutgoingMessage(topic, None, b"v", []))
    assert broker.consume(topic, 1)[0].value() == b"v"
