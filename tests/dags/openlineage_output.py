"""One producer task, run by tests/test_lineage.py with the OpenLineage provider writing its events to a file."""

from __future__ import annotations

import pendulum
from airflow.sdk import DAG

from airflow_provider_kafka_connector.operators.kafka_producer import KafkaProducerOperator

with DAG(
    dag_id="openlineage_output",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    params={"topic": "unset"},
):
    KafkaProducerOperator(task_id="publish", topic="{{ params.topic }}", value="lineage")
    KafkaProducerOperator(
        task_id="publish_batch",
        topic="{{ params.topic }}",
        messages=[{"value": {"name": name, "age": 7}} for name in ("ada", "bob", "cy")],
        value_schema={
            "type": "object",
            "title": "Person",
            "properties": {"name": {"type": "string"}, "age": {"type": "integer"}},
        },
        schema_type="json",
    )
