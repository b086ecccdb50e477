"""Every failure fails fast, says what is wrong and how to fix it, and never shows a secret (real broker)."""

from __future__ import annotations

import re
import time

import pytest
from conftest import Failure

from airflow_provider_kafka_connector.exceptions import KafkaDeliveryError
from airflow_provider_kafka_connector.hooks.kafka_producer import KafkaProducerHook
from airflow_provider_kafka_connector.producer import OutgoingMessage
from airflow_provider_kafka_connector.serialization import ANY_PARTITION, NO_TIMESTAMP
from harness.kafka_broker import make_ca
from harness.ports import free_port
from harness.pytest_plugin import require

pytestmark = pytest.mark.broker

SECRET = "Zq9-distinctive-pässwörd'\"; =\\x"
FAST_SECONDS = 5


def assert_hidden(failure: Failure, *secrets: str) -> None:
    for secret in secrets:
        assert secret not in failure.shown
        for part in (secret[:6], secret[-6:]):
            assert part not in failure.shown, f"part of a secret shown: {part!r}"


def test_unreachable_bootstrap_fails_within_the_delivery_timeout_naming_the_servers(fail, topic):
    servers = f"127.0.0.1:{free_port()},127.0.0.1:{free_port()}"
    failure = fail(
        topic, host=servers, login="alice", password=SECRET, additional_properties={"delivery.timeout.ms": 3000}
    )
    assert failure.seconds < 3 + FAST_SECONDS
    assert servers in str(failure.error)
    assert "Connection refused" in str(failure.error)
    assert_hidden(failure, SECRET)


