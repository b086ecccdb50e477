"""The producer configuration, decided in the spec's three layers.

1. The connection: bootstrap servers, SASL PLAIN over SASL_SSL when both login and password are set, and the
   TLS certificates pasted into its fields (TLS on: SSL, or SASL_SSL with login and password).
2. The spec's miscellaneous defaults.
3. Additional properties: the connection's extras, then the task's own; each overrides all before it. Each layer
   passes the property policy (policy.py) first.

The Schema Registry properties among the additional properties (`schema.registry.url` and its companions, named
as Confluent's Java serializers name them) never reach librdkafka: they make the registry configuration, by the
same layers.

Pure logic: no Airflow and no confluent_kafka import, so every decision can be unit-tested and read here.
"""

from __future__ import annotations

import logging
import re
import textwrap
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from airflow_provider_kafka_connector import aws_msk_iam
from airflow_provider_kafka_connector.java_properties import ProducerConfigError as ProducerConfigError
from airflow_provider_kafka_connector.java_properties import translate_properties
from airflow_provider_kafka_connector.policy import DENY_ALL, OAUTH_CALLBACK, PropertyPolicy
from airflow_provider_kafka_connector.redaction import RedactedDict, redacted

log = logging.getLogger(__name__)

# The Java client and librdkafka both refuse idempotence with more requests in flight per connection than this.
MAX_IN_FLIGHT_WITH_IDEMPOTENCE = 5

# `session.timeout.ms` from the spec is a consumer setting that a producer ignores, so it is left out.
# `enable.idempotence` and `partitioner` make librdkafka behave as the Java client the spec describes.
# `topic.metadata.propagation.max.ms` is how long a topic missing from the metadata may take to appear before a
# message to it fails (librdkafka waits 30 s); 500 ms fails a task in under a second and still covers a topic that
# an upstream task has just created (KRaft brokers learn a new topic within milliseconds).
# `reconnect.backoff.ms`: with sparse connections (librdkafka's default) the client connects to a broker it learned
# from the bootstrap server only after max(11 ms, reconnect.backoff.ms / 2), and the idempotent producer cannot get
# its producer id before that connection is up. 20 ms instead of 100 gets a fresh producer's first acknowledgement
# about 40 ms sooner; the only other effect is quicker first retries against an unreachable broker (20, 40, 80 ms
# ... up to reconnect.backoff.max.ms). Sparse connections are also the subject of sparse_connections_default().
MISCELLANEOUS_DEFAULTS: dict[str, str] = {
    "client.dns.lookup": "use_all_dns_ips",
    "acks": "all",
    "delivery.timeout.ms": "45000",
    "enable.idempotence": "true",
    "partitioner": "murmur2_random",
    "reconnect.backoff.ms": "20",
    "topic.metadata.propagation.max.ms": "500",
}


