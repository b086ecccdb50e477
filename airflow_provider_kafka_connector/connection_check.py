"""The check behind the Connections UI's Test: can a producer with this configuration reach the cluster?

It uses a confluent-kafka Producer built from the exact configuration a task would use and asks the brokers for
cluster metadata. librdkafka retries a refused password or an untrusted certificate until its own timeouts, and
reports them only to the error callback or its log, so the check watches both through the ClientWatch a task uses,
and answers within seconds with the same explanation a task would fail with. Every message it returns has the
secrets removed.
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from airflow_provider_kafka_connector.redaction import scrub, secret_values

CHECK_TIMEOUT_SECONDS = 10.0
# Each metadata request waits this long; between requests the error callback is served.
_METADATA_SLICE_SECONDS = 0.5
# Once every broker has been down (refused, unresolved) for this long, waiting longer will not help.
_ALL_DOWN_GIVE_UP_SECONDS = 3.0
# Each other bootstrap server and broker is asked alone, this long at most, so many at a time.
_PROBE_SECONDS = 3.0
_PROBES_AT_ONCE = 8
# The words of a connection failure in librdkafka's "Connect to ipv4#127.0.0.1:9092 failed: Connection refused (...)".
_FAILURE = re.compile(r"failed: ([^.(]+?)\s*(?:\(|\.|$)")
_UNREACHABLE_START = "No broker at "


def check_connection(config: Mapping[str, str], timeout: float = CHECK_TIMEOUT_SECONDS) -> tuple[bool, str]:
    """Ask the cluster for its metadata with this producer configuration.

    :return: ``(True, message)`` naming the cluster id, the brokers that answered and any bootstrap server or broker
        that did not answer when asked alone, or ``(False, message)`` naming the cause: an invalid configuration,
        authentication, TLS, the wrong protocol, unreachable brokers.
    """
    secrets = secret_values(config)
    ok, message = _check(dict(config), secrets, timeout)
    return ok, scrub(message, secrets)


def _check(config: dict[str, str], secrets: list[str], timeout: float) -> tuple[bool, str]:
    deadline = time.monotonic() + timeout
    answer = _ask(config, secrets, deadline, give_up_after=_ALL_DOWN_GIVE_UP_SECONDS)
    if isinstance(answer, str):
        return False, answer
    return True, _success(answer, config, _silent(config, secrets, answer, deadline))


def _ask(config: dict[str, str], secrets: list[str], deadline: float, give_up_after: float) -> Any:
    """The cluster's metadata, or why it did not come: a message naming the cause."""
    from confluent_kafka import KafkaError, KafkaException, Producer

    from airflow_provider_kafka_connector.callbacks import new_client
    from airflow_provider_kafka_connector.client_watch import ClientWatch
    from airflow_provider_kafka_connector.errors import explain_config_error
    from airflow_provider_kafka_connector.exceptions import KafkaConnectorError
    from airflow_provider_kafka_connector.producer import release

    # The same watch as a task's producer, so both see a failure alike and explain it in the same words.
    watch = ClientWatch(config, secrets)
    try:
        producer = new_client(Producer, {**config, "error_cb": watch.error, "logger": watch})
    except KafkaException as error:
        return explain_config_error(error.args[0].str())
    except KafkaConnectorError as error:  # a refused setting, or no token from the token callback
        return str(error)
    except (TypeError, ValueError) as error:
        return explain_config_error(str(error))

    started = time.monotonic()
    try:
        while True:
            if watch.cause is not None:
                return watch.cause
            now = time.monotonic()
            if now >= deadline or (watch.all_brokers_down and now - started >= give_up_after):
                return _unreachable(config.get("bootstrap.servers", ""), now - started, watch.last_failure)
            try:
                metadata = producer.list_topics(timeout=min(_METADATA_SLICE_SECONDS, deadline - now))
            except KafkaException as error:
                if error.args[0].code() not in (KafkaError._TIMED_OUT, KafkaError._TRANSPORT):
                    watch.error(error.args[0])
                producer.poll(0.1)
                continue
            producer.poll(0)
            if watch.cause is None:
                return metadata
    finally:
        release(producer)


def _silent(config: dict[str, str], secrets: list[str], metadata: Any, deadline: float) -> dict[str, str]:
    """Each bootstrap server and broker that does not answer on its own, with the reason.

    The metadata came from one broker; the cluster lists only the brokers it considers alive, and a stopped broker
    may still be named in the bootstrap list (or, for a few seconds after a crash, in the metadata). Each address
    other than the one that answered is asked for metadata alone, all at once.
    """
    answered = str(metadata.orig_broker_name).split("/")[0]
    servers = [server.strip() for server in config.get("bootstrap.servers", "").split(",") if server.strip()]
    learned = [f"{broker.host}:{broker.port}" for broker in metadata.brokers.values()]
    addresses = [address for address in dict.fromkeys(servers + learned) if address != answered]
    if not addresses:
        return {}
    probe_deadline = min(deadline, time.monotonic() + _PROBE_SECONDS)

    def probe(address: str) -> str | Any:
        return _ask({**config, "bootstrap.servers": address}, secrets, probe_deadline, give_up_after=0)

    with ThreadPoolExecutor(min(len(addresses), _PROBES_AT_ONCE)) as pool:
        answers = dict(zip(addresses, pool.map(probe, addresses), strict=True))
    return {address: _reason(answer) for address, answer in answers.items() if isinstance(answer, str)}


def _reason(message: str) -> str:
    """Why one address did not answer: the connection failure's own words ("Connection refused"), else the cause."""
    if not message.startswith(_UNREACHABLE_START):
        return message  # it answered with a cause (authentication, TLS, ...)
    found = _FAILURE.search(message)
    return found.group(1) if found else f"no answer within {_PROBE_SECONDS:.0f} s"


def _security(config: Mapping[str, str]) -> str:
    protocol = config.get("security.protocol", "PLAINTEXT").upper()
    if protocol.startswith("SASL"):
        user = config.get("sasl.username")
        who = f" as user {user!r}" if user else ""
        return f"{protocol} ({config.get('sasl.mechanism', 'GSSAPI')}{who})"
    return protocol


def _success(metadata: Any, config: Mapping[str, str], silent: Mapping[str, str]) -> str:
    brokers = [
        broker
        for broker in sorted(metadata.brokers.values(), key=lambda broker: broker.id)
        if f"{broker.host}:{broker.port}" not in silent
    ]
    listed = ", ".join(f"{broker.host}:{broker.port} (id {broker.id})" for broker in brokers)
    topics = [name for name in metadata.topics if not name.startswith("__")]
    message = (
        f"Connected to Kafka cluster {metadata.cluster_id} over {_security(config)}: "
        f"{len(brokers)} broker{'s' if len(brokers) != 1 else ''} reachable: {listed}; "
        f"{len(topics)} topic{'s' if len(topics) != 1 else ''} visible."
    )
    if silent:
        named = "; ".join(f"{address} ({reason})" for address, reason in silent.items())
        message += f" Did not answer: {named}. Check that these brokers are running and reachable from Airflow."
    return message


def _unreachable(servers: str, waited: float, last_failure: str | None) -> str:
    last = f" The last error was: {last_failure.rstrip('.')}." if last_failure else ""
    return (
        f"{_UNREACHABLE_START}{servers} answered within {waited:.0f} s.{last} Check the bootstrap server host names "
        "and ports, and that they are reachable from Airflow."
    )
