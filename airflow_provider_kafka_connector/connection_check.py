"""The check behind the Connections UI's Test: can a producer with this configuration reach the cluster?

It uses a confluent-kafka Producer built from the exact configuration a task would use and asks the brokers for
cluster metadata. librdkafka retries a refused password or an untrusted certificate until its own timeouts, and
reports them only to the error callback, so the check watches that callback and answers within seconds.
Every message it returns has the configuration's secrets removed.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Mapping
from typing import Any

from airflow_provider_kafka_connector.redaction import scrub, secret_values

CHECK_TIMEOUT_SECONDS = 10.0
# Each metadata request waits this long; between requests the error callback is served.
_METADATA_SLICE_SECONDS = 0.5
# Once every broker has been down (refused, unresolved) for this long, waiting longer will not help.
_ALL_DOWN_GIVE_UP_SECONDS = 3.0
_CA_HINT = (
    "If the broker's certificate is signed by a private CA, give its PEM file as the additional property "
    "'ssl.ca.location'."
)

log = logging.getLogger(__name__)


class _Logger:
    """librdkafka's log lines, secrets removed, at debug level; keeps the last connection failure it names."""

    def __init__(self, secrets: list[str]) -> None:
        self._secrets = secrets
        self.last_failure: str | None = None

    def log(self, level: int, fmt: str, *args: Any) -> None:
        line = scrub(fmt % args, self._secrets)
        log.debug("librdkafka: %s", line)
        if len(args) == 3 and args[0] == "FAIL":
            self.last_failure = re.sub(r"^\[thrd:[^]]*\]:\s*", "", scrub(str(args[2]), self._secrets))


def check_connection(config: Mapping[str, str], timeout: float = CHECK_TIMEOUT_SECONDS) -> tuple[bool, str]:
    """Ask the cluster for its metadata with this producer configuration.

    :return: ``(True, message)`` naming the cluster id and the brokers that answered, or ``(False, message)``
        naming the cause: an invalid configuration, authentication, TLS, or unreachable brokers.
    """
    secrets = secret_values(config)
    ok, message = _check(dict(config), secrets, timeout)
    return ok, scrub(message, secrets)


def _check(config: dict[str, str], secrets: list[str], timeout: float) -> tuple[bool, str]:
    from confluent_kafka import KafkaError, KafkaException, Producer

    errors: list[Any] = []
    logger = _Logger(secrets)
    try:
        producer = Producer({**config, "error_cb": errors.append, "logger": logger})
    except KafkaException as error:
        return False, f"Invalid producer configuration: {error.args[0].str()}"
    except (TypeError, ValueError) as error:
        return False, f"Invalid producer configuration: {error}"

    servers = config.get("bootstrap.servers", "")
    started = time.monotonic()
    deadline = started + timeout
    try:
        while True:
            fatal = _first(errors, {KafkaError._AUTHENTICATION, KafkaError._SSL}) or _fatal(errors)
            if fatal is not None:
                return False, _explain(fatal, config)
            now = time.monotonic()
            all_down = _first(errors, {KafkaError._ALL_BROKERS_DOWN}) is not None
            if now >= deadline or (all_down and now - started >= _ALL_DOWN_GIVE_UP_SECONDS):
                return False, _unreachable(servers, now - started, errors, logger.last_failure)
            remaining = deadline - now
            try:
                metadata = producer.list_topics(timeout=min(_METADATA_SLICE_SECONDS, remaining))
            except KafkaException as error:
                kafka_error = error.args[0]
                if kafka_error.code() not in (KafkaError._TIMED_OUT, KafkaError._TRANSPORT):
                    errors.append(kafka_error)
                producer.poll(0.1)
                continue
            producer.poll(0)
            if _first(errors, {KafkaError._AUTHENTICATION, KafkaError._SSL}) is None:
                return True, _success(metadata, config)
    finally:
        producer.purge()
        producer.flush(0)
        close = getattr(producer, "close", None)
        if close is not None:
            close()


def _first(errors: list[Any], codes: set[int]) -> Any:
    return next((error for error in errors if error.code() in codes), None)


def _fatal(errors: list[Any]) -> Any:
    return next((error for error in errors if error.fatal()), None)


def _security(config: Mapping[str, str]) -> str:
    protocol = config.get("security.protocol", "PLAINTEXT").upper()
    if protocol.startswith("SASL"):
        mechanism = config.get("sasl.mechanism", "GSSAPI")
        user = config.get("sasl.username")
        who = f" as user {user!r}" if user else ""
        return f"{protocol} ({mechanism}{who})"
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


def _explain(error: Any, config: Mapping[str, str]) -> str:
    from confluent_kafka import KafkaError

    servers = config.get("bootstrap.servers", "")
    if error.code() == KafkaError._AUTHENTICATION:
        return (
            f"Authentication failed for user {config.get('sasl.username')!r} with mechanism "
            f"{config.get('sasl.mechanism', 'GSSAPI')} at {servers}: {error.str()}. Check the username and "
            "password, and that 'sasl.mechanism' is one the broker enables."
        )
    if error.code() == KafkaError._SSL:
        return f"TLS connection to {servers} failed: {error.str()}. {_CA_HINT}"
    return f"The Kafka client failed on {servers} over {_security(config)}: {error.str()}"


def _unreachable(servers: str, waited: float, errors: list[Any], last_failure: str | None) -> str:
    from confluent_kafka import KafkaError

    causes = [error.str() for error in errors if error.code() != KafkaError._ALL_BROKERS_DOWN]
    cause = causes[-1] if causes else last_failure or (errors[-1].str() if errors else None)
    last = f" The last error was: {cause.rstrip('.')}." if cause else ""
    hint = (
        " The broker closed the connection before answering: the listener probably expects TLS (set "
        "'security.protocol' to SSL or SASL_SSL), or SASL where none is configured."
        if cause and "APIVERSION_QUERY" in cause
        else " Check the bootstrap server host names and ports, that they are reachable from Airflow, and that "
        "'security.protocol' matches the listener."
    )
    return f"No broker at {servers} answered within {waited:.0f} s.{last}{hint}"
