"""The check behind the Connections UI's Test: can a producer with this configuration reach the cluster?

It uses a confluent-kafka Producer built from the exact configuration a task would use and asks the brokers for
cluster metadata. librdkafka retries a refused password or an untrusted certificate until its own timeouts, and
reports them only to the error callback or its log, so the check watches both through the ClientWatch a task uses,
and answers within seconds with the same explanation a task would fail with. Every message it returns has the
secrets removed.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from airflow_provider_kafka_connector.redaction import scrub, secret_values

CHECK_TIMEOUT_SECONDS = 10.0
# Each metadata request waits this long; between requests the error callback is served.
_METADATA_SLICE_SECONDS = 0.5
# Once every broker has been down (refused, unresolved) for this long, waiting longer will not help.
_ALL_DOWN_GIVE_UP_SECONDS = 3.0


def check_connection(config: Mapping[str, str], timeout: float = CHECK_TIMEOUT_SECONDS) -> tuple[bool, str]:
    """Ask the cluster for its metadata with this producer configuration.

    :return: ``(True, message)`` naming the cluster id and the brokers that answered, or ``(False, message)``
        naming the cause: an invalid configuration, authentication, TLS, the wrong protocol, unreachable brokers.
    """
    secrets = secret_values(config)
    ok, message = _check(dict(config), secrets, timeout)
    return ok, scrub(message, secrets)


def _check(config: dict[str, str], secrets: list[str], timeout: float) -> tuple[bool, str]:
    from confluent_kafka import KafkaError, KafkaException, Producer

    from airflow_provider_kafka_connector.client_watch import ClientWatch
    from airflow_provider_kafka_connector.errors import explain_config_error
    from airflow_provider_kafka_connector.producer import release

    # The same watch as a task's producer, so both see a failure alike and explain it in the same words.
    watch = ClientWatch(config, secrets)
    try:
        producer = Producer({**config, "error_cb": watch.error, "logger": watch})
    except KafkaException as error:
        return False, explain_config_error(error.args[0].str())
    except (TypeError, ValueError) as error:
        return False, explain_config_error(str(error))

    started = time.monotonic()
    deadline = started + timeout
    try:
        while True:
            if watch.cause is not None:
                return False, watch.cause
            now = time.monotonic()
            if now >= deadline or (watch.all_brokers_down and now - started >= _ALL_DOWN_GIVE_UP_SECONDS):
                return False, _unreachable(config.get("bootstrap.servers", ""), now - started, watch.last_failure)
            try:
                metadata = producer.list_topics(timeout=min(_METADATA_SLICE_SECONDS, deadline - now))
            except KafkaException as error:
                if error.args[0].code() not in (KafkaError._TIMED_OUT, KafkaError._TRANSPORT):
                    watch.error(error.args[0])
                producer.poll(0.1)
                continue
            producer.poll(0)
            if watch.cause is None:
                return True, _success(metadata, config)
    finally:
        release(producer)


def _security(config: Mapping[str, str]) -> str:
    protocol = config.get("security.protocol", "PLAINTEXT").upper()
    if protocol.startswith("SASL"):
        user = config.get("sasl.username")
        who = f" as user {user!r}" if user else ""
        return f"{protocol} ({config.get('sasl.mechanism', 'GSSAPI')}{who})"
    return protocol


def _success(metadata: Any, config: Mapping[str, str]) -> str:
    brokers = sorted(metadata.brokers.values(), key=lambda broker: broker.id)
    listed = ", ".join(f"{broker.host}:{broker.port} (id {broker.id})" for broker in brokers)
    topics = [name for name in metadata.topics if not name.startswith("__")]
    return (
        f"Connected to Kafka cluster {metadata.cluster_id} over {_security(config)}: "
        f"{len(brokers)} broker{'s' if len(brokers) != 1 else ''} reachable: {listed}; "
        f"{len(topics)} topic{'s' if len(topics) != 1 else ''} visible."
    )


def _unreachable(servers: str, waited: float, last_failure: str | None) -> str:
    last = f" The last error was: {last_failure.rstrip('.')}." if last_failure else ""
    return (
        f"No broker at {servers} answered within {waited:.0f} s.{last} Check the bootstrap server host names and "
        "ports, and that they are reachable from Airflow."
    )
