"""DAGs that the managed-service tests run through real Airflow: one task per connection form of a service, each
connection (named after its task, with the DAG's prefix) defined by the test as the service documents it.

- managed_services (tests/test_managed_services.py): Azure Event Hubs and Confluent Cloud;
- msk_iam (tests/test_aws_msk_iam_broker.py): Amazon MSK IAM's forms, and what the cluster or the policy refuses;
  and a batch;
- google_managed_kafka (tests/test_google_managed_kafka_broker.py): Google Managed Service for Apache Kafka's forms.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import DAG

from airflow_provider_kafka_connector.operators.kafka_producer import KafkaProducerOperator


def one_task_per_form(dag_id: str, prefix: str, forms: tuple[str, ...]) -> DAG:
    """A DAG whose task `form` sends one message ("sent as <form>", key <form>) over the connection <prefix>_<form>."""
    with DAG(
        dag_id=dag_id, schedule=None, start_date=pendulum.datetime(2026, 1, 1, tz="UTC"), params={"topic": "unset"}
    ) as dag:
        for form in forms:
            KafkaProducerOperator(
                task_id=form,
                kafka_conn_id=f"{prefix}_{form}",
                topic="{{ params.topic }}",
                key=form,
                value=f"sent as {form}",
            )
    return dag


one_task_per_form(
    "managed_services",
    "kafka",
    (
        "event_hubs_login",
        "event_hubs_java",
        "event_hubs_wrong_key",
        "confluent_cloud_login",
        "confluent_cloud_librdkafka",
        "confluent_cloud_java",
    ),
)

msk_forms = ("iam_form", "oauthbearer_form", "provider_form", "profile", "assumed_role")
msk_refusals = ("wrong_secret", "wrong_region", "expired_token", "unlisted_callback")
with one_task_per_form("msk_iam", "msk", msk_forms + msk_refusals):
    KafkaProducerOperator(
        task_id="batch",
        kafka_conn_id="msk_iam_form",
        topic="{{ params.topic }}",
        messages=[{"key": "batch", "value": f"message {n}"} for n in range(1000)],
    )

one_task_per_form("google_managed_kafka", "gmk", ("java_form", "provider_form"))
