"""The operator: sends messages and hands the broker's acknowledgement to the tasks after it."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseOperator, XComArg

from airflow_provider_kafka_connector.exceptions import KafkaConfigurationError, KafkaDeliveryError
from airflow_provider_kafka_connector.hooks.kafka_producer import KafkaProducerHook, hide_secrets
from airflow_provider_kafka_connector.lineage import (
    openlineage_enabled,
    openlineage_facets,
    outlet_alias,
    report_topic,
    topic_asset,
)
from airflow_provider_kafka_connector.metrics import Sent, metrics_enabled, report, sent
from airflow_provider_kafka_connector.redaction import redacted
from airflow_provider_kafka_connector.serialization import (
    Headers,
    SerializedRecords,
    message_timestamp,
    serialize_headers,
    serialize_payload,
    serialized_records,
)

if TYPE_CHECKING:
    import jinja2
    from airflow.sdk import Asset, Context

    from airflow_provider_kafka_connector.exactly_once import TaskInstanceIdentity
    from airflow_provider_kafka_connector.producer import KafkaProducer, OutgoingMessage
    from airflow_provider_kafka_connector.schemas import MessageEncoders

RESPONSE_XCOM_KEY = "response"

Messages = Iterable[Mapping[str, Any]] | Callable[[], Iterable[Mapping[str, Any]]]


class KafkaProducerOperator(BaseOperator):
    """Publish a message, or a batch of messages, to a Kafka topic and push the acknowledgement to XCom.

    For one message the XCom ``response`` is ``{"timestamp", "offset", "partition", "topic"}`` as the broker
    acknowledged it. For ``messages`` it is a summary: ``topic``, ``count``, per-partition first and last offset,
    and the first and last timestamp. The task fails if any message is not acknowledged.

    :param topic: the topic to send to.
    :param key: the message key: str (UTF-8), bytes, a JSON-serializable object, or None for no key.
    :param value: the message value, by the same rules; None sends a null value (a tombstone).
    :param headers: optional headers, a mapping or (name, value) pairs; values str, bytes, number or bool.
    :param partition: optional partition; by default the partitioner chooses by key, as Java clients do.
    :param timestamp: optional record timestamp: milliseconds since the epoch, an aware datetime (pendulum's too)
        or, as a template renders it, ISO 8601 text such as ``"{{ logical_date }}"``; by default the time it is
        sent. On a topic with ``message.timestamp.type=LogAppendTime`` the broker sets its own.
    :param messages: instead of key/value/headers/partition/timestamp: an iterable of mappings with those keys, a
        callable returning one (so a generator is only built when the task runs), or an upstream task's output (an
        XComArg: the task runs after it and pulls the messages when it runs). Not templated.
    :param kafka_conn_id: the "Kafka Producer Connector" connection.
    :param additional_properties: producer properties applied last, over the connection's own; Schema Registry
        properties (``schema.registry.url``, ``basic.auth.user.info``, ...) among them configure the registry.
    :param value_schema: an Avro schema or JSON Schema (JSON text or a dict) for the values: without a registry,
        Avro values are sent as raw Avro binary and JSON values validated and sent as JSON text; with a registry,
        in the Confluent wire format, registered under ``<topic>-value`` (by default the subject's latest schema
        is used when none is given).
    :param key_schema: the same for the keys (subject ``<topic>-key``); keys without one follow the usual rules.
    :param schema_type: ``"avro"`` or ``"json"`` (JSON Schema).
    :param exactly_once: send in a Kafka transaction so that ``read_committed`` consumers see this task instance's
        messages exactly once however many tries it takes: a retry after a try that committed sends nothing and
        pushes that try's ``response``. A Clear of the task sends again. See the documentation's "Exactly once
        across retries" page.
    """

    template_fields: Sequence[str] = (
        "topic", "key", "value", "headers", "timestamp", "additional_properties", "value_schema", "key_schema",
    )  # fmt: skip
    ui_color = "#e3f2fd"

    def __init__(
        self,
        *,
        topic: str,
        key: Any = None,
        value: Any = None,
        headers: Headers | None = None,
        partition: int | None = None,
        timestamp: int | datetime | str | None = None,
        messages: Messages | XComArg | None = None,
        kafka_conn_id: str = KafkaProducerHook.default_conn_name,
        additional_properties: Mapping[str, Any] | None = None,
        exactly_once: bool = False,
        value_schema: str | Mapping[str, Any] | None = None,
        key_schema: str | Mapping[str, Any] | None = None,
        schema_type: str = "avro",
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if messages is not None and any(field is not None for field in (key, value, headers, partition, timestamp)):
            raise KafkaConfigurationError(
                "Give either messages, or key/value/headers/partition/timestamp for a single message, not both."
            )
        self.topic = topic
        self.key = key
        self.value = value
        self.headers = headers
        self.partition = partition
        self.timestamp = timestamp
        self.messages = messages
        self.kafka_conn_id = kafka_conn_id
        self.additional_properties = additional_properties
        self.exactly_once = exactly_once
        self.value_schema = value_schema
        self.key_schema = key_schema
        self.schema_type = schema_type
        self._properties_to_send: Mapping[str, Any] | None = None
        if isinstance(messages, XComArg):  # Airflow links XComArgs of template fields only; messages is not one
            XComArg.apply_upstream_relationship(self, messages)
        # The topic's asset kafka://<server>/<topic> is only known when the task runs (the topic is templated, the
        # servers come from the connection): declare an alias now, attach the topic's asset event to it then.
        self.outlets = [*self.outlets, outlet_alias(self)]

    def _do_render_template_fields(
        self,
        parent: Any,
        template_fields: Iterable[str],
        context: Context,
        jinja_env: jinja2.Environment,
        seen_oids: set[int],
    ) -> None:
        # Not render_template_fields: a mapped task instance is rendered through this method only.
        super()._do_render_template_fields(parent, template_fields, context, jinja_env, seen_oids)
        # Rendered fields are logged, stored and shown by `airflow tasks render`, and not every Airflow release
        # masks them (3.1.0 stores a dict field as it is): the field keeps "***" for each secret, and the task
        # sends the real values, which are registered with the secrets masker for its logs.
        if parent is self and isinstance(self.additional_properties, Mapping):
            self._properties_to_send = hide_secrets(self.additional_properties)
            self.additional_properties = redacted(self.additional_properties)

    def execute(self, context: Context) -> dict[str, Any]:
        if not self.topic:
            raise KafkaConfigurationError(f"Task {self.task_id!r} has no topic to send to: set its topic.")
        messages = self.messages
        if isinstance(messages, XComArg):  # nor does Airflow resolve them: pull the upstream output now
            messages = self.messages = messages.resolve(context)
        hook = KafkaProducerHook(kafka_conn_id=self.kafka_conn_id)
        properties = self.additional_properties if self._properties_to_send is None else self._properties_to_send
        encoders = self._encoders(hook, properties)
        message = self._message(encoders) if messages is None else None  # a bad value fails before connecting
        metrics_on = metrics_enabled()
        measure = metrics_on or openlineage_enabled()
        sends: list[SerializedRecords | None] = []  # one entry per send (none when an earlier try's commit stands)

        def send(producer: KafkaProducer) -> dict[str, Any]:
            if message is not None:
                sends.append(None)
                return producer.send(message)
            assert messages is not None
            records = self._records(messages, encoders, measure)
            sends.append(records)
            return self._send_many(producer, records)

        identity = self._exactly_once_identity(context)
        transactional_id = identity.transactional_id if identity else None
        with hook.get_producer(properties, transactional_id, batch=messages is not None) as producer:
            # Made while the client connects: a task process's first Asset loads Airflow's URI normalizers (2-3 ms).
            asset = topic_asset(producer.bootstrap_servers, self.topic)
            started = time.monotonic()
            try:
                response = send(producer) if identity is None else self._publish_once(producer, identity, send)
            except KafkaDeliveryError as error:
                if measure and sends:
                    self._measured(sent(self.topic, message, sends[-1], started, failure=error), metrics_on)
                raise
            if measure and sends:
                self._measured(sent(self.topic, message, sends[-1], started, response=response), metrics_on)
        self._report_success(context, producer.bootstrap_servers, asset, response)
        return response

    def _measured(self, outcome: Sent, metrics_on: bool) -> None:
        """Metrics of what was sent now, and the figures for the OpenLineage output dataset."""
        self._sent = outcome
        if metrics_on:
            report(outcome, self.dag_id, self.task_id)

    def _report_success(self, context: Context, bootstrap_servers: str, asset: Asset, response: dict[str, Any]) -> None:
        """The response to XCom, the topic's asset event, and one log line for both."""
        context["ti"].xcom_push(key=RESPONSE_XCOM_KEY, value=response)
        self._bootstrap_servers = bootstrap_servers  # for OpenLineage
        uri = report_topic(self, context, asset, extra=response).uri
        # One line for both: a log line costs a task 0.1 ms, and up to 0.3 ms after idle time.
        if "count" not in response:
            self.log.info(
                "Kafka acknowledged the message: topic %s, partition %s, offset %s; asset event for %s",
                response["topic"],
                response["partition"],
                response["offset"],
                uri,
            )
        else:
            message = "Kafka acknowledged %s messages to topic %s; asset event for %s"
            self.log.info(message, response["count"], response["topic"], uri)

    def get_openlineage_facets_on_complete(self, task_instance: Any) -> Any:
        """The topic written to as OpenLineage output dataset, when the OpenLineage provider is installed: with the
        number of messages and their bytes, and the value schema's fields where the task has one."""
        return openlineage_facets(
            getattr(self, "_bootstrap_servers", None), self.topic, getattr(self, "_sent", None), self.value_schema
        )

    def _exactly_once_identity(self, context: Context) -> TaskInstanceIdentity | None:
        if not self.exactly_once:  # the default path does not import the transaction module
            return None
        from airflow_provider_kafka_connector.exactly_once import identity_of

        return identity_of(context)

    def _publish_once(
        self,
        producer: KafkaProducer,
        identity: TaskInstanceIdentity,
        send: Callable[[KafkaProducer], dict[str, Any]],
    ) -> dict[str, Any]:
        from airflow_provider_kafka_connector.exactly_once import TransactionalProducer

        response, published = TransactionalProducer(producer, identity).publish(self.topic, send)
        if not published:
            self.log.info(
                "exactly_once: an earlier try of this task instance already published its messages (its transaction "
                "committed; transactional id %s, clear number %s): sending nothing, pushing that try's response",
                identity.transactional_id,
                identity.clear_number,
            )
        return response

    def _encoders(self, hook: KafkaProducerHook, properties: Mapping[str, Any] | None) -> MessageEncoders | None:
        """The schema serializers, once per task; None without schemas and registry (no schema module import)."""
        registry = hook.registry_config(properties)
        if registry is None and self.value_schema is None and self.key_schema is None:
            return None
        from airflow_provider_kafka_connector.schemas import message_encoders

        return message_encoders(self.topic, self.value_schema, self.key_schema, self.schema_type, registry)

    def _message(self, encoders: MessageEncoders | None) -> OutgoingMessage:
        from airflow_provider_kafka_connector.producer import OutgoingMessage

        encode_key = encoders.key if encoders and encoders.key else None
        encode_value = encoders.value if encoders and encoders.value else None
        return OutgoingMessage(
            topic=self.topic,
            key=encode_key(self.key) if encode_key else serialize_payload(self.key, "key"),
            value=encode_value(self.value) if encode_value else serialize_payload(self.value, "value"),
            headers=serialize_headers(self.headers),
            partition=self.partition,
            timestamp=message_timestamp(self.timestamp),
        )

    def _send_many(self, producer: KafkaProducer, records: SerializedRecords) -> dict[str, Any]:
        return producer.send_many(self.topic, records)

    def _records(self, messages: Messages, encoders: MessageEncoders | None, measure: bool) -> SerializedRecords:
        return serialized_records(
            messages() if callable(messages) else messages,
            encoders.key if encoders else None,
            encoders.value if encoders else None,
            measure,
        )
