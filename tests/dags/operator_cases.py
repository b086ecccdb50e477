"""DAGs that tests/test_operator.py runs through real Airflow against the test broker."""

from __future__ import annotations

import pendulum
from airflow.sdk import DAG

from airflow_provider_kafka_connector.operators.kafka_producer import KafkaProducerOperator

TOPIC = "{{ params.topic }}"

with DAG(
    dag_id="operator_cases",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    params={"topic": "unset", "greeting": "unset"},
):
    KafkaProducerOperator(
        task_id="json_value",
        topic=TOPIC,
        key="order-1",
        value={"b": 1, "a": ["é", 2.5, True, None]},
        headers={"z-first": "é", "a-second": 7, "flag": False},
    )
    KafkaProducerOperator(task_id="tombstone", topic=TOPIC, key="order-1", value=None)
    KafkaProducerOperator(task_id="no_key", topic=TOPIC, value="plain text, ünïcode")
    KafkaProducerOperator(task_id="explicit_partition", topic=TOPIC, key=17, value=42, partition=2)
    KafkaProducerOperator(task_id="repeated_headers", topic=TOPIC, key="k", value="v", headers=[("h", "1"), ("h", "2")])
    KafkaProducerOperator(
        task_id="templated",
        topic=TOPIC,
        key="{{ dag_run.dag_id }}",
        value={"greeting": "{{ params.greeting }}"},
        headers={"run": "{{ run_id }}"},
        additional_properties={"client.id": "{{ params.greeting }}"},
    )

    KafkaProducerOperator(
        task_id="batch",
        topic="{{ params.topic }}-batch",
        messages=lambda: ({"key": f"k{i % 10}", "value": {"i": i}, "headers": {"n": i}} for i in range(1000)),
    )

with DAG(
    dag_id="operator_failure",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    params={"topic": "unset"},
):
    KafkaProducerOperator(
        task_id="to_missing_topic",
        topic=TOPIC,
        key="k",
        value="v",
        additional_properties={"delivery.timeout.ms": 3000},
    )
