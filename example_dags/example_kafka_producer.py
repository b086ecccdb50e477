"""Publish an order event to Kafka, then read the broker's acknowledgement downstream.

Set up a "Kafka Producer Connector" connection named ``kafka_producer_default`` first (see README.rst).
"""

from __future__ import annotations

import logging

import pendulum
from airflow.sdk import DAG, task

from airflow_provider_kafka_connector.operators.kafka_producer import KafkaProducerOperator

log = logging.getLogger(__name__)

with DAG(
    dag_id="example_kafka_producer",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    params={"topic": "orders"},
    tags=["example", "kafka"],
):
    publish_order = KafkaProducerOperator(
        task_id="publish_order",
        kafka_conn_id="kafka_producer_default",
        topic="{{ params.topic }}",
        key="order-42",
        value={"order_id": 42, "status": "created", "customer": "Zoë", "placed_at": "{{ ts }}"},
        headers={"source": "airflow", "run_id": "{{ run_id }}"},
    )

    @task
    def log_offset(ti=None) -> dict:
        response = ti.xcom_pull(task_ids="publish_order", key="response")
        log.info(
            "Order event stored in %s partition %s at offset %s (timestamp %s)",
            response["topic"],
            response["partition"],
            response["offset"],
            response["timestamp"],
        )
        return response

    publish_order >> log_offset()
