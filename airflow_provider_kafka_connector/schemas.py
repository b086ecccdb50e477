"""Avro and JSON Schema messages: inline Avro, JSON Schema validation, and the Confluent Schema Registry.

Without a registry, an Avro schema writes the message as raw Avro binary (no header, as the Camunda connector
does) and a JSON Schema validates the message, which is then sent as JSON text as ever. With `schema.registry.url`
among the additional properties, confluent-kafka's own serializers write the Confluent wire format: the value with
the task's schema (registered under `<topic>-value` unless `auto.register.schemas` is false) or, when the task
gives none, the subject's latest registered schema; the key likewise where the task gives a key schema.

Every serializer is built once per task; the registry is asked once per subject, at the first message.
Imported only when a task uses schemas or a registry: it needs the `schemas` extra (fastavro, jsonschema, httpx).
"""

from __future__ import annotations

import io
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from airflow_provider_kafka_connector.exceptions import (
    KafkaConfigurationError,
    MessageSchemaError,
    MessageSerializationError,
)
from airflow_provider_kafka_connector.redaction import scrub, secret_values
from airflow_provider_kafka_connector.serialization import Encode, serialize_payload

if TYPE_CHECKING:
    from confluent_kafka.schema_registry import SchemaRegistryClient

    from airflow_provider_kafka_connector.config import RegistryConfig

SCHEMA_TYPES = ("avro", "json")
INSTALL_HINT = "pip install 'airflow-provider-kafka-connector[schemas]'"
# How the Confluent Schema Registry API answers (its error codes), as its clients and Apicurio's ccompat API use them.
_SUBJECT_NOT_FOUND = 40401
_SCHEMA_NOT_FOUND = 40403


@dataclass(frozen=True)
class MessageEncoders:
    """How a task's keys and values become bytes; None where the usual rules apply (str, bytes, JSON text)."""

    key: Encode | None
    value: Encode | None


def message_encoders(
    topic: str,
    value_schema: str | Mapping[str, Any] | None,
    key_schema: str | Mapping[str, Any] | None,
    schema_type: str,
    registry: RegistryConfig | None,
) -> MessageEncoders | None:
    """The encoders for a task's messages; None when it uses neither a schema nor a registry."""
    if value_schema is None and key_schema is None and registry is None:
        return None
    if schema_type not in SCHEMA_TYPES:
        raise KafkaConfigurationError(f"schema_type must be 'avro' or 'json' (JSON Schema), not {schema_type!r}.")
    schemas = {"value": _schema_text(value_schema, "value_schema"), "key": _schema_text(key_schema, "key_schema")}
    for field, text in schemas.items():
        if text is not None:
            _check_schema(text, schema_type, f"{field}_schema")
    if registry is None:
        return MessageEncoders(
            key=_inline_encoder(schemas["key"], schema_type, "key"),
            value=_inline_encoder(schemas["value"], schema_type, "value"),
        )
    client = _registry_client(registry)

    def encoder(field: str) -> Encode:
        return _registry_encoder(client, registry, topic, schemas[field], schema_type, field)

    return MessageEncoders(key=None if schemas["key"] is None else encoder("key"), value=encoder("value"))


def check_registry(registry: RegistryConfig) -> tuple[bool, str]:
    """The Connections UI's Test of a registry: reachable, and the credentials accepted."""
    client = _registry_client(registry)
    try:
        subjects = client.get_subjects()
    except Exception as error:
        return False, scrub(_registry_failure(error, registry, ""), secret_values(registry.client))
    return True, f"Schema Registry at {registry.urls} answered: {len(subjects)} subjects."


# --- schemas --------------------------------------------------------------------------------------


def _schema_text(schema: str | Mapping[str, Any] | None, name: str) -> str | None:
    """A schema given as JSON text or a dict, as compact JSON text; None stays None."""
    if schema is None:
        return None
    if isinstance(schema, Mapping):
        return json.dumps(schema, separators=(",", ":"))
    if not isinstance(schema, str):
        raise KafkaConfigurationError(f"{name} must be JSON text or a dict, not {type(schema).__name__}.")
    try:
        json.loads(schema)
    except ValueError as error:
        raise KafkaConfigurationError(
            f"{name} is not valid JSON: {error}. Give the schema as JSON text or a dict."
        ) from None
    return schema


