"""A client that presents a given OAUTHBEARER token, for tests of the broker's listeners that check tokens as a managed
service does (MSK_IAM, GOOGLE: a TokenValidator each): the token is what the test made, good or bad, and the broker,
not the client, decides; the broker's log says why it refused one."""

from __future__ import annotations

import time
import uuid

from confluent_kafka import KafkaError, Producer

from harness.kafka_broker import KafkaBroker, quiet

#: What librdkafka is told about every token's expiry: it refuses to send a token it knows to be expired, and the
#: broker, not the client, must refuse the expired one.
REPORTED_LIFETIME = 600


def new_topic(broker: KafkaBroker, prefix: str) -> str:
    """A topic created on the broker for one test, named prefix-RANDOM: tests that share a broker never read each
    other's messages."""
    name = f"{prefix}-{uuid.uuid4().hex[:12]}"
    broker.create_topic(name)
    return name


def produce(
    broker: KafkaBroker, listener: str | None, topic: str, token: str, timeout: float = 20
) -> KafkaError | None:
    """Produce one message over the broker's listener (its address: broker.msk_iam, broker.google) with this token:
    None once delivered, else the authentication error the client got."""
    assert listener is not None and broker.ca_file is not None
    errors: list[KafkaError] = []
    reports: list[KafkaError | None] = []
    config = {
        "bootstrap.servers": listener,
        "security.protocol": "SASL_SSL",
        "ssl.ca.location": str(broker.ca_file),
        "sasl.mechanism": "OAUTHBEARER",
        "oauth_cb": lambda _config: (token, time.time() + REPORTED_LIFETIME),
        "error_cb": errors.append,
    }
    producer = Producer(quiet(config))
    producer.produce(topic, b"v", on_delivery=lambda error, _message: reports.append(error))
    deadline = time.monotonic() + timeout
    while not reports and time.monotonic() < deadline:
        producer.poll(0.1)
        refused = [error for error in errors if error.code() == KafkaError._AUTHENTICATION]
        if refused:
            return refused[0]
    assert reports == [None], (reports, errors)
    return None


def broker_log_says(broker: KafkaBroker, text: str, timeout: float = 5) -> bool:
    """Whether the broker's log has text within timeout seconds: the broker may write it after the client hears."""
    assert broker.log_file is not None
    deadline = time.monotonic() + timeout
    while text not in broker.log_file.read_text(errors="replace"):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def assert_refused(broker: KafkaBroker, listener: str | None, topic: str, token: str, log_line: str) -> None:
    """The listener refuses the token as the managed services do (invalid_token, no reason for the client) and the
    broker's log has log_line, which says why."""
    error = produce(broker, listener, topic, token)
    assert error is not None and error.code() == KafkaError._AUTHENTICATION, error
    assert 'SASL authentication error: {"status":"invalid_token"}' in error.str()
    assert broker_log_says(broker, log_line), log_line
