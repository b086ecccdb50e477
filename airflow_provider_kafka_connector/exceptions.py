"""Every error this provider raises, under one base a DAG can catch: ``KafkaConnectorError``.

::

    KafkaConnectorError
    ├── KafkaConfigurationError       the connection, the additional properties or the task's arguments are refused
    │   ├── ProducerConfigError       (java_properties) the producer configuration cannot be built
    │   ├── JaasSyntaxError           (java_properties) a sasl.jaas.config line that cannot be read
    │   ├── PropertyPolicyError       (policy) a property the deployment does not allow (load code, run a
    │   │                             command, send a file, reach a URL that is not listed)
    │   ├── MessageSchemaError        (schemas) the Schema Registry refuses, lacks or cannot serve a schema
    │   └── KafkaAssetURIError        (lineage) a kafka:// asset URI without server or topic
    ├── MessageSerializationError     a key, value or header cannot be turned into bytes
    ├── KafkaCredentialsError         no credentials to log in with: the token callback failed, or no AWS
    │                                 identity (or role) was found for Amazon MSK IAM
    └── KafkaDeliveryError            a message was not acknowledged by the broker
        └── KafkaTransactionError     exactly_once: the transaction failed (fenced, not authorized, marker too
                                      large, timed out) and was aborted

Backward compatibility: before this hierarchy, a refused configuration was a ``ValueError``, a value that cannot
be serialized a ``TypeError`` and an unacknowledged message a ``RuntimeError``. Each class keeps that built-in
base too, so ``except ValueError`` in an existing DAG still works. For ``KafkaAssetURIError`` it is also a
contract: Airflow's asset URI normalizer (``Asset.normalized_uri``) only treats a ``ValueError`` as "not a valid
URI of this scheme".

Pure Python: importing this module imports neither Airflow nor confluent_kafka.
"""

from __future__ import annotations

__all__ = [
    "KafkaAssetURIError",
    "KafkaConfigurationError",
    "KafkaConnectorError",
    "KafkaCredentialsError",
    "KafkaDeliveryError",
    "KafkaTransactionError",
    "MessageSchemaError",
    "MessageSerializationError",
    "PropertyPolicyError",
]


class KafkaConnectorError(Exception):
    """The base of every error the Kafka producer connector raises."""


class KafkaConfigurationError(KafkaConnectorError, ValueError):
    """The connection, the additional properties or the operator's arguments are refused; nothing was sent."""


class PropertyPolicyError(KafkaConfigurationError):
    """A connection's extra or a task's properties ask for something the deployment's property policy refuses
    (``[kafka_connector]`` in Airflow's configuration); nothing was loaded, run, read or contacted."""


class KafkaAssetURIError(KafkaConfigurationError):
    """A topic's asset cannot be named: no bootstrap server or no topic."""


class MessageSchemaError(KafkaConfigurationError):
    """The Schema Registry refuses the task's schema, has none for its subject, refuses its credentials or cannot
    be reached; nothing was sent."""


class MessageSerializationError(KafkaConnectorError, TypeError):
    """A key, value or header cannot be turned into bytes."""


class KafkaCredentialsError(KafkaConnectorError, RuntimeError):
    """The client could not get the credentials it logs in with (a token callback failed, no AWS identity was
    found); nothing was sent."""


class KafkaDeliveryError(KafkaConnectorError, RuntimeError):
    """A message was not acknowledged by the broker.

    For a batch whose messages were sent, ``acknowledged`` and ``failed`` count them; ``failed`` is None where the
    batch stopped before any was counted.
    """

    acknowledged: int = 0
    failed: int | None = None


class KafkaTransactionError(KafkaDeliveryError):
    """exactly_once: this try's transaction failed and was aborted; nothing of it reaches read_committed consumers."""
