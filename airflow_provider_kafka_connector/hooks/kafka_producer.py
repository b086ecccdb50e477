"""The hook: turns an Airflow connection into a producer configuration and owns the producer."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseHook
from airflow.sdk.log import mask_secret

from airflow_provider_kafka_connector.config import (
    ConnectionSettings,
    ProducerConfig,
    RegistryConfig,
    build_producer_config,
    build_registry_config,
)
from airflow_provider_kafka_connector.connection_form import (
    SSL_CA_FIELD,
    SSL_CERTIFICATE_FIELD,
    SSL_KEY_FIELD,
    SSL_KEY_PASSWORD_FIELD,
    extra_properties,
    json_object,
    tls_fields,
)
from airflow_provider_kafka_connector.redaction import RedactedDict, secret_values
from airflow_provider_kafka_connector.settings import deployment_policy

if TYPE_CHECKING:
    from airflow_provider_kafka_connector.producer import KafkaProducer


class KafkaProducerHook(BaseHook):
    """Produces to Kafka through a "Kafka Producer Connector" connection.

    :param kafka_conn_id: the connection: bootstrap server(s) in host, optional login and password, and in extra
        additional producer properties as a JSON object and the TLS certificates as PEM text.
    """

    conn_name_attr = "kafka_conn_id"
    default_conn_name = "kafka_producer_default"
    conn_type = "kafka_producer"
    hook_name = "Kafka Producer Connector"

    @classmethod
    def get_ui_field_behaviour(cls) -> dict[str, Any]:
        """The Connections form's labels for Airflow before 3.2; later versions read get_provider_info() instead."""
        from airflow_provider_kafka_connector.connection_form import UI_FIELD_BEHAVIOUR

        return {name.replace("-", "_"): value for name, value in UI_FIELD_BEHAVIOUR.items()}

    def __init__(self, kafka_conn_id: str = default_conn_name) -> None:
        super().__init__()
        self.kafka_conn_id = kafka_conn_id
        self._cached_connection: Any = None

    def __repr__(self) -> str:
        return f"{type(self).__name__}(kafka_conn_id={self.kafka_conn_id!r})"

    def producer_config(self, additional_properties: Mapping[str, Any] | None = None) -> ProducerConfig:
        """The exact confluent-kafka configuration a task with these additional properties would use."""
        connection = self._connection()
        extra = json_object(connection.extra, f"The extra field of connection {self.kafka_conn_id!r}")
        tls = tls_fields(extra)
        for secret in _connection_secrets(connection.password, extra):
            mask_secret(secret)
        config = build_producer_config(
            ConnectionSettings(
                conn_id=self.kafka_conn_id,
                host=connection.host,
                port=connection.port,
                login=connection.login,
                password=connection.password,
                ssl_ca_pem=tls.get(SSL_CA_FIELD),
                ssl_certificate_pem=tls.get(SSL_CERTIFICATE_FIELD),
                ssl_key_pem=tls.get(SSL_KEY_FIELD),
                ssl_key_password=tls.get(SSL_KEY_PASSWORD_FIELD),
            ),
            extra_properties(extra),
            additional_properties,
            policy=deployment_policy(),
        )
        hide_secrets(config)
        return config

    def registry_config(self, additional_properties: Mapping[str, Any] | None = None) -> RegistryConfig | None:
        """The Schema Registry a task with these additional properties would use; None when none is configured."""
        extra = json_object(self._connection().extra, f"The extra field of connection {self.kafka_conn_id!r}")
        registry = build_registry_config(
            extra_properties(extra), additional_properties, conn_id=self.kafka_conn_id, policy=deployment_policy()
        )
        if registry is not None:
            hide_secrets(registry.client)
        return registry

    def get_producer(
        self,
        additional_properties: Mapping[str, Any] | None = None,
        transactional_id: str | None = None,
        batch: bool = False,
    ) -> KafkaProducer:
        """A producer for this connection; use it as a context manager so it is flushed and released.

        ``transactional_id`` is exactly_once's (see exactly_once.py); additional properties cannot set one.
        ``batch``: the producer is for send_many, which then counts delivery outcomes in C where it can.
        """
        from airflow_provider_kafka_connector.producer import KafkaProducer

        config = self.producer_config(additional_properties)
        if transactional_id is not None:
            config["transactional.id"] = transactional_id
        try:
            return KafkaProducer(config, secrets=secret_values(config), count_natively=batch)
        finally:  # logged once the client is connecting, which it does while this line is formatted
            self.log.info("Producer configuration: %s", config)

    def get_conn(self) -> KafkaProducer:
        return self.get_producer()

    def test_connection(self) -> tuple[bool, str]:
        """The Connections UI's Test: the producer configuration a task would use, asked for cluster metadata.

        The deployment's property policy applies here as in a task (it runs in the API server): a refused property
        fails the Test before any client is built or anything is contacted.

        Returns within seconds; the message names the cluster and its reachable brokers, or the cause of the
        failure (configuration, authentication, TLS, unreachable brokers), never a secret.
        """
        from airflow_provider_kafka_connector.connection_check import check_connection
        from airflow_provider_kafka_connector.redaction import scrub

        try:
            config = self.producer_config()
            registry = self.registry_config()
        except Exception as error:
            connection = self.get_connection(self.kafka_conn_id)
            try:
                extra = json_object(connection.extra, "extra")
            except ValueError:
                extra = {}
            secrets = _connection_secrets(connection.password, extra)
            return False, scrub(f"The connection gives no producer configuration: {error}", secrets)
        ok, message = check_connection(config)
        if not ok or registry is None:
            return ok, message
        from airflow_provider_kafka_connector.schemas import check_registry

        registry_ok, registry_message = check_registry(registry)
        return registry_ok, scrub(f"{message} {registry_message}", secret_values(registry.client))

    def _connection(self) -> Any:
        """The connection, looked up once per hook: a task builds its producer and registry settings from it."""
        if self._cached_connection is None:
            self._cached_connection = self.get_connection(self.kafka_conn_id)
        return self._cached_connection


def _connection_secrets(password: str | None, extra: Mapping[str, Any]) -> list[str]:
    """The connection's own secrets: its password, and the client key and its password in the TLS fields."""
    candidates = [password, extra.get(SSL_KEY_FIELD), extra.get(SSL_KEY_PASSWORD_FIELD)]
    return [secret for secret in candidates if isinstance(secret, str) and secret]


def hide_secrets(properties: Mapping[str, Any] | None) -> RedactedDict | None:
    """Register the secret values among these properties with Airflow's masker; return them unprintable."""
    if properties is None:
        return None
    for secret in secret_values(properties):
        mask_secret(secret)
    return properties if isinstance(properties, RedactedDict) else RedactedDict(properties)