# The translator names the OAuth client's id and secret as the Java client and librdkafka 2.11+ do; librdkafka
# before 2.11 (confluent-kafka 2.6, the oldest supported) knows only the older names, which later releases still take.
_PORTABLE_NAMES = {
    "sasl.oauthbearer.client.credentials.client.id": "sasl.oauthbearer.client.id",
    "sasl.oauthbearer.client.credentials.client.secret": "sasl.oauthbearer.client.secret",
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
    ssl_ca_pem: str | None = None
    ssl_certificate_pem: str | None = None
    ssl_key_pem: str | None = field(default=None, repr=False)
    ssl_key_password: str | None = field(default=None, repr=False)


# librdkafka's several ways to give one TLS setting. Additional properties that give it in any of them replace
# what the connection's TLS fields give (librdkafka refuses some pairs, such as 'ssl.ca.location' with 'ssl.ca.pem').
_TLS_SETTING_SPELLINGS = (
    ("ssl.ca.location", "ssl.ca.pem"),
    ("ssl.certificate.location", "ssl.certificate.pem", "ssl.keystore.location"),
    ("ssl.key.location", "ssl.key.pem", "ssl.keystore.location"),
)


def layer_name(conn_id: str, index: int) -> str:
    """How messages name a layer of additional properties: the connection's extra first, then the task's."""
    return f"the extra of connection {conn_id!r}" if index == 0 else "the task's additional_properties"


def build_producer_config(
    connection: ConnectionSettings,
    *additional_properties: Mapping[str, Any] | None,
    policy: PropertyPolicy = DENY_ALL,
) -> ProducerConfig:
    """Return the librdkafka configuration for a connection and its layers of additional properties (the
    connection's extra, then the task's), each checked by the deployment's property policy."""
    config = ProducerConfig(connection_properties(connection))
    config.update(MISCELLANEOUS_DEFAULTS)
    overrides: dict[str, str] = {}
    for index, layer in enumerate(additional_properties):
        translated = normalize_properties(_without_registry_properties(layer or {}))
        policy.check(translated, layer_name(connection.conn_id, index))
        overrides.update(translated)
    for spellings in _TLS_SETTING_SPELLINGS:
        if any(name in overrides for name in spellings):
            for name in spellings:
                config.pop(name, None)
    config.update(overrides)
    for name, portable in _PORTABLE_NAMES.items():
        if name in config:
            config[portable] = config.pop(name)
    apply_idempotence_rule(config, explicit=overrides.get("enable.idempotence"))
    _apply_oidc_method(config)
    if config.get(OAUTH_CALLBACK) == aws_msk_iam.CALLBACK:
        config.update(aws_msk_iam.with_region(config))
    config.setdefault("enable.sparse.connections", sparse_connections_default(config))
    if not config.get("bootstrap.servers"):
        raise ProducerConfigError(
            f"Connection {connection.conn_id!r} names no bootstrap server: set its host field to "
            "'broker1:9092,broker2:9092', or give 'bootstrap.servers' as an additional property."
        )
    return config


# Schema Registry properties: the Java serializers' name, then the name in confluent-kafka's SchemaRegistryClient
# configuration ("client") or its serializers' ("serializer").
REGISTRY_CLIENT_PROPERTIES: dict[str, str] = {
    "schema.registry.url": "url",
    "basic.auth.user.info": "basic.auth.user.info",
    "schema.registry.basic.auth.user.info": "basic.auth.user.info",
    "schema.registry.ssl.ca.location": "ssl.ca.location",
    "schema.registry.ssl.truststore.location": "ssl.ca.location",
    "schema.registry.ssl.certificate.location": "ssl.certificate.location",
    "schema.registry.ssl.keystore.location": "ssl.certificate.location",
    "schema.registry.ssl.key.location": "ssl.key.location",
    "schema.registry.ssl.key.password": "ssl.key.password",
}
REGISTRY_SERIALIZER_PROPERTIES = ("auto.register.schemas", "use.latest.version", "normalize.schemas")
# Taken and checked here, not passed on: who supplies the credentials.
CREDENTIALS_SOURCE = "basic.auth.credentials.source"
_REGISTRY_PROPERTIES = frozenset({*REGISTRY_CLIENT_PROPERTIES, *REGISTRY_SERIALIZER_PROPERTIES, CREDENTIALS_SOURCE})
_PEM_ONLY = (
    "schema.registry.ssl.truststore.location",
    "schema.registry.ssl.keystore.location",
)


@dataclass(frozen=True)
class RegistryConfig:
    """Where the Schema Registry is and how to reach it (client), and how the serializers use it (serializer)."""

    client: RedactedDict
    serializer: dict[str, bool]

    @property
    def urls(self) -> str:
        """The registry URLs with any credentials in them hidden, for messages."""
        return str(redacted({"url": self.client["url"]})["url"])


def is_registry_property(name: object) -> bool:
    lowered = str(name).strip().lower()
    return lowered in _REGISTRY_PROPERTIES or lowered.startswith("schema.registry.")


def _without_registry_properties(layer: Mapping[str, Any]) -> Mapping[str, Any]:
    if not isinstance(layer, Mapping) or not any(is_registry_property(name) for name in layer):
        return layer
    return {name: value for name, value in layer.items() if not is_registry_property(name)}


def build_registry_config(
    *additional_properties: Mapping[str, Any] | None, conn_id: str, policy: PropertyPolicy = DENY_ALL
) -> RegistryConfig | None:
    """The Schema Registry configuration from layers of additional properties (the connection's extra, then the
    task's; later layers win); None when no layer names `schema.registry.url`. Its URLs must be allowed URLs."""
    given: dict[str, Any] = {}
    for index, layer in enumerate(additional_properties):
        if isinstance(layer, Mapping):
            registry = {str(name).strip().lower(): value for name, value in layer.items() if is_registry_property(name)}
            if isinstance(registry.get("schema.registry.url"), str):
                policy.check_registry_urls(registry["schema.registry.url"], layer_name(conn_id, index))
            given.update(registry)
    if not str(given.get("schema.registry.url") or "").strip():
        return None
    client = RedactedDict()
    serializer: dict[str, bool] = {}
    for name, value in given.items():
        if name in REGISTRY_CLIENT_PROPERTIES:
            _set_once(client, REGISTRY_CLIENT_PROPERTIES[name], _registry_text(name, value), name)
        elif name in REGISTRY_SERIALIZER_PROPERTIES:
            serializer[name] = _registry_flag(name, value)
        elif name != CREDENTIALS_SOURCE:
            raise ProducerConfigError(
                f"Additional property {name!r} is not a Schema Registry setting this provider knows; use "
                f"{', '.join(sorted(_REGISTRY_PROPERTIES))}."
            )
    _check_credentials_source(given, client)
    if serializer.get("use.latest.version"):
        serializer.setdefault("auto.register.schemas", False)
    return RegistryConfig(client=client, serializer=serializer)


def _set_once(client: dict[str, str], key: str, value: str, name: str) -> None:
    if key in client and client[key] != value:
        raise ProducerConfigError(
            f"Schema Registry properties set {key!r} twice, the second time as {name!r}; keep one of them."
        )
    client[key] = value


def _registry_text(name: str, value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ProducerConfigError(f"Schema Registry property {name!r} must be a non-empty string.")
    if name in _PEM_ONLY and not value.strip().lower().endswith((".pem", ".crt", ".cer")):
        raise ProducerConfigError(
            f"Schema Registry property {name!r} must name a PEM file here (Python's HTTP client reads no JKS or "
            "PKCS12 store): convert the store to PEM, or use 'schema.registry.ssl.ca.location', "
            "'schema.registry.ssl.certificate.location' and 'schema.registry.ssl.key.location'."
        )
    return value.strip()


def _registry_flag(name: str, value: Any) -> bool:
    text = str(value).strip().lower()
    if text not in ("true", "false"):
        raise ProducerConfigError(f"Schema Registry property {name!r} must be true or false, not {value!r}.")
    return text == "true"


def _check_credentials_source(given: Mapping[str, Any], client: Mapping[str, str]) -> None:
    source = str(given.get(CREDENTIALS_SOURCE) or "").strip().upper()
    if source in ("", "USER_INFO", "URL"):
        if source == "USER_INFO" and "basic.auth.user.info" not in client:
            raise ProducerConfigError(
                "'basic.auth.credentials.source' is USER_INFO but no 'basic.auth.user.info' is given: add it as "
                "'user:password'."
            )
        if source == "URL" and "basic.auth.user.info" in client:
            raise ProducerConfigError(
                "'basic.auth.credentials.source' is URL, which takes the credentials from 'schema.registry.url', "
                "but 'basic.auth.user.info' is given too: remove one of them."
            )
        user_info = client.get("basic.auth.user.info")
        if user_info is not None and ":" not in user_info:
            raise ProducerConfigError("'basic.auth.user.info' must be 'user:password'.")
        return
    raise ProducerConfigError(
        f"'basic.auth.credentials.source' {source!r} is not supported here: use USER_INFO with "
        "'basic.auth.user.info' set to 'user:password', or URL with the credentials in 'schema.registry.url'."
    )


def idempotence_conflicts(config: Mapping[str, str]) -> list[str]:
    """The settings that idempotence cannot work with, as the Java client's producer lists them."""
    conflicts = []
    if config.get("acks", "all") != "all":
        conflicts.append(f"'acks' is {config['acks']} (idempotence needs all)")
    if config.get("retries") == "0":
        conflicts.append("'retries' is 0 (idempotence needs retries)")
    in_flight = config.get("max.in.flight.requests.per.connection", "")
    if in_flight.isdigit() and int(in_flight) > MAX_IN_FLIGHT_WITH_IDEMPOTENCE:
        conflicts.append(
            f"'max.in.flight.requests.per.connection' is {in_flight} (idempotence needs at most "
            f"{MAX_IN_FLIGHT_WITH_IDEMPOTENCE})"
        )
    return conflicts


_TLS_PROTOCOLS = ("SSL", "SASL_SSL")


def sparse_connections_default(config: Mapping[str, str]) -> str:
    """librdkafka's `enable.sparse.connections`, where the properties do not set it: off without TLS, on with it.

    With sparse connections a fresh idempotent producer connects to the broker it needs only once librdkafka's
    sparse-connection interval (at least 11 ms after the bootstrap connection) has passed, and gets no producer id
    before that. Without them it connects to every broker of the cluster as soon as it learns of them. Measured on
    this project's harness (median first acknowledgement of a fresh producer, idle 2-core machine): one broker,
    PLAINTEXT 22.8 -> 9.3 ms, SASL_SSL with SCRAM 53.3 -> 42.0 ms; three brokers, PLAINTEXT 32.3 -> 22.0 ms with the
    same CPU time, SASL_SSL with SCRAM 115.7 -> 104.4 ms but 70 -> 85 ms of CPU. A connection without TLS costs next
    to nothing, so every broker of even a large cluster is worth ~10 ms; one with TLS (and SASL) costs about 12 ms of
    CPU per broker (one broker: 24 ms for its two connections), which on a cluster of tens of brokers costs every
    task more than it saves. Either way can be set per connection or task.
    """
    return "true" if config.get("security.protocol", "PLAINTEXT").upper() in _TLS_PROTOCOLS else "false"


def _apply_oidc_method(config: dict[str, str]) -> None:
    """A token endpoint means librdkafka's OIDC login: with its default 'sasl.oauthbearer.method' librdkafka ignores
    the endpoint and expects the application to supply tokens (it reports nothing when the producer is created)."""
    if config.get("sasl.oauthbearer.token.endpoint.url") and "sasl.oauthbearer.method" not in config:
        config["sasl.oauthbearer.method"] = "oidc"


def apply_idempotence_rule(config: dict[str, str], explicit: str | None) -> None:
    """The Java client's rule (kafka-clients 3.2+, ProducerConfig.postProcessAndValidateIdempotenceConfigs).

    Idempotence is on by default, and a setting it cannot work with (acks other than all, retries=0, more than
    five requests in flight) turns the default off silently; with ``enable.idempotence=true`` set explicitly the
    same setting is an error. ``explicit`` is the value the additional properties give, None when they give none.
    """
    if config.get("enable.idempotence") != "true":
        return
    conflicts = idempotence_conflicts(config)
    if not conflicts:
        return
    if explicit is None:
        config["enable.idempotence"] = "false"
        return
    raise ProducerConfigError(
        f"'enable.idempotence' is set to true, but {' and '.join(conflicts)}. Remove 'enable.idempotence' to "
        "let these settings turn idempotence off, as the Java client does, or change them."
    )


def connection_properties(connection: ConnectionSettings) -> dict[str, str]:
    """Layer 1: what the connection's own fields decide."""
    config: dict[str, str] = {}
    servers = bootstrap_servers(connection.host, connection.port)
    if servers:
        config["bootstrap.servers"] = servers
    config.update(tls_properties(connection))
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
    if "ssl.ca.pem" in config or "ssl.key.pem" in config:
        config.setdefault("security.protocol", "SSL")
    return config


def tls_properties(connection: ConnectionSettings) -> dict[str, str]:
    """The CA, client certificate and client key given as PEM text in the connection's fields."""
    config: dict[str, str] = {}
    name = connection.conn_id
    if connection.ssl_ca_pem:
        config["ssl.ca.pem"] = pem_text(connection.ssl_ca_pem, f"The CA certificate of connection {name!r}")
    certificate, key = connection.ssl_certificate_pem, connection.ssl_key_pem
    if bool(certificate) != bool(key):
        given, missing = ("client certificate", "client key") if certificate else ("client key", "client certificate")
        raise ProducerConfigError(
            f"Connection {name!r} has a {given} but no {missing}: mutual TLS needs both, as PEM text."
        )
    if certificate and key:
        config["ssl.certificate.pem"] = pem_text(certificate, f"The client certificate of connection {name!r}")
        config["ssl.key.pem"] = pem_text(key, f"The client key of connection {name!r}")
    if connection.ssl_key_password:
        config["ssl.key.password"] = connection.ssl_key_password
    return config


_PEM_BLOCK = re.compile(r"-----BEGIN ([A-Z0-9 ]+)-----(.*?)-----END \1-----", re.DOTALL)
_BASE64 = re.compile(r"[A-Za-z0-9+/=]*")


def pem_text(text: str, what: str) -> str:
    """PEM blocks with their line breaks, also when a one-line form field dropped them; errors never quote the text.

    A traditional encrypted key (with 'Proc-Type' and 'DEK-Info' headers) cannot be mended once its line breaks
    are gone: it must be converted to PKCS#8.
    """
    blocks = _PEM_BLOCK.findall(text)
    if not blocks:
        raise ProducerConfigError(
            f"{what} is not PEM text: paste all of it, from its '-----BEGIN ...-----' line to its '-----END ...-----' "
            "line."
        )
    mended = []
    for label, body in blocks:
        if ":" in body and "\n" in body.strip():
            mended.append(f"-----BEGIN {label}-----{body}-----END {label}-----\n")  # headers kept as written
            continue
        data = "".join(body.split())
        if not _BASE64.fullmatch(data):
            raise ProducerConfigError(
                f"{what} has a damaged {label} block. An encrypted key in the traditional format (with "
                "'Proc-Type' and 'DEK-Info' lines) loses its lines in a one-line field: convert it to PKCS#8 with "
                "'openssl pkcs8 -topk8 -in key.pem -out key-pkcs8.pem' and paste that."
            )
        lines = "\n".join(textwrap.wrap(data, 64))
        mended.append(f"-----BEGIN {label}-----\n{lines}\n-----END {label}-----\n")
    return "".join(mended)


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


# What connecting and authenticating needs: another client of the same cluster (a consumer, an admin) takes these.
_CONNECTION_PROPERTY_PREFIXES = (
    "bootstrap.servers",
    "security.protocol",
    "sasl.",
    "ssl.",
    "ssl_",
    "enable.ssl.",
    "enable.sasl.",
    "https.",
    "client.",
    "socket.",
    "reconnect.",
    "broker.address.",
    "api.version.",
    "broker.version.fallback",
    "enable.sparse.connections",
    "metadata.max.age.ms",
    "topic.metadata.refresh.",
    "oauth_cb",
)


def client_connection_config(config: Mapping[str, str]) -> dict[str, str]:
    """The producer configuration's connection and security properties, for another client of the same cluster."""
    return {name: value for name, value in config.items() if name.startswith(_CONNECTION_PROPERTY_PREFIXES)}