@pytest.mark.parametrize("mechanism", ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"])
@pytest.mark.parametrize("who", ["wrong password", "unknown user"])
def test_bad_credentials_fail_fast_naming_user_and_mechanism(fail, broker, topic, mechanism, who):
    require(broker.sasl_ssl and broker.scram_user, "SASL_SSL listener with users")
    user = broker.plain_user if mechanism == "PLAIN" else broker.scram_user
    login = user.name if who == "wrong password" else "nobody-such"
    failure = fail(
        topic,
        host=broker.sasl_ssl,
        login=login,
        password=SECRET,
        extra={"ssl.ca.location": str(broker.ca_file), "sasl.mechanism": mechanism},
    )
    assert failure.seconds < FAST_SECONDS
    message = str(failure.error)
    assert message.startswith(f"Authentication failed for user {login!r} with mechanism {mechanism}")
    assert "username and password" in message
    assert_hidden(failure, SECRET)


@pytest.mark.parametrize("trust", ["system store only", "wrong CA"])
def test_untrusted_broker_certificate_fails_fast_naming_ssl_ca_location(fail, broker, topic, tmp_path, trust):
    require(broker.sasl_ssl and broker.plain_user, "SASL_SSL listener")
    extra = {} if trust == "system store only" else {"ssl.ca.location": str(make_ca(tmp_path, "wrong-ca"))}
    failure = fail(topic, host=broker.sasl_ssl, login=broker.plain_user.name, password=SECRET, extra=extra)
    assert failure.seconds < FAST_SECONDS
    assert "certificate verify failed" in str(failure.error)
    assert "'ssl.ca.location'" in str(failure.error)
    assert_hidden(failure, SECRET)


def test_credentials_at_a_plaintext_listener_name_the_protocol_mismatch(fail, broker, topic):
    failure = fail(topic, host=broker.plaintext, login="alice", password=SECRET)
    assert failure.seconds < FAST_SECONDS
    assert "does not speak SASL_SSL" in str(failure.error)
    assert "'security.protocol'" in str(failure.error)
    assert_hidden(failure, SECRET)


def test_no_credentials_at_a_tls_listener_name_the_protocol_mismatch(fail, broker, topic):
    require(broker.sasl_ssl, "SASL_SSL listener")
    failure = fail(topic, host=broker.sasl_ssl)
    assert failure.seconds < FAST_SECONDS
    assert "does not speak PLAINTEXT" in str(failure.error)


def test_missing_topic_fails_fast_naming_it(fail, broker):
    failure = fail("no-such-topic-here", host=broker.plaintext)
    assert failure.seconds < FAST_SECONDS
    assert "Topic 'no-such-topic-here' does not exist" in str(failure.error)


def test_message_larger_than_the_client_allows_fails_at_once(fail, broker, topic):
    failure = fail(topic, value=b"x" * 2_000_000, host=broker.plaintext)
    assert failure.seconds < 1
    assert "'message.max.bytes'" in str(failure.error) and "larger than allowed" in str(failure.error)


def test_message_larger_than_the_broker_allows_fails_naming_the_property(fail, broker, topic):
    failure = fail(
        topic,
        value=b"x" * 1_200_000,
        host=broker.plaintext,
        additional_properties={"message.max.bytes": 5_000_000},
    )
    assert failure.seconds < FAST_SECONDS
    assert "MSG_SIZE_TOO_LARGE" in repr(failure.error) or "too large" in str(failure.error).lower()
    assert "max.message.bytes" in str(failure.error)


@pytest.mark.parametrize(
    "extra, additional_properties, named",
    [
        ('["client.id"]', None, "must be a JSON object"),
        ("{not json", None, "not valid JSON"),
        (None, {"no.such.property": "1"}, "no.such.property"),
        (None, {"linger.mss": "5"}, "Did you mean 'linger.ms'"),
        (None, {"acks": "maybe"}, "acks"),
        (None, {"linger.ms": "soon"}, "linger.ms"),
        (None, {"client.id": {"nested": 1}}, "client.id"),
    ],
)
def test_bad_additional_properties_fail_before_connecting_naming_the_property(
    fail, extra, additional_properties, named
):
    # A closed port: any attempt to connect would show up as a timeout, not as this error.
    failure = fail(host=f"127.0.0.1:{free_port()}", extra=extra, additional_properties=additional_properties)
    assert failure.seconds < 1
    assert named in str(failure.error)


def test_tricky_credentials_work_unchanged(broker, new_topic, kafka_connection):
    topic = new_topic(partitions=1)
    require(broker.sasl_ssl and broker.tricky_user, "SASL_SSL listener with the tricky user")
    for mechanism in ("PLAIN", "SCRAM-SHA-256"):
        conn_id = kafka_connection(
            host=broker.sasl_ssl,
            login=broker.tricky_user.name,
            password=broker.tricky_user.password,
            extra={"ssl.ca.location": str(broker.ca_file), "sasl.mechanism": mechanism},
        )
        with KafkaProducerHook(conn_id).get_producer() as producer:
            producer.send(OutgoingMessage(topic=topic, key=None, value=mechanism.encode(), headers=[]))
    assert [m.value() for m in broker.consume(topic, 2)] == [b"PLAIN", b"SCRAM-SHA-256"]


def test_credentials_without_security_protocol_are_never_sent_unencrypted(kafka_connection):
    conn_id = kafka_connection(host="b:1", login="alice", password=SECRET)
    assert KafkaProducerHook(conn_id).producer_config()["security.protocol"] == "SASL_SSL"


def test_librdkafka_logs_each_cause_once(fail, broker, topic, caplog):
    failure = fail(topic, host=f"127.0.0.1:{free_port()}", additional_properties={"delivery.timeout.ms": 3000})
    # librdkafka reports the refused connection every few hundred milliseconds: the log shows it once.
    refused = [r for r in caplog.records if "Connection refused" in r.getMessage()]
    assert len(refused) == 1, [r.getMessage() for r in refused]
    assert "Connection refused" in failure.shown


def test_batch_to_a_missing_topic_stops_early_and_counts_the_failures(broker, kafka_connection):
    hook = KafkaProducerHook(kafka_connection(host=broker.plaintext))
    started = time.monotonic()
    with pytest.raises(KafkaDeliveryError) as raised, hook.get_producer() as producer:
        producer.send_many(
            "no-such-topic-for-a-batch", ((None, b"v", None, ANY_PARTITION, NO_TIMESTAMP) for _ in range(2_000_000))
        )
    assert time.monotonic() - started < 3 + FAST_SECONDS
    message = str(raised.value)
    assert re.match(r"\d+ of \d+ messages sent were not acknowledged; the first reason: ", message)
    assert "Topic 'no-such-topic-for-a-batch' does not exist" in message
