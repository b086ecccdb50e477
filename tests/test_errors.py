"""One error model: the exception hierarchy, and what a refused delivery tells the user (no broker needed).

Delivery errors are replayed from tests/data/librdkafka/recorded.json (see tests/data/librdkafka/record.py);
the one a test broker cannot produce without ACLs (topic authorization) is constructed.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from confluent_kafka import KafkaError

from airflow_provider_kafka_connector import errors, exceptions
from airflow_provider_kafka_connector.errors import explain_config_error, explain_delivery_error
from airflow_provider_kafka_connector.exceptions import (
    KafkaAssetURIError,
    KafkaConfigurationError,
    KafkaConnectorError,
    KafkaDeliveryError,
    MessageSerializationError,
)

RECORDED = json.loads((Path(__file__).parent / "data" / "librdkafka" / "recorded.json").read_text(encoding="utf-8"))


def recorded_error(name: str, kind: str = "delivery") -> tuple[KafkaError, dict[str, str]]:
    run = RECORDED["runs"][name]
    [event] = [e for e in run["events"] if e["kind"] == kind]
    return KafkaError(getattr(KafkaError, event["code"]), event["str"], fatal=event["fatal"]), run["config"]


# --- the hierarchy -------------------------------------------------------------------------------------------


def test_every_error_has_the_common_base_and_keeps_its_old_builtin_base():
    from airflow_provider_kafka_connector.java_properties import JaasSyntaxError, ProducerConfigError

    for error, builtin in [
        (KafkaConfigurationError, ValueError),
        (ProducerConfigError, ValueError),
        (JaasSyntaxError, ValueError),
        (KafkaAssetURIError, ValueError),
        (MessageSerializationError, TypeError),
        (KafkaDeliveryError, RuntimeError),
    ]:
        assert issubclass(error, KafkaConnectorError)
        assert issubclass(error, builtin)
    assert issubclass(ProducerConfigError, KafkaConfigurationError)
    assert issubclass(JaasSyntaxError, KafkaConfigurationError)
    assert issubclass(KafkaAssetURIError, KafkaConfigurationError)


def test_the_old_import_places_give_the_same_classes():
    from airflow_provider_kafka_connector.config import ProducerConfigError
    from airflow_provider_kafka_connector.serialization import MessageSerializationError as FromSerialization

    assert errors.KafkaDeliveryError is exceptions.KafkaDeliveryError
    assert errors.KafkaConfigurationError is exceptions.KafkaConfigurationError
    assert FromSerialization is MessageSerializationError
    assert issubclass(ProducerConfigError, KafkaConfigurationError)


def test_importing_the_exceptions_and_the_operator_does_not_import_confluent_kafka():
    code = (
        "import sys, airflow_provider_kafka_connector.exceptions, airflow_provider_kafka_connector.java_properties, "
        "airflow_provider_kafka_connector.operators.kafka_producer; sys.exit('confluent_kafka' in sys.modules)"
    )
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0


def test_messages_and_a_single_message_together_are_a_configuration_error():
    from airflow_provider_kafka_connector.operators.kafka_producer import KafkaProducerOperator

    with pytest.raises(KafkaConfigurationError, match="Give either messages"):
        KafkaProducerOperator(task_id="t", topic="t", messages=[{"value": "v"}], value="v")


def test_a_configuration_librdkafka_refuses_is_a_configuration_error():
    from airflow_provider_kafka_connector.producer import KafkaProducer

    with pytest.raises(KafkaConfigurationError, match="Invalid producer configuration") as raised:
        KafkaProducer({"bootstrap.servers": "127.0.0.1:1", "acks": "sometimes"})
    assert isinstance(raised.value, ValueError)


def test_a_value_that_cannot_be_serialized_is_a_connector_error():
    from airflow_provider_kafka_connector.serialization import serialize_payload

    with pytest.raises(KafkaConnectorError, match="The message value cannot be sent"):
        serialize_payload({1, 2}, "value")


def test_a_topic_without_a_server_or_name_is_an_asset_uri_error():
    from airflow_provider_kafka_connector.lineage import sanitize_uri, topic_uri

    with pytest.raises(KafkaAssetURIError, match="No bootstrap server"):
        topic_uri(" , ", "orders")
    with pytest.raises(KafkaAssetURIError, match="No topic"):
        topic_uri("b:9092", "")
    # Airflow's Asset.normalized_uri treats exactly a ValueError from the normalizer as "not a valid URI".
    for uri in ("kafka:///orders", "kafka://b:9092/"):
        with pytest.raises(ValueError):
            sanitize_uri(urlsplit(uri))


# --- what a refused delivery says ---------------------------------------------------------------------------


def test_missing_topic_names_it_and_the_servers():
    error, config = recorded_error("missing_topic")
    message = explain_delivery_error(error, "no-such-topic-recorded", config, "")
    assert message == (
        "Kafka did not accept the message for topic 'no-such-topic-recorded': Broker: Unknown topic or partition. "
        f"Topic 'no-such-topic-recorded' does not exist on {config['bootstrap.servers']}: create it, or check the "
        "topic name."
    )


@pytest.mark.parametrize(
    "name, kind, limit",
    [
        ("message_too_large_for_the_client", "produce", "1000000"),
        ("message_too_large_for_the_broker", "delivery", "5000000"),
    ],
)
def test_too_large_names_message_max_bytes_and_the_topic_setting(name, kind, limit):
    error, config = recorded_error(name, kind)
    message = explain_delivery_error(error, "t", config, "")
    assert f"The message is larger than allowed (the producer's 'message.max.bytes' is {limit})" in message
    assert "the topic's 'max.message.bytes' on the broker" in message


def test_topic_authorization_names_the_user_and_the_grant():
    error = KafkaError(KafkaError.TOPIC_AUTHORIZATION_FAILED, "Broker: Topic authorization failed")
    message = explain_delivery_error(error, "orders", {"sasl.username": "alice"}, "")
    assert message.endswith("User 'alice' may not write to topic 'orders': grant it WRITE on the topic.")


def test_timed_out_names_the_delivery_timeout_and_the_last_client_error():
    error, config = recorded_error("unreachable_port")
    note = "; the last client error was: Connection refused"
    message = explain_delivery_error(error, "t", config, note)
    assert message == (
        "Kafka did not accept the message for topic 't': Local: Message timed out. "
        f"Not acknowledged by {config['bootstrap.servers']} within 'delivery.timeout.ms' (3000 ms){note}."
    )


def test_other_errors_say_only_what_kafka_said():
    error = KafkaError(KafkaError.NOT_ENOUGH_REPLICAS, "Broker: Not enough in-sync replicas")
    assert explain_delivery_error(error, "t", {}, "") == (
        "Kafka did not accept the message for topic 't': Broker: Not enough in-sync replicas."
    )


@pytest.mark.parametrize(
    "name, property_named, hint",
    [
        ("client_key_wrong_password", "ssl.key.location", "'ssl.key.password' must be its passphrase"),
        ("client_key_password_missing", "ssl.key.location", "'ssl.key.password' must be its passphrase"),
        ("client_key_not_the_certificates", "ssl.key.location", "The private key does not belong to the client"),
        ("client_key_pem_not_the_certificates", "ssl.key.pem", "The private key does not belong to the client"),
        ("client_keystore_wrong_password", "ssl.keystore.location", "'ssl.keystore.password' is not the password"),
        ("client_certificate_file_missing", "ssl.certificate.location", "cannot be read on this worker"),
    ],
)
def test_a_client_key_or_certificate_librdkafka_cannot_load_says_which_setting_to_fix(name, property_named, hint):
    error, config = recorded_error(name, "create")
    message = explain_config_error(error.str())
    assert message.startswith(f"Invalid TLS client configuration: {error.str()}. ")
    assert property_named in message
    assert hint in message
    for secret in ("Wrong-Pass-4711", config.get("ssl.key.pem") or "not given"):
        assert secret not in message


def test_a_librdkafka_property_is_also_named_as_the_configuration_names_it():
    message = explain_config_error('Invalid value "x" for configuration property "message.timeout.ms"')
    assert message.endswith("(the property 'delivery.timeout.ms'). Check the additional properties.")


def partition(leader, replicas, isrs):
    from confluent_kafka.admin import PartitionMetadata

    metadata = PartitionMetadata()
    metadata.leader, metadata.replicas, metadata.isrs = leader, replicas, isrs
    return metadata


def test_replica_shortfall_names_partitions_below_min_insync_and_without_a_leader():
    partitions = {
        0: partition(2, [1, 2, 3], [2, 3]),
        1: partition(-1, [1, 2, 3], []),
        2: partition(3, [1, 2, 3], [1, 2, 3]),
    }
    note = errors.replica_shortfall("orders", partitions, min_insync=3)
    assert "partitions [1] of 'orders' have no leader" in note
    assert "NOT_ENOUGH_REPLICAS" in note
    assert "partition 0: 2 of 3 replicas in sync" in note
    assert "min.insync.replicas=3" in note
    assert "partition 2" not in note
    assert errors.replica_shortfall("orders", {2: partitions[2]}, min_insync=2) == ""
    # Without the topic's setting (not readable) only the partitions without a leader are named.
    assert "NOT_ENOUGH_REPLICAS" not in errors.replica_shortfall("orders", partitions, min_insync=None)


RECORDED_OAUTH = json.loads(
    (Path(__file__).parent / "data" / "librdkafka" / "recorded-oauth.json").read_text(encoding="utf-8")
)
# Keycloak 26.7.3's answer to a wrong client secret (HTTP 401), as its token endpoint gave it on the test machine;
# librdkafka reports a token endpoint's answer after its prefix, as in recorded-oauth.json.
KEYCLOAK_WRONG_SECRET = (
    '{"error":"unauthorized_client","error_description":"Invalid client or Invalid client credentials"}'
)


def wrong_secret_reasons() -> dict[str, tuple[str, dict[str, str]]]:
    run = RECORDED_OAUTH["runs"]["oauth_token_endpoint_refuses_the_client"]
    [error] = [event["str"] for event in run["events"] if event["kind"] == "error"]
    keycloak = f"Failed to acquire SASL OAUTHBEARER token: {KEYCLOAK_WRONG_SECRET}"
    return {"spring_authorization_server": (error, run["config"]), "keycloak": (keycloak, run["config"])}


@pytest.mark.parametrize("name", ["spring_authorization_server", "keycloak"])
def test_a_wrong_client_secret_names_the_token_endpoint_its_answer_and_the_secret_setting(name):
    reason, config = wrong_secret_reasons()[name]
    answer = reason.split("token: ", 1)[1]
    error = json.loads(answer)["error"]
    message = errors.oauth_failure(config, reason)
    assert message.splitlines() == [message]
    endpoint = config["sasl.oauthbearer.token.endpoint.url"]
    assert message.startswith(f"The token endpoint {endpoint} refused to issue an OAuth token ({error}): {answer}. ")
    assert "check 'sasl.oauthbearer.client.id' and 'sasl.oauthbearer.client.secret'" in message
    assert config["sasl.oauthbearer.client.secret"] not in message
