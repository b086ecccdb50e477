"""The DAG that tests/test_oauth.py runs through real Airflow: OAuth 2.0 client credentials (OAUTHBEARER) at the
oauth_broker's OAUTH listener, in librdkafka's names and the Java client's, and at its IDP_OAUTH listener, whose
identity provider authenticates the client (idp_*: the right client secret, a wrong one in librdkafka's names and in
a JAAS line). Each task's connection (kafka_<task_id>) is defined by the test."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pendulum
from airflow.sdk import DAG

from airflow_provider_kafka_connector.operators.kafka_producer import KafkaProducerOperator

SUCCEEDING = (
    "librdkafka_names",
    "java_names",
    "java_names_older_handler",
    "java_client_id_property",
    "idp_right_secret",
)
FAILING = (
    "wrong_audience",
    "wrong_issuer",
    "token_endpoint_unreachable",
    "idp_wrong_secret",
    "idp_wrong_secret_in_jaas_line",
)
# A batch that outlasts its first token (harness OIDC_TOKEN_LIFETIME: 6 s): it is sent a thousand messages at a
# time, one chunk a second.
BATCH_CHUNKS = 9
BATCH_CHUNK = 1000


def slow_batch() -> Iterator[dict[str, Any]]:
    for chunk in range(BATCH_CHUNKS):
        if chunk:
            time.sleep(1)
        for number in range(BATCH_CHUNK):
            yield {"key": f"batch-{chunk}-{number}", "value": "v"}


with DAG(dag_id="oauth", schedule=None, start_date=pendulum.datetime(2026, 1, 1, tz="UTC")):
    for task_id in SUCCEEDING + FAILING:
        KafkaProducerOperator(
            task_id=task_id,
            kafka_conn_id=f"kafka_{task_id}",
            topic="{{ params.topic }}",
            key=task_id,
            value="v",
        )
    KafkaProducerOperator(
        task_id="token_refreshed_mid_batch",
        kafka_conn_id="kafka_token_refreshed_mid_batch",
        topic="{{ params.batch_topic }}",
        messages=slow_batch,
    )
    # The Java JAAS line given in the task, its client secret from a variable: rendered fields must hide it.
    KafkaProducerOperator(
        task_id="java_jaas_line_in_task",
        kafka_conn_id="kafka_oauth_endpoint_only",
        topic="{{ params.topic }}",
        key="java_jaas_line_in_task",
        value="v",
        additional_properties={
            "sasl.jaas.config": "org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required "
            'clientId="airflow-kafka-client" clientSecret="{{ var.value.oauth_client_secret }}" scope="kafka";',
        },
    )
