"""The DAG that tests/test_schemas.py runs through real Airflow: inline Avro and JSON Schema, a real Schema
Registry (Avro, JSON Schema, latest registered schema, batches), and every way a schema task can fail."""

from __future__ import annotations

import pendulum
from airflow.sdk import DAG

from airflow_provider_kafka_connector.operators.kafka_producer import KafkaProducerOperator

T = "{{ params.topic }}"
PERSON = {
    "type": "record",
    "name": "Person",
    "fields": [{"name": "name", "type": "string"}, {"name": "age", "type": "int"}],
}
# JSON text, templated: the record's name comes from the run's params.
PERSON_TEXT = (
    '{"type": "record", "name": "{{ params.record_name }}", "fields": '
    '[{"name": "name", "type": "string"}, {"name": "age", "type": "int"}]}'
)
PERSON_JSON_SCHEMA = {
    "type": "object",
    "properties": {"name": {"type": "string"}, "age": {"type": "integer"}},
    "required": ["name", "age"],
}
REGISTRY = "kafka_registry"  # the connection's extra names the registry and its credentials

with DAG(
    dag_id="schema_cases",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    params={"topic": "unset", "record_name": "Person", "closed_url": "unset"},
):
    # --- without a registry
    inline_avro = KafkaProducerOperator(
        task_id="inline_avro",
        topic=f"{T}-inline",
        key="k",
        key_schema='"string"',
        value={"name": "x", "age": 7},
        value_schema={"type": "record", "name": "R", "fields": PERSON["fields"]},
    )
    KafkaProducerOperator(
        task_id="inline_json",
        topic=f"{T}-inline-json",
        value={"name": "x", "age": 7},
        value_schema=PERSON_JSON_SCHEMA,
        schema_type="json",
    )
    # --- through the registry
    KafkaProducerOperator(
        task_id="registry_avro",
        kafka_conn_id=REGISTRY,
        topic=f"{T}-avro",
        key="order-1",
        key_schema='"string"',
        value={"name": "{{ params.record_name }}", "age": 42},
        value_schema=PERSON_TEXT,
    )
    KafkaProducerOperator(
        task_id="registry_avro_batch",
        kafka_conn_id=REGISTRY,
        topic=f"{T}-avro-batch",
        messages=[{"key": f"k{i}", "value": {"name": f"n{i}", "age": i}} for i in range(50)],
        value_schema=PERSON,
    )
    KafkaProducerOperator(
        task_id="registry_json",
        kafka_conn_id=REGISTRY,
        topic=f"{T}-json",
        value={"name": "x", "age": 7},
        value_schema=PERSON_JSON_SCHEMA,
        schema_type="json",
        # the right credentials again, from a Variable, in the task's own properties: shown nowhere
        additional_properties={"basic.auth.user.info": "{{ var.value.registry_user_info }}"},
    )
    KafkaProducerOperator(
        task_id="registry_latest",
        kafka_conn_id=REGISTRY,
        topic=f"{T}-latest",
        value={"name": "latest", "age": 1},
    )
    # --- failures
    KafkaProducerOperator(
        task_id="avro_mismatch",
        topic=f"{T}-inline",
        value={"name": "x", "age": "seven"},
        value_schema=PERSON,
    )
    KafkaProducerOperator(task_id="schema_not_json", topic=f"{T}-inline", value={}, value_schema="{not json")
    KafkaProducerOperator(
        task_id="schema_not_avro",
        topic=f"{T}-inline",
        value={},
        value_schema={"type": "record", "name": "R", "fields": [{"name": "a", "type": "strng"}]},
    )
    KafkaProducerOperator(
        task_id="json_mismatch",
        kafka_conn_id=REGISTRY,
        topic=f"{T}-json",
        value={"name": 5, "age": 7},
        value_schema=PERSON_JSON_SCHEMA,
        schema_type="json",
    )
    KafkaProducerOperator(
        task_id="incompatible",
        kafka_conn_id=REGISTRY,
        topic=f"{T}-compat",
        value={"name": 1},
        value_schema={"type": "record", "name": "Person", "fields": [{"name": "name", "type": "int"}]},
    )
    KafkaProducerOperator(task_id="unknown_subject", kafka_conn_id=REGISTRY, topic=f"{T}-nothing", value={"a": 1})
    # After another task, so that its time to failure does not include the first task's imports.
    inline_avro >> KafkaProducerOperator(
        task_id="unreachable",
        kafka_conn_id=REGISTRY,
        topic=f"{T}-avro",
        value={"name": "x", "age": 7},
        value_schema=PERSON,
        additional_properties={"schema.registry.url": "{{ params.closed_url }}"},
    )
    KafkaProducerOperator(
        task_id="bad_credentials",
        kafka_conn_id=REGISTRY,
        topic=f"{T}-avro",
        value={"name": "x", "age": 7},
        value_schema=PERSON,
        additional_properties={"basic.auth.user.info": "{{ var.value.wrong_registry_user_info }}"},
    )
