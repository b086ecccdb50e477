"""Schema-aware messages: inline Avro and JSON Schema, and a real Schema Registry (Apicurio, basic auth), run by
real Airflow against the real broker; the pure parts unit-tested."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_kafka_connector.config import RegistryConfig
from airflow_provider_kafka_connector.exceptions import KafkaConfigurationError, MessageSerializationError
from airflow_provider_kafka_connector.hooks.kafka_producer import KafkaProducerHook
from airflow_provider_kafka_connector.redaction import RedactedDict
from airflow_provider_kafka_connector.schemas import message_encoders
from harness.airflow_dag_run import AirflowHome
from harness.ports import free_port
from harness.pytest_plugin import FAILURE_REPORT, allowed_urls

PERSON = {
    "type": "record",
    "name": "Person",
    "fields": [{"name": "name", "type": "string"}, {"name": "age", "type": "int"}],
}
WRONG_PASSWORD = "Wrong-Registry-pw-4Kz"

# --- unit: without a registry ---------------------------------------------------------------------


def test_inline_avro_is_raw_avro_binary_as_the_camunda_connector_writes_it():
    schema = '{"type":"record","name":"R","fields":[{"name":"name","type":"string"},{"name":"age","type":"int"}]}'
    encoders = message_encoders("t", schema, None, "avro", None)
    assert encoders is not None and encoders.value is not None and encoders.key is None
    assert encoders.value({"name": "x", "age": 7}) == bytes.fromhex("02780e")
    assert encoders.value(None) is None  # a tombstone stays a tombstone


def test_inline_json_schema_validates_and_sends_todays_json_text():
    encoders = message_encoders("t", {"type": "object", "properties": {"a": {"type": "integer"}}}, None, "json", None)
    assert encoders is not None and encoders.value is not None
    assert encoders.value({"a": 1, "b": "é"}) == '{"a":1,"b":"é"}'.encode()
    with pytest.raises(MessageSerializationError, match=r"at 'a': 'z' is not of type 'integer'"):
        encoders.value({"a": "z"})


def test_no_schema_and_no_registry_keeps_todays_rules():
    assert message_encoders("t", None, None, "avro", None) is None


@pytest.mark.parametrize(
    "value, reason",
    [
        ({"name": "x", "age": "7"}, "an integer is required on field age"),
        ({"name": "x"}, "no value and no default for age"),
        ("text", "(a str was given)"),
    ],
)
def test_avro_mismatch_names_the_field_and_why(value, reason):
    encoders = message_encoders("t", PERSON, None, "avro", None)
    assert encoders is not None and encoders.value is not None
    with pytest.raises(MessageSerializationError, match="does not match its Avro schema") as raised:
        encoders.value(value)
    assert reason in str(raised.value)


@pytest.mark.parametrize(
    "schema, schema_type, message",
    [
        ("{not json", "avro", "value_schema is not valid JSON"),
        ({"type": "record", "name": "R", "fields": [{"name": "a", "type": "strng"}]}, "avro", "not a valid Avro"),
        ({"type": 5}, "json", "value_schema is not a valid JSON Schema"),
        (PERSON, "protobuf", "schema_type must be 'avro' or 'json'"),
        (42, "avro", "value_schema must be JSON text or a dict, not int"),
    ],
)
def test_a_schema_that_does_not_parse_fails_before_anything_is_sent(schema, schema_type, message):
    with pytest.raises(KafkaConfigurationError, match=message):
        message_encoders("t", schema, None, schema_type, None)


# --- against the real registry, in-process --------------------------------------------------------


def registry_config(registry, **overrides) -> RegistryConfig:
    return RegistryConfig(client=RedactedDict({**registry.client_config(), **overrides}), serializer={})


@pytest.mark.broker
def test_connections_ui_test_checks_the_registry(broker, schema_registry, kafka_connection):
    extra = {"schema.registry.url": schema_registry.url, "basic.auth.user.info": schema_registry.user_info}
    ok, message = KafkaProducerHook(kafka_connection("kafka_ok", host=broker.plaintext, extra=extra)).test_connection()
    assert ok, message
    assert f"Schema Registry at {schema_registry.url} answered" in message

    extra["basic.auth.user.info"] = f"{schema_registry.user}:{WRONG_PASSWORD}"
    ok, message = KafkaProducerHook(kafka_connection("kafka_bad", host=broker.plaintext, extra=extra)).test_connection()
    assert not ok
    assert "refused the credentials (HTTP 401)" in message
    assert WRONG_PASSWORD not in message


# --- real Airflow, real broker, real registry -----------------------------------------------------


# Each task's state, duration and stored rendered fields, in one query (each query starts a Python with Airflow).
_TASKS = """
import json, sys
from airflow.models.renderedtifields import RenderedTaskInstanceFields as RTIF
from airflow.models.taskinstance import TaskInstance as TI
from airflow.utils.session import create_session
with create_session() as session:
    tasks = {
        ti.task_id: {"state": ti.state, "duration": ti.duration, "rendered": None}
        for ti in session.query(TI).filter_by(dag_id="schema_cases", run_id=sys.argv[1])
    }
    for row in session.query(RTIF).filter_by(dag_id="schema_cases", run_id=sys.argv[1]):
        tasks[row.task_id]["rendered"] = row.rendered_fields
    print(json.dumps(tasks))
