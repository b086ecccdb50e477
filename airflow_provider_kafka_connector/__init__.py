"""Apache Airflow provider that publishes messages to Apache Kafka and returns the broker's acknowledgement."""

from __future__ import annotations

__version__ = "0.1.0"


def get_provider_info() -> dict:
    return {
        "package-name": "airflow-provider-kafka-connector",
        "name": "Kafka Producer Connector",
        "description": "Publish messages to Apache Kafka and pass the broker's acknowledgement on through XCom.",
        "versions": [__version__],
        "connection-types": [
            {
                "hook-class-name": "airflow_provider_kafka_connector.hooks.kafka_producer.KafkaProducerHook",
                "connection-type": "kafka_producer",
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
