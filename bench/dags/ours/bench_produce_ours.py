"""bench/run.py --only airflow: one 100-byte message with our operator, through `airflow dags test`.

Alone in its folder, so that parsing it imports only what our operator's module imports.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import DAG

from airflow_provider_kafka_connector.operators.kafka_producer import KafkaProducerOperator

with DAG(
    dag_id="bench_produce_ours",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    params={"topic": "unset"},
):
    KafkaProducerOperator(task_id="produce", topic="{{ params.topic }}", value=b"x" * 100, kafka_conn_id="kafka_bench")
