"""A token callback named by a connection (`oauth_cb`): allowed only where the deployment lists it in
[kafka_connector] callback_allowlist; listed, it authenticates the producer at a real OAUTHBEARER broker."""

from __future__ import annotations

import time

import pytest

from airflow_provider_kafka_connector.callbacks import client_settings, imported_callback
from airflow_provider_kafka_connector.exceptions import KafkaConfigurationError, PropertyPolicyError
from airflow_provider_kafka_connector.hooks.kafka_producer import KafkaProducerHook
from airflow_provider_kafka_connector.producer import OutgoingMessage
from airflow_provider_kafka_connector.serialization import serialized_records
from harness import oidc_server as oidc
from harness import token_callbacks

CALLBACK = "harness.token_callbacks.client_credentials"
ALLOWLIST = "AIRFLOW__KAFKA_CONNECTOR__CALLBACK_ALLOWLIST"


@pytest.fixture
def callback_connection(oauth_broker, oidc_server, kafka_connection):
    config = (
        f"token_url={oidc_server.token_endpoint} client_id={oidc.CLIENT_ID} "
        f"client_secret={oidc.CLIENT_SECRET} scope={oidc.SCOPE}"
    )
    token_callbacks.CALLS.clear()
    return kafka_connection(
        "kafka_callback",
        host=oauth_broker.oauth,
        extra={
            "security.protocol": "SASL_SSL",
            "ssl.ca.location": str(oauth_broker.ca_file),
            "sasl.mechanism": "OAUTHBEARER",
            "oauth_cb": CALLBACK,
            "sasl.oauthbearer.config": config,
        },
    )


def test_a_client_gets_the_named_function_and_the_configuration_keeps_its_name():
    config = {"bootstrap.servers": "b:1", "oauth_cb": CALLBACK}
    assert client_settings(config)["oauth_cb"] is token_callbacks.client_credentials
    assert config["oauth_cb"] == CALLBACK


@pytest.mark.parametrize(
    "path, words",
    [
        ("no_such_module.fetch_token", "cannot be imported: No module named 'no_such_module'"),
        ("harness.token_callbacks.no_such_function", "cannot be imported"),
        ("fetch_token", "names no module"),
        ("harness.token_callbacks.CALLS", "is not a function"),
    ],
)
def test_a_callback_that_is_no_importable_function_says_so(path, words):
    with pytest.raises(KafkaConfigurationError, match=words):
        imported_callback(path)


@pytest.mark.broker
def test_an_unlisted_callback_is_refused_before_anything_runs(callback_connection, monkeypatch):
    monkeypatch.delenv(ALLOWLIST, raising=False)
    hook = KafkaProducerHook(callback_connection)
    with pytest.raises(PropertyPolicyError) as raised:
        hook.get_producer()
    message = str(raised.value)
    assert "Property 'oauth_cb' in the extra of connection 'kafka_callback' is refused" in message
    assert f"add {CALLBACK!r} to [kafka_connector] callback_allowlist (environment variable {ALLOWLIST})" in message
    ok, tested = hook.test_connection()
    assert not ok and "callback_allowlist" in tested
    assert token_callbacks.CALLS == []


@pytest.mark.broker
def test_a_listed_callback_authenticates_a_message_a_batch_and_the_connections_test(
    callback_connection, oauth_broker, monkeypatch
):
    monkeypatch.setenv(ALLOWLIST, CALLBACK)
    topic = f"callback-{time.monotonic_ns()}"
    oauth_broker.create_topic(topic, partitions=3)
    hook = KafkaProducerHook(callback_connection)
    started = time.monotonic()
    with hook.get_producer(batch=True) as producer:
        created = time.monotonic() - started
        response = producer.send(OutgoingMessage(topic, b"k", b"authenticated by a callback", []))
        summary = producer.send_many(topic, serialized_records({"value": b"v"} for _ in range(1000)))
    assert response["topic"] == topic and summary["count"] == 1000
    assert token_callbacks.CALLS  # the callback ran (in this process: confluent-kafka calls it)
    print(f"a producer with a token callback was created in {created:.2f} s")
    ok, message = hook.test_connection()
    assert ok and message.startswith("Connected to Kafka cluster"), message