def _check_schema(text: str, schema_type: str, name: str) -> None:
    """Fail now, before anything is sent or registered, if the schema does not parse."""
    if schema_type == "avro":
        _parsed_avro(text, name)
    else:
        _json_validator(text, name)


def _parsed_avro(text: str, name: str) -> Any:
    fastavro = _require("fastavro")
    try:
        return fastavro.parse_schema(json.loads(text))
    except Exception as error:
        raise KafkaConfigurationError(
            f"{name} is not a valid Avro schema: {type(error).__name__}: {error}. See "
            "https://avro.apache.org/docs/current/specification/ for the schema format."
        ) from None


def _json_validator(text: str, name: str) -> Any:
    jsonschema = _require("jsonschema")
    schema = json.loads(text)
    try:
        validator_class = jsonschema.validators.validator_for(schema)
        validator_class.check_schema(schema)
    except (jsonschema.exceptions.SchemaError, TypeError, AttributeError) as error:
        reason = getattr(error, "message", error)
        raise KafkaConfigurationError(f"{name} is not a valid JSON Schema: {reason}.") from None
    return validator_class(schema)


def _json_mismatch(validator: Any, payload: Any, field: str) -> str | None:
    """The first reason the payload fails its JSON Schema, naming where; None when it passes."""
    error = next(iter(sorted(validator.iter_errors(payload), key=lambda e: list(e.absolute_path))), None)
    if error is None:
        return None
    where = "/".join(str(part) for part in error.absolute_path)
    at = f" at {where!r}" if where else ""
    return f"The message {field} does not match its JSON Schema{at}: {error.message}."


def _avro_mismatch(error: Exception, payload: Any, field: str) -> str:
    given = "" if isinstance(payload, Mapping) else f" (a {type(payload).__name__} was given)"
    return f"The message {field} does not match its Avro schema: {error}{given}."


# --- without a registry ---------------------------------------------------------------------------


def _inline_encoder(text: str | None, schema_type: str, field: str) -> Encode | None:
    if text is None:
        return None
    if schema_type == "avro":
        return _inline_avro(_parsed_avro(text, f"{field}_schema"), field)
    return _validated_json(_json_validator(text, f"{field}_schema"), field)


def _inline_avro(parsed: Any, field: str) -> Encode:
    from fastavro import schemaless_writer

    def encode(payload: Any) -> bytes | None:
        if payload is None:
            return None
        buffer = io.BytesIO()
        try:
            schemaless_writer(buffer, parsed, payload)
        except (TypeError, ValueError, AttributeError, KeyError) as error:
            raise MessageSerializationError(_avro_mismatch(error, payload, field)) from None
        return buffer.getvalue()

    return encode


def _validated_json(validator: Any, field: str) -> Encode:
    def encode(payload: Any) -> bytes | None:
        if payload is not None:
            mismatch = _json_mismatch(validator, payload, field)
            if mismatch:
                raise MessageSerializationError(mismatch)
        return serialize_payload(payload, field)

    return encode


# --- with a registry ------------------------------------------------------------------------------


def _registry_client(registry: RegistryConfig) -> SchemaRegistryClient:
    registry_module = _require("confluent_kafka.schema_registry")
    try:
        client: SchemaRegistryClient = registry_module.SchemaRegistryClient(dict(registry.client))
        return client
    except (TypeError, ValueError) as error:
        raise MessageSchemaError(
            scrub(
                f"The Schema Registry settings are refused: {error}. Check 'schema.registry.url' "
                "(http:// or https:// URLs, comma-separated).",
                secret_values(registry.client),
            )
        ) from None


