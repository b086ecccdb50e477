"""The hook against real Airflow connections and a real broker: each authentication path of the spec."""

from __future__ import annotations

from importlib.metadata import version

import pytest

from airflow_provider_kafka_connector.config import MISCELLANEOUS_DEFAULTS, ProducerConfigError
from airflow_provider_kafka_connector.exceptions import PropertyPolicyError
from airflow_provider_kafka_connector.hooks.kafka_producer import KafkaProducerHook
from airflow_provider_kafka_connector.producer import OutgoingMessage
from harness.pytest_plugin import require

AIRFLOW = tuple(int(part) for part in version("apache-airflow-core").split(".")[:2])


def send_one(hook: KafkaProducerHook, topic: str, additional_properties: dict | None = None) -> dict:
    with hook.get_producer(additional_properties) as producer:
        return producer.send(OutgoingMessage(topic=topic, key=b"k", value=b"v", headers=[]))


def test_producer_config_from_connection_fields_and_extras(kafka_connection):
    conn_id = kafka_connection(
        host="b1:9092,b2:9092", login="alice", password="pa ss", extra={"client.id": "from-extras", "acks": "1"}
    )
    config = KafkaProducerHook(conn_id).producer_config({"acks": "all"})
    assert config == {
        "bootstrap.servers": "b1:9092,b2:9092",
        "security.protocol": "SASL_SSL",
        "sasl.mechanism": "PLAIN",
        "sasl.username": "alice",
        "sasl.password": "pa ss",
        **MISCELLANEOUS_DEFAULTS,
        "enable.sparse.connections": "true",  # SASL_SSL: see config.sparse_connections_default
        "client.id": "from-extras",
    }


def test_port_field_applies_to_a_single_host(kafka_connection):
    conn_id = kafka_connection(host="broker", port=9093)
    assert KafkaProducerHook(conn_id).producer_config()["bootstrap.servers"] == "broker:9093"


@pytest.mark.xfail(
    AIRFLOW < (3, 2),
    reason="Airflow 3.1 cannot read such a connection itself: outside a task it fails importing SUPERVISOR_COMMS",
    raises=ImportError,
    strict=True,
)
def test_extras_that_are_not_an_object_name_the_connection(kafka_connection):
    conn_id = kafka_connection(host="b:1", extra='["client.id"]')
    with pytest.raises(ProducerConfigError, match=f"connection '{conn_id}' must be a JSON object"):
        KafkaProducerHook(conn_id).producer_config()


def test_producer_config_shows_no_oauth_client_secret(kafka_connection, monkeypatch):
    monkeypatch.setenv("AIRFLOW__KAFKA_CONNECTOR__ALLOWED_URLS", "https://idp.example.com/token")
    conn_id = kafka_connection(
        host="b:1",
        extra={
            "sasl.mechanism": "OAUTHBEARER",
            "sasl.login.callback.handler.class": "org.apache.kafka.common.security.oauthbearer."
            "OAuthBearerLoginCallbackHandler",
            "sasl.oauthbearer.token.endpoint.url": "https://idp.example.com/token",
            "sasl.jaas.config": "org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required "
            "clientId='airflow' clientSecret='Client-Secret-42x';",
        },
    )
    config = KafkaProducerHook(conn_id).producer_config()
    assert config["sasl.oauthbearer.client.secret"] == "Client-Secret-42x"  # the name every librdkafka takes
    assert "Client-Secret-42x" not in repr(config) + str(config)
    assert "https://idp.example.com/token" in repr(config)


def test_the_hook_applies_the_deployments_property_policy(kafka_connection, monkeypatch):
    conn_id = kafka_connection(host="b:1", extra={"plugin.library.paths": "/opt/lib/interceptor.so"})
    with pytest.raises(PropertyPolicyError, match=f"in the extra of connection '{conn_id}' is refused"):
        KafkaProducerHook(conn_id).producer_config()
    with pytest.raises(PropertyPolicyError, match="in the task's additional_properties is refused"):
        KafkaProducerHook(kafka_connection("kafka_plain", host="b:1")).producer_config(
            {"ssl.engine.location": "/opt/engine.so"}
        )
    monkeypatch.setenv("AIRFLOW__KAFKA_CONNECTOR__ALLOWED_LIBRARY_PATHS", "/opt/engine.so, /opt/lib/interceptor.so")
    assert KafkaProducerHook(conn_id).producer_config()["plugin.library.paths"] == "/opt/lib/interceptor.so"


def test_repr_shows_no_configuration(kafka_connection):
    conn_id = kafka_connection(host="b:1", login="alice", password="hidden-pass")
    assert "hidden-pass" not in repr(KafkaProducerHook(conn_id))


@pytest.mark.broker
def test_plaintext(broker, topic, kafka_connection):
    response = send_one(KafkaProducerHook(kafka_connection(host=broker.plaintext)), topic)
    [record] = broker.consume(topic, 1)
    assert response == {
        "timestamp": record.timestamp()[1],
        "offset": record.offset(),
        "partition": record.partition(),
        "topic": topic,
    }


@pytest.mark.broker
def test_login_and_password_use_sasl_ssl_plain(broker, topic, kafka_connection):
    require(broker.sasl_ssl and broker.plain_user, "SASL_SSL listener with a PLAIN user")
    conn_id = kafka_connection(
        host=broker.sasl_ssl,
        login=broker.plain_user.name,
        password=broker.plain_user.password,
        extra={"ssl.ca.location": str(broker.ca_file)} if broker.ca_file else {},
    )
    response = send_one(KafkaProducerHook(conn_id), topic)
    [record] = broker.consume(topic, 1)
    assert (response["partition"], response["offset"]) == (record.partition(), record.offset())


@pytest.mark.broker
@pytest.mark.parametrize("mechanism", ["SCRAM-SHA-256", "SCRAM-SHA-512"])
def test_spec_override_example_switches_to_scram(broker, topic, kafka_connection, mechanism):
    require(broker.sasl_ssl and broker.scram_user, "SASL_SSL listener with a SCRAM user")
    conn_id = kafka_connection(
        host=broker.sasl_ssl,
        login=broker.scram_user.name,
        password=broker.scram_user.password,
        extra={"ssl.ca.location": str(broker.ca_file)} if broker.ca_file else {},
    )
    hook = KafkaProducerHook(conn_id)
    task_properties = {"client.id": "MyDemoClientId", "sasl.mechanism": mechanism}
    assert hook.producer_config(task_properties)["sasl.mechanism"] == mechanism
    response = send_one(hook, topic, task_properties)
    [record] = broker.consume(topic, 1)
    assert response["offset"] == record.offset()
