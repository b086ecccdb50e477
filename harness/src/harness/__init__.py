"""Test and demo helpers: a real Kafka broker (kafka_broker) run from Maven Central jars."""
