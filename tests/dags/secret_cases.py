"""DAGs that tests/test_secrets.py runs through real Airflow: failures that involve a secret."""

from __future__ import annotations

import pendulum
from airflow.sdk import DAG

from airflow_provider_kafka_connector.operators.kafka_producer import KafkaProducerOperator

JAAS = (
    "org.apache.kafka.common.security.plain.PlainLoginModule required "
    "username='plain-user' password='{{ var.value.kafka_jaas_value }}';"
)

OAUTH_JAAS = (
    "org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required "
    "clientId='airflow' clientSecret='{{ var.value.kafka_oauth_jaas_secret }}' scope='kafka';"
)

with DAG(dag_id="secret_cases", schedule=None, start_date=pendulum.datetime(2026, 1, 1, tz="UTC")):
    KafkaProducerOperator(
        task_id="connection_password",
        kafka_conn_id="kafka_with_password",
        topic="{{ params.topic }}",
        key="k",
        value="v",
    )
    KafkaProducerOperator(
        task_id="jaas_in_task_properties",
        kafka_conn_id="kafka_tls_only",
        topic="{{ params.topic }}",
        key="k",
        value="v",
        additional_properties={"sasl.mechanism": "PLAIN", "sasl.jaas.config": JAAS},
    )
    # An OAuth client secret in a task's Java JAAS line (tests/test_oauth.py: in connections); the token endpoint
    # cannot be reached.
    KafkaProducerOperator(
        task_id="oauth_jaas_in_task_properties",
        kafka_conn_id="kafka_oauth_endpoint_only",
        topic="{{ params.topic }}",
        key="k",
        value="v",
        additional_properties={"sasl.jaas.config": OAUTH_JAAS},
    )
    KafkaProducerOperator(task_id="unserializable_value", topic="{{ params.topic }}", value={"when": {1, 2}})
