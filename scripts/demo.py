"""Runs the example DAG through real Airflow and shows its XCom `response` beside what a consumer reads.

The broker comes from the environment: KAFKA_BOOTSTRAP_SERVERS, and optionally KAFKA_USERNAME and KAFKA_PASSWORD
(SASL PLAIN over SASL_SSL, at KAFKA_SASL_SSL_BOOTSTRAP_SERVERS when given) and KAFKA_CA_LOCATION (a PEM CA file).
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

from confluent_kafka import Consumer, KafkaException, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

from airflow_provider_kafka_connector.config import ConnectionSettings, build_producer_config, client_connection_config
from harness.airflow_dag_run import AirflowHome

DAG_ID = "example_kafka_producer"
TOPIC = os.environ.get("KAFKA_DEMO_TOPIC", "orders")


def connection_from_env() -> dict:
    login, password = os.environ.get("KAFKA_USERNAME"), os.environ.get("KAFKA_PASSWORD")
    if login and password:
        host = os.environ.get("KAFKA_SASL_SSL_BOOTSTRAP_SERVERS") or os.environ["KAFKA_BOOTSTRAP_SERVERS"]
        extra = {"ssl.ca.location": os.environ["KAFKA_CA_LOCATION"]} if os.environ.get("KAFKA_CA_LOCATION") else {}
        return {"conn_type": "kafka_producer", "host": host, "login": login, "password": password, "extra": extra}
    return {"conn_type": "kafka_producer", "host": os.environ["KAFKA_BOOTSTRAP_SERVERS"]}


def client_security_config(connection: dict) -> dict[str, str]:
    """The connection's servers and security settings, for the admin client and the consumer."""
    settings = ConnectionSettings("demo", connection["host"], None, connection.get("login"), connection.get("password"))
    return client_connection_config(build_producer_config(settings, connection.get("extra")))


def ensure_topic(config: dict[str, str]) -> None:
    admin = AdminClient(config)
    future = admin.create_topics([NewTopic(TOPIC, num_partitions=3, replication_factor=1)])[TOPIC]
    try:
        future.result(timeout=30)
    except KafkaException as error:
        if "already exists" not in str(error):
            raise


def consumed_record(config: dict[str, str], response: dict) -> dict:
    consumer = Consumer({**config, "group.id": "kafka-connector-demo", "enable.auto.commit": False})
    try:
        consumer.assign([TopicPartition(response["topic"], response["partition"], response["offset"])])
        message = consumer.poll(30)
        if message is None or message.error():
            raise SystemExit(f"Could not read the record back: {message and message.error()}")
        return {
            "topic": message.topic(),
            "partition": message.partition(),
            "offset": message.offset(),
            "timestamp": message.timestamp()[1],
            "key": message.key().decode(),
            "value": message.value().decode(),
            "headers": [(name, value.decode()) for name, value in message.headers() or []],
        }
    finally:
        consumer.close()


def main() -> int:
    connection = connection_from_env()
    client_config = client_security_config(connection)
    ensure_topic(client_config)
    with tempfile.TemporaryDirectory(prefix="kafka-connector-demo-") as home:
        airflow = AirflowHome(Path(home), {"kafka_producer_default": connection})
        security = f"SASL_SSL as user {connection['login']!r}" if connection.get("login") else "PLAINTEXT"
        print(f"Running {DAG_ID} with `airflow dags test` against {connection['host']} ({security})", flush=True)
        run = airflow.test_dag(DAG_ID, {"topic": TOPIC})
        if run.state != "success":
            print(run.output[-6000:])
            print(f"DAG run {run.run_id} ended {run.state}", file=sys.stderr)
            return 1
        response = airflow.xcom(DAG_ID, run.run_id, "publish_order", key="response")
    print(f"DAG run {run.run_id}: {run.state}")
    print("XCom 'response' of publish_order:")
    print("  " + json.dumps(response))
    print("The record as a consumer reads it at that partition and offset:")
    print("  " + json.dumps(consumed_record(client_config, response), ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