"""


@dataclass(frozen=True)
class SchemaRun:
    output: str
    state: str
    topic: str
    xcoms: dict
    tasks: dict
    client: Any

    def response(self, task_id):
        return self.xcoms[(task_id, "response")]


@pytest.fixture(scope="module")
def schema_run(broker, schema_registry, tmp_path_factory) -> SchemaRun:
    """One run of tests/dags/schema_cases.py: every case is a task (one `airflow dags test` for all)."""
    from confluent_kafka.schema_registry import Schema, SchemaRegistryClient

    topic = "schemas"
    for suffix in ("inline", "inline-json", "avro", "avro-batch", "json", "latest", "compat", "nothing"):
        broker.create_topic(f"{topic}-{suffix}", partitions=1)
    client = SchemaRegistryClient(schema_registry.client_config())
    client.register_schema(f"{topic}-latest-value", Schema(json.dumps(PERSON), "AVRO"))
    client.register_schema(f"{topic}-compat-value", Schema(json.dumps(PERSON), "AVRO"))
    client.set_compatibility(f"{topic}-compat-value", "BACKWARD")
    registry = {"schema.registry.url": schema_registry.url, "basic.auth.user.info": schema_registry.user_info}
    closed_url = f"http://127.0.0.1:{free_port()}"
    with allowed_urls(closed_url):  # listed by the deployment, but down
        airflow = AirflowHome(
            tmp_path_factory.mktemp("airflow"),
            {
                "kafka_producer_default": {"conn_type": "kafka_producer", "host": broker.plaintext},
                "kafka_registry": {"conn_type": "kafka_producer", "host": broker.plaintext, "extra": registry},
            },
            dags_folder=Path(__file__).parent / "dags",
        )
    airflow.env["AIRFLOW_VAR_REGISTRY_USER_INFO"] = schema_registry.user_info
    airflow.env["AIRFLOW_VAR_WRONG_REGISTRY_USER_INFO"] = f"{schema_registry.user}:{WRONG_PASSWORD}"
    conf = {"topic": topic, "record_name": "Templated", "closed_url": closed_url}
    run = airflow.test_dag("schema_cases", conf)
    (airflow.path / "dag-run.log").write_text(run.output)  # kept with the test's temporary files, for a failure
    tasks = json.loads(airflow.query(_TASKS, run.run_id))
    return SchemaRun(run.output, run.state, topic, airflow.xcoms("schema_cases", run.run_id), tasks, client)


@pytest.mark.broker
def test_inline_avro_bytes_through_airflow(schema_run, broker):
    [record] = broker.consume(f"{schema_run.topic}-inline", 1)
    assert record.value() == bytes.fromhex("02780e")
    assert record.key() == bytes.fromhex("026b")  # the Avro string "k"
    assert schema_run.response("inline_avro")["offset"] == record.offset()
    [record] = broker.consume(f"{schema_run.topic}-inline-json", 1)
    assert record.value() == b'{"name":"x","age":7}'


@pytest.mark.broker
def test_registry_avro_and_json_read_back_by_deserializing_consumers(schema_run, broker, schema_registry):
    from confluent_kafka.schema_registry.avro import AvroDeserializer
    from confluent_kafka.schema_registry.json_schema import JSONDeserializer
    from confluent_kafka.serialization import MessageField, SerializationContext

    topic, client = schema_run.topic, schema_run.client
    avro = AvroDeserializer(client)

    def read(suffix, deserializer, count=1):
        records = broker.consume(f"{topic}-{suffix}", count)
        values = [deserializer(r.value(), SerializationContext(r.topic(), MessageField.VALUE)) for r in records]
        return records, values

    records, values = read("avro", avro)
    assert values == [{"name": "Templated", "age": 42}]
    assert avro(records[0].key(), SerializationContext(records[0].topic(), MessageField.KEY)) == "order-1"
    assert records[0].value()[0] == 0  # Confluent wire format: magic byte, schema id, Avro
    response = schema_run.response("registry_avro")
    assert set(response) == {"timestamp", "offset", "partition", "topic"}
    assert response["offset"] == records[0].offset()
    assert client.get_latest_version(f"{topic}-avro-value").schema.schema_str.count("Templated") == 1

    _, values = read("avro-batch", avro, 50)
    assert values == [{"name": f"n{i}", "age": i} for i in range(50)]
    assert schema_run.response("registry_avro_batch")["count"] == 50
    assert client.get_versions(f"{topic}-avro-batch-value") == [1]
    # the schema is resolved once per task, not per message: one registration request for the batch's 50
    registrations = f'method="POST" path="/apis/ccompat/v7/subjects/{topic}-avro-batch-value/versions'
    assert schema_registry.log_file.read_text().count(registrations) == 1

    _, values = read("json", JSONDeserializer(None, schema_registry_client=client))
    assert values == [{"name": "x", "age": 7}]

    _, values = read("latest", avro)  # the task gave no schema: the subject's latest registered one
    assert values == [{"name": "latest", "age": 1}]


FAILURES = {
    "avro_mismatch": "The message value does not match its Avro schema: an integer is required on field age",
    "schema_not_json": "value_schema is not valid JSON",
    "schema_not_avro": "value_schema is not a valid Avro schema",
    "json_mismatch": "The message value does not match its JSON Schema at 'name': 5 is not of type 'string'",
    "incompatible": "refused the schema for subject 'schemas-compat-value' as incompatible",
    "unknown_subject": "has no schema under subject 'schemas-nothing-value'",
    "unreachable": "cannot be reached",
    "bad_credentials": "refused the credentials (HTTP 401)",
}


@pytest.mark.broker
def test_every_bad_input_fails_its_task_with_a_clear_message(schema_run, request):
    assert schema_run.state == "failed"
    for task, shown in schema_run.tasks.items():
        assert shown["state"] == ("failed" if task in FAILURES else "success"), (task, schema_run.output[-3000:])
    for task, message in FAILURES.items():
        assert message in schema_run.output, task
        FAILURE_REPORT.append((f"{request.node.name}[{task}]", schema_run.tasks[task]["duration"] or 0.0, message))
    assert schema_run.tasks["unreachable"]["duration"] < 30


@pytest.mark.broker
def test_registry_credentials_are_shown_nowhere(schema_run, schema_registry):
    rendered = {task: shown["rendered"] for task, shown in schema_run.tasks.items()}
    assert rendered["registry_json"]["additional_properties"] == {"basic.auth.user.info": "***"}
    assert rendered["bad_credentials"]["additional_properties"] == {"basic.auth.user.info": "***"}
    for text in (schema_run.output, json.dumps(rendered), json.dumps(list(schema_run.xcoms.values()))):
        for secret in (schema_registry.password, WRONG_PASSWORD):
            assert secret not in text
