"""One message through each way of defining a connection without the UI (tests/test_connections_env.py).

For every connection id: a task sends a message with it; another task reads the connection's password and returns
what Airflow's secrets masker makes of it in a log line.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import DAG, BaseHook, task

from airflow_provider_kafka_connector.operators.kafka_producer import KafkaProducerOperator

CONN_IDS = ["kafka_env_json", "kafka_env_uri", "kafka_cli", "kafka_backend"]

with DAG(
    dag_id="connection_sources",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    params={"topic": "unset"},
):
    for conn_id in CONN_IDS:
        KafkaProducerOperator(
            task_id=f"send_with_{conn_id}",
            kafka_conn_id=conn_id,
            topic="{{ params.topic }}",
            key=conn_id,
            value=f"sent with {conn_id}",
        )

    @task
    def masked_passwords() -> dict[str, str]:
        from airflow.sdk.log import redact

        return {conn_id: redact(f"password: {BaseHook.get_connection(conn_id).password}") for conn_id in CONN_IDS}

    masked_passwords()
