"""DAG that tests/test_policy_attacks.py runs through real Airflow: what an editor of connections (the connection
extras) or of run parameters (rendered into a task's additional_properties) asks for, against a deployment that
lists one library and one URL."""

from __future__ import annotations

import pendulum
from airflow.sdk import DAG

from airflow_provider_kafka_connector.operators.kafka_producer import KafkaProducerOperator


def client_credentials_to(token_url: str) -> dict[str, str]:
    """OAuth client credentials (the secret included) that the client sends to this token endpoint."""
    return {
        "security.protocol": "SASL_PLAINTEXT",
        "sasl.mechanism": "OAUTHBEARER",
        "sasl.oauthbearer.token.endpoint.url": token_url,
        "sasl.oauthbearer.client.id": "airflow",
        "sasl.oauthbearer.client.secret": "Task-Client-Secret",
    }


with DAG(
    dag_id="policy_attacks",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    params={"topic": "unset", "attack_library": "unset", "attacker_url": "unset", "listed_url": "unset"},
):

    def send_one(task_id: str, kafka_conn_id: str = "kafka_plain", properties: dict[str, str] | None = None) -> None:
        KafkaProducerOperator(
            task_id=task_id,
            kafka_conn_id=kafka_conn_id,
            topic="{{ params.topic }}",
            value="v",
            additional_properties=properties,
        )

    # Refused: a library, an assertion file sent to an unlisted URL (connection extra), a client secret sent to an
    # unlisted URL (task).
    send_one("library_in_extra", "kafka_library_in_extra")
    send_one("library_in_task", properties={"plugin.library.paths": "{{ params.attack_library }}"})
    send_one("assertion_in_extra", "kafka_assertion_in_extra")
    send_one("client_secret_in_task", properties=client_credentials_to("{{ params.attacker_url }}"))
    # Allowed by the deployment: the listed library loads beside the provider's own plugin (a batch uses it), and
    # the listed URL is asked for a token.
    KafkaProducerOperator(
        task_id="listed_library",
        kafka_conn_id="kafka_listed_library",
        topic="{{ params.topic }}",
        messages=[{"key": str(n), "value": f"message {n}"} for n in range(3)],
    )
    send_one("listed_url", properties=client_credentials_to("{{ params.listed_url }}"))
