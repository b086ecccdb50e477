"""DAG that tests/test_decorators.py runs through real Airflow: `@task.kafka_producer` with each shape a function
may return, dynamic task mapping, a wrong shape, and per-message timestamps."""

from __future__ import annotations

from datetime import datetime, timezone

import pendulum
from airflow.sdk import DAG, task

from airflow_provider_kafka_connector.operators.kafka_producer import KafkaProducerOperator

GENERATED = 100_000
# 2026-05-01T00:00:00Z: a record timestamp far from the time of the run.
GIVEN_TIMESTAMP = pendulum.datetime(2026, 5, 1, tz="UTC")

with DAG(
    dag_id="taskflow",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    params={"topic": "unset", "generated_topic": "unset", "log_append_topic": "unset", "stamp": "unset"},
):

    @task.kafka_producer(topic="{{ params.topic }}")
    def order_list(day: str):
        return [{"key": f"{day}-{n}", "value": {"day": day, "n": n}} for n in range(3)]

    @task.kafka_producer(topic="{{ params.generated_topic }}")
    def generated():
        return ({"key": str(n % 7), "value": b"x" * 10} for n in range(GENERATED))

    @task.kafka_producer(topic="{{ params.topic }}", kafka_conn_id="kafka_producer_default")
    def one_order():
        return {"key": "order-42", "value": {"status": "created"}, "headers": {"source": "taskflow"}}

    @task.kafka_producer(topic="{{ params.topic }}")
    def per_region(region: str):
        return {"key": region, "value": f"report for {region}"}

    @task.kafka_producer(topic="{{ params.topic }}")
    def wrong_shape():
        return "just text"

    @task.kafka_producer(topic="{{ params.topic }}")
    def stamped():
        return {"value": "created at a given time", "timestamp": GIVEN_TIMESTAMP}

    @task.kafka_producer(topic="{{ params.log_append_topic }}")
    def stamped_on_log_append_time_topic():
        return {"value": "the broker stamps this one", "timestamp": GIVEN_TIMESTAMP}

    @task.kafka_producer(topic="{{ params.topic }}")
    def stamped_batch():
        return [
            {"value": "epoch milliseconds", "timestamp": 1777593600000},
            {"value": "datetime", "timestamp": datetime(2026, 5, 1, 0, 0, 1, tzinfo=timezone.utc)},
        ]

    @task.kafka_producer(topic="{{ params.topic }}")
    def naive_timestamp():
        return {"value": "when?", "timestamp": datetime(2026, 5, 1)}

    KafkaProducerOperator(
        task_id="templated_timestamp", topic="{{ params.topic }}", value="v", timestamp="{{ params.stamp }}"
    )

    order_list("2026-05-01")
    generated()
    one_order()
    per_region.expand(region=["emea", "apac", "amer"])
    wrong_shape()
    stamped()
    stamped_on_log_append_time_topic()
    stamped_batch()
    naive_timestamp()
