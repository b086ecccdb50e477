"""DAG that tests/test_google_managed_kafka_broker.py runs through real Airflow: one task per form of a Google Managed
Service for Apache Kafka connection (Google's Java properties, the provider's callback named directly), each
connection defined by the test."""

from __future__ import annotations

import pendulum
from airflow.sdk import DAG

from airflow_provider_kafka_connector.operators.kafka_producer import KafkaProducerOperator

FORMS = ("java_form", "provider_form")

with DAG(
    dag_id="google_managed_kafka",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    params={"topic": "unset"},
):
    for form in FORMS:
        KafkaProducerOperator(
            task_id=form, kafka_conn_id=f"gmk_{form}", topic="{{ params.topic }}", key=form, value=f"sent as {form}"
        )
