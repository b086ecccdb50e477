"""The producer configuration, decided in the spec's three layers.

1. The connection: bootstrap servers, and SASL PLAIN over SASL_SSL when both login and password are set.
2. The spec's miscellaneous defaults.
3. Additional properties: the connection's extras, then the task's own; each overrides all before it.

Pure logic: no Airflow and no confluent_kafka import, so every decision can be unit-tested and read here.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from airflow_provider_kafka_connector.java_properties import ProducerConfigError as ProducerConfigError
from airflow_provider_kafka_connector.java_properties import translate_properties
from airflow_provider_kafka_connector.redaction import RedactedDict

log = logging.getLogger(__name__)

# `session.timeout.ms` from the spec is a consumer setting that a producer ignores, so it is left out.
# `enable.idempotence` and `partitioner` make librdkafka behave as the Java client the spec describes.
# `topic.metadata.propagation.max.ms` fails a message to a missing topic in seconds (librdkafka waits 30 s).
MISCELLANEOUS_DEFAULTS: dict[str, str] = {
    "client.dns.lookup": "use_all_dns_ips",
    "acks": "all",
    "delivery.timeout.ms": "45000",
    "enable.idempotence": "true",
    "partitioner": "murmur2_random",
    "topic.metadata.propagation.max.ms": "3000",
}


class ProducerConfig(RedactedDict):
    """A librdkafka configuration (names to string values) that never shows its secrets when printed."""


@dataclass(frozen=True)
class ConnectionSettings:
    """The fields of an Airflow connection that the producer configuration is built from."""

    conn_id: str
    host: str | None = None
    port: int | None = None
    login: str | None = None
    password: str | None = None


def build_producer_config(
    connection: ConnectionSettings, *additional_properties: Mapping[str, Any] | None
) -> ProducerConfig:
    """Return the librdkafka configuration for a connection and its layers of additional properties."""
    config = ProducerConfig(connection_properties(connection))
    config.update(MISCELLANEOUS_DEFAULTS)
    overrides: dict[str, str] = {}
    for layer in additional_properties:
        overrides.update(normalize_properties(layer or {}))
    config.update(overrides)
    if config["acks"] != "all" and "enable.idempotence" not in overrides:
        # As the Java client does: idempotence is a default only while every replica must acknowledge.
        config["enable.idempotence"] = "false"
    if not config.get("bootstrap.servers"):
        raise ProducerConfigError(
            f"Connection {connection.conn_id!r} names no bootstrap server: set its host field to "
            "'broker1:9092,broker2:9092', or give 'bootstrap.servers' as an additional property."
        )
    return config


def connection_properties(connection: ConnectionSettings) -> dict[str, str]:
    """Layer 1: what the connection's own fields decide."""
    config: dict[str, str] = {}
    servers = bootstrap_servers(connection.host, connection.port)
    if servers:
        config["bootstrap.servers"] = servers
    if connection.login and connection.password:
        config.update(
            {
                "security.protocol": "SASL_SSL",
                "sasl.mechanism": "PLAIN",
                "sasl.username": connection.login,
                "sasl.password": connection.password,
            }
        )
    elif connection.login or connection.password:
        given, missing = ("username", "password") if connection.login else ("password", "username")
        log.warning(
            "Connection %r has a %s but no %s, so no authentication is configured from it; "
            "set both, or configure security through additional properties.",
            connection.conn_id,
            given,
            missing,
        )
    return config


def bootstrap_servers(host: str | None, port: int | None) -> str:
    """A comma-separated list of servers; the port applies to a single server given without one."""
    servers = [server.strip() for server in (host or "").split(",") if server.strip()]
    if port and len(servers) == 1 and not _has_port(servers[0]):
        servers = [f"{servers[0]}:{port}"]
    return ",".join(servers)


def _has_port(server: str) -> bool:
    if server.startswith("["):  # IPv6 literal, as in [::1]:9092
        return "]:" in server
    return ":" in server


def normalize_properties(properties: Mapping[str, Any]) -> dict[str, str]:
    """One layer of additional properties as librdkafka's configuration, Java client names translated."""
    if not isinstance(properties, Mapping):
        raise ProducerConfigError(
            f"Additional properties must be a JSON object of property names to values, not {type(properties).__name__}."
        )
    return translate_properties(properties)


def delivery_timeout_seconds(config: Mapping[str, str]) -> float:
    """How long librdkafka may take to deliver a message under this configuration."""
    text = config.get("delivery.timeout.ms", "300000")
    try:
        return int(text) / 1000
    except ValueError:
        raise ProducerConfigError(
            f"'delivery.timeout.ms' must be a whole number of milliseconds, not {text!r}."
        ) from None