def _registry_encoder(
    client: SchemaRegistryClient,
    registry: RegistryConfig,
    topic: str,
    text: str | None,
    schema_type: str,
    field: str,
) -> Encode:
    from confluent_kafka.serialization import MessageField, SerializationContext

    subject = f"{topic}-{field}"
    conf: dict[str, Any] = dict(registry.serializer)
    schema: Any = text
    if text is None:  # the subject's latest registered schema, asked for now: a missing one fails before sending
        try:
            schema = client.get_latest_version(subject).schema
        except Exception as error:
            raise _registry_error(error, registry, subject) from None
        conf.update({"use.latest.version": True, "auto.register.schemas": False})
    try:
        if schema_type == "avro":
            _require("fastavro")
            from confluent_kafka.schema_registry.avro import AvroSerializer

            serializer: Any = AvroSerializer(client, schema, conf=conf)
        else:
            _require("jsonschema")
            from confluent_kafka.schema_registry.json_schema import JSONSerializer

            serializer = JSONSerializer(schema, client, conf=conf)
    except (TypeError, ValueError) as error:  # e.g. confluent-kafka 2.6 wants a JSON Schema "title"
        raise KafkaConfigurationError(
            f"confluent-kafka's serializer refuses the {field} schema for subject {subject!r}: {error}."
        ) from None
    context = SerializationContext(topic, MessageField.KEY if field == "key" else MessageField.VALUE)
    schema_text = text if text is not None else schema.schema_str

    def encode(payload: Any) -> bytes | None:
        try:
            return serializer(payload, context)  # type: ignore[no-any-return]
        except Exception as error:
            raise _encoding_failure(error, payload, registry, subject, schema_text, schema_type, field) from None

    return encode


def _encoding_failure(
    error: Exception,
    payload: Any,
    registry: RegistryConfig,
    subject: str,
    schema_text: str,
    schema_type: str,
    field: str,
) -> Exception:
    from confluent_kafka.schema_registry.error import SchemaRegistryError
    from confluent_kafka.serialization import SerializationError

    if isinstance(error, SchemaRegistryError) or not isinstance(error, (SerializationError, TypeError, ValueError)):
        return _registry_error(error, registry, subject)
    secrets = secret_values(registry.client)
    if schema_type == "json":
        detail = _json_mismatch(_json_validator(schema_text, f"{field}_schema"), payload, field)
        return MessageSerializationError(
            scrub(detail or f"The message {field} cannot be serialized: {error}.", secrets)
        )
    return MessageSerializationError(scrub(_avro_mismatch(error, payload, field), secrets))


def _registry_error(error: Exception, registry: RegistryConfig, subject: str) -> MessageSchemaError:
    return MessageSchemaError(scrub(_registry_failure(error, registry, subject), secret_values(registry.client)))


def _registry_failure(error: Exception, registry: RegistryConfig, subject: str) -> str:
    """What went wrong with the registry, and what to do; the caller removes the secrets."""
    from confluent_kafka.schema_registry.error import SchemaRegistryError

    at = f"The Schema Registry at {registry.urls}"
    if not isinstance(error, SchemaRegistryError):
        return (
            f"{at} cannot be reached: {type(error).__name__}: {error}. Check 'schema.registry.url' and that the "
            "registry is up and reachable from Airflow (and its TLS settings for https)."
        )
    status, code, message = error.http_status_code, error.error_code, error.error_message
    if status in (401, 403):
        return (
            f"{at} refused the credentials (HTTP {status}). Check 'basic.auth.user.info' ('user:password') or the "
            "credentials in 'schema.registry.url'."
        )
    if code == _SUBJECT_NOT_FOUND:
        return (
            f"{at} has no schema under subject {subject!r} ({message}). Give the task a schema (value_schema or "
            "key_schema) to register it, or register the subject's schema first."
        )
    if code == _SCHEMA_NOT_FOUND:
        return (
            f"{at} has not registered the task's schema under subject {subject!r} and 'auto.register.schemas' is "
            f"false ({message}). Register the schema first, or set 'auto.register.schemas' to true."
        )
    if status == 409:
        return (
            f"{at} refused the schema for subject {subject!r} as incompatible with the registered versions: "
            f"{message}. Change the schema to be compatible, or the subject's compatibility setting."
        )
    return f"{at} refused the request for subject {subject!r} (HTTP {status}): {message}."


def _require(module: str) -> Any:
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as error:
        raise KafkaConfigurationError(
            f"Schemas and the Schema Registry need the Python package {error.name or module!r}, which is not "
            f"installed: run {INSTALL_HINT}."
        ) from None
