"""Apache Airflow provider that publishes messages to Apache Kafka and returns the broker's acknowledgement."""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"


def get_provider_info() -> dict[str, Any]:
    # The connection form is declared here, so the Airflow UI shows it without importing the hook.
    from airflow_provider_kafka_connector.connection_form import CONN_FIELDS, UI_FIELD_BEHAVIOUR
    from airflow_provider_kafka_connector.settings import config_section

    return {
        "package-name": "airflow-provider-kafka-connector",
        "name": "Kafka Producer Connector",
        "description": "Publish messages to Apache Kafka and pass the broker's acknowledgement on through XCom.",
        "versions": [__version__],
        "config": config_section(),
        "connection-types": [
            {
                "hook-class-name": "airflow_provider_kafka_connector.hooks.kafka_producer.KafkaProducerHook",
                "hook-name": "Kafka Producer Connector",
                "connection-type": "kafka_producer",
                "ui-field-behaviour": UI_FIELD_BEHAVIOUR,
                "conn-fields": CONN_FIELDS,
            }
        ],
        "task-decorators": [
            {
                "name": "kafka_producer",
                "class-name": "airflow_provider_kafka_connector.decorators.kafka_producer.kafka_producer_task",
            }
        ],
        "asset-uris": [
            {
                "schemes": ["kafka"],
                "handler": "airflow_provider_kafka_connector.lineage.sanitize_uri",
                "to_openlineage_converter": "airflow_provider_kafka_connector.lineage.convert_asset_to_openlineage",
                "factory": "airflow_provider_kafka_connector.lineage.create_asset",
            }
        ],
        "hooks": [
            {
                "integration-name": "Kafka Producer Connector",
                "python-modules": ["airflow_provider_kafka_connector.hooks.kafka_producer"],
            }
        ],
        "operators": [
            {
                "integration-name": "Kafka Producer Connector",
                "python-modules": ["airflow_provider_kafka_connector.operators.kafka_producer"],
            }
        ],
        "integrations": [
            {
                "integration-name": "Kafka Producer Connector",
                "external-doc-url": "https://kafka.apache.org/documentation/#producerconfigs",
                "tags": ["apache"],
            }
        ],
    }
