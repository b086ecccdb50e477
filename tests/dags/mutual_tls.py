"""The DAG that tests/test_mutual_tls.py runs through real Airflow: every form of client certificate at the test
broker's SSL listener, which requires one. Each task's connection (kafka_<task_id>) is defined by the test."""

from __future__ import annotations

import pendulum
from airflow.sdk import DAG

from airflow_provider_kafka_connector.operators.kafka_producer import KafkaProducerOperator

SUCCEEDING = (
    "pem_files",
    "encrypted_key_file",
    "inline_pem",
    "pkcs12_keystore",
    "java_pkcs12_keystore",
    "java_pem_keystore_file",
    "java_pem_keystore_inline",
    "connection_form_fields",
)
FAILING = (
    "no_client_certificate",
    "untrusted_client_certificate",
    "expired_client_certificate",
    "wrong_key_password",
    "key_of_another_certificate",
)

with DAG(dag_id="mutual_tls", schedule=None, start_date=pendulum.datetime(2026, 1, 1, tz="UTC")):
    for task_id in SUCCEEDING + FAILING:
        KafkaProducerOperator(
            task_id=task_id,
            kafka_conn_id=f"kafka_{task_id}",
            topic="{{ params.topic }}",
            key=task_id,
            value="v",
        )
    # The Java client's inline PEM keystore given in the task, from a variable: rendered fields must hide it.
    KafkaProducerOperator(
        task_id="java_pem_keystore_in_task",
        kafka_conn_id="kafka_tls_only",
        topic="{{ params.topic }}",
        key="java_pem_keystore_in_task",
        value="v",
        additional_properties={
            "ssl.keystore.type": "PEM",
            "ssl.keystore.key": "{{ var.value.mtls_key }}",
            "ssl.keystore.certificate.chain": "{{ var.value.mtls_chain }}",
            "ssl.key.password": "{{ var.value.mtls_pass }}",
        },
    )
