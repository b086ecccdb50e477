"""DAG that tests/test_aws_msk_iam_broker.py runs through real Airflow: one task per Amazon MSK IAM connection (MSK's
documented Java forms, a profile, an assumed role, and what the cluster or the policy refuses), each connection
defined by the test."""

from __future__ import annotations

import pendulum
from airflow.sdk import DAG

from airflow_provider_kafka_connector.operators.kafka_producer import KafkaProducerOperator

FORMS = (
    "iam_form",
    "oauthbearer_form",
    "profile",
    "assumed_role",
    "wrong_secret",
    "wrong_region",
    "expired_token",
    "unlisted_callback",
)

with DAG(
    dag_id="msk_iam",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    params={"topic": "unset"},
):
    for form in FORMS:
        KafkaProducerOperator(
            task_id=form, kafka_conn_id=f"msk_{form}", topic="{{ params.topic }}", key=form, value=f"sent as {form}"
        )
    KafkaProducerOperator(
        task_id="batch",
        kafka_conn_id="msk_iam_form",
        topic="{{ params.topic }}",
        messages=[{"key": "batch", "value": f"message {n}"} for n in range(1000)],
    )
