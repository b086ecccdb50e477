"""Token callbacks served through the provider's plugin (native_token.py) instead of confluent-kafka's oauth_cb: the
client is made without it, the real librdkafka asks the plugin for each token (the first and every refresh), and a
token callback's answer is read as confluent-kafka reads it."""

from __future__ import annotations

import time

import pytest
from confluent_kafka import Producer

from airflow_provider_kafka_connector import native_token
from airflow_provider_kafka_connector.callbacks import new_client
from harness import oidc_server as oidc
from harness import token_callbacks


@pytest.fixture
def oauth_config(oauth_broker, oidc_server):
    token_callbacks.CALLS.clear()
    return {
        "bootstrap.servers": oauth_broker.oauth,
        "security.protocol": "SASL_SSL",
        "ssl.ca.location": str(oauth_broker.ca_file),
        "sasl.mechanism": "OAUTHBEARER",
        "sasl.oauthbearer.config": (
            f"token_url={oidc_server.token_endpoint} client_id={oidc.CLIENT_ID} "
            f"client_secret={oidc.CLIENT_SECRET} scope={oidc.SCOPE}"
        ),
    }


def recording(made: list[dict]):
    def make(settings):
        made.append(settings)
        return Producer(settings)

    return make


@pytest.mark.broker
def test_the_client_gets_its_tokens_from_the_plugin_and_no_oauth_cb(oauth_config, oauth_broker):
    made: list[dict] = []
    config = {**oauth_config, "oauth_cb": "harness.token_callbacks.client_credentials"}
    producer = new_client(recording(made), config)
    [settings] = made
    assert "oauth_cb" not in settings
    assert native_token.TOKEN_PROPERTY in settings
    assert settings["plugin.library.paths"].endswith(".so")
    metadata = producer.list_topics(timeout=10)
    assert metadata.brokers
    assert len(token_callbacks.CALLS) == 1  # fetched once, before the client was made, and handed over


@pytest.mark.broker
def test_librdkafka_asks_again_before_the_token_expires_and_the_client_keeps_sending(oauth_config, oauth_broker):
    topic = f"token-refresh-{time.monotonic_ns()}"
    oauth_broker.create_topic(topic)
    producer = new_client(Producer, {**oauth_config, "oauth_cb": "harness.token_callbacks.short_lived"})
    delivered: list[object] = []
    deadline = time.monotonic() + 2.5 * token_callbacks.SHORT_LIFETIME
    while time.monotonic() < deadline:
        producer.produce(topic, b"across a refresh", on_delivery=lambda error, _: delivered.append(error))
        producer.poll(0.5)
    assert producer.flush(10) == 0
    assert len(token_callbacks.CALLS) >= 3  # the first token and at least two refreshes (each at 80 % of 4 s)
    assert delivered and all(error is None for error in delivered)


def test_the_plugin_is_loaded_once_and_after_the_users_own_plugins():
    slot = native_token.take_slot(lambda _: ("t", time.time() + 60))
    assert slot is not None
    try:
        properties = native_token.token_properties({"plugin.library.paths": "/opt/mine.so", "acks": "all"}, slot)
        assert properties["plugin.library.paths"].startswith("/opt/mine.so;")
        again = native_token.token_properties(properties, slot)
        assert again["plugin.library.paths"] == properties["plugin.library.paths"]
        assert list(again)[:2] == ["plugin.library.paths", native_token.TOKEN_PROPERTY]
    finally:
        native_token.release_slot(slot)


@pytest.mark.parametrize(
    "answer, read",
    [
        (("tok", 1.5), ("tok", 1.5, "", {})),
        (("tok", 2, "alice"), ("tok", 2.0, "alice", {})),
        (("tok", 2, "alice", {"logicalCluster": "lkc-1"}), ("tok", 2.0, "alice", {"logicalCluster": "lkc-1"})),
    ],
)
def test_a_callbacks_answer_is_read_as_confluent_kafka_reads_it(answer, read):
    assert native_token._answer(answer) == read


@pytest.mark.parametrize("answer", ["tok", ("tok",), ("tok", 1, "p", {}, "extra")])
def test_an_answer_of_another_shape_says_what_is_expected(answer):
    with pytest.raises(TypeError, match=r"must return \(token, expiry\[, principal\[, extensions\]\]\)"):
        native_token._answer(answer)
