"""DAG that tests/test_managed_services.py runs through real Airflow: one task per managed-service connection form
(Azure Event Hubs, Confluent Cloud), each connection defined by the test as its service documents it."""

from __future__ import annotations

import pendulum
from airflow.sdk import DAG

from airflow_provider_kafka_connector.operators.kafka_producer import KafkaProducerOperator

FORMS = (
    "event_hubs_login",
    "event_hubs_java",
    "event_hubs_wrong_key",
    "confluent_cloud_login",
    "confluent_cloud_librdkafka",
    "confluent_cloud_java",
)

with DAG(
    dag_id="managed_services",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    params={"topic": "unset"},
):
    for form in FORMS:
        KafkaProducerOperator(
            task_id=form, kafka_conn_id=f"kafka_{form}", topic="{{ params.topic }}", key=form, value=f"sent as {form}"
        )
