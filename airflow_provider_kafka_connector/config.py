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

log = logging.getLogger(__name__)

# `session.timeout.ms` from the spec is a consumer setting that a producer ignores, so it is left out.
# `enable.idempotence` and `partitioner` make librdkafka behave as the Java client the spec describes.
MISCELLANEOUS_DEFAULTS: dict[str, str] = {
    "client.dns.lookup": "use_all_dns_ips",
    "acks": "all",
    "delivery.timeout.ms": "45000",
    "enable.idempotence": "true",
    "partitioner": "murmur2_random",
}


# librdkafka accepts both names of each pair; one name per property keeps the layers' overrides exact.
LIBRDKAFKA_ALIASES: dict[str, str] = {
    "metadata.broker.list": "bootstrap.servers",
    "request.required.acks": "acks",
    "message.timeout.ms": "delivery.timeout.ms",
    "queue.buffering.max.ms": "linger.ms",
    "message.send.max.retries": "retries",
    "compression.codec": "compression.type",
    "sasl.mechanisms": "sasl.mechanism",
}


class ProducerConfigError(ValueError):
    """The connection or the additional properties cannot make a producer configuration."""


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
) -> dict[str, str]:
    """Return the librdkafka configuration for a connection and its layers of additional properties."""
    config = connection_properties(connection)
    config.update(MISCELLANEOUS_DEFAULTS)
    for layer in additional_properties:
        config.update(normalize_properties(layer or {}))
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
    """Additional properties as librdkafka strings; a value that is no scalar is rejected by name."""
    if not isinstance(properties, Mapping):
        raise ProducerConfigError(
            f"Additional properties must be a JSON object of property names to values, not {type(properties).__name__}."
        )
    normalized: dict[str, str] = {}
    for raw_name, value in properties.items():
        name = str(raw_name).strip()
        canonical = LIBRDKAFKA_ALIASES.get(name, name)
        if canonical in normalized:
            raise ProducerConfigError(
                f"Additional properties set {canonical!r} twice (also as {name!r}); keep one of them."
            )
        normalized[canonical] = _property_text(name, value)
    return normalized


def _property_text(name: str, value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (str, int, float)):
        return str(value)
    if isinstance(value, (list, tuple)) and all(isinstance(item, str) for item in value):
        return ",".join(value)
    raise ProducerConfigError(
        f"Additional property {name!r} has a value of type {type(value).__name__}; "
        "give a string, number, boolean or list of strings."
    )


def delivery_timeout_seconds(config: Mapping[str, str]) -> float:
    """How long librdkafka may take to deliver a message under this configuration."""
    text = config.get("delivery.timeout.ms", "300000")
    try:
        return int(text) / 1000
    except ValueError:
        raise ProducerConfigError(
            f"'delivery.timeout.ms' must be a whole number of milliseconds, not {text!r}."
        ) from None
