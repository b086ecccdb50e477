"""The example DAG end to end through real Airflow, as the README's demo runs it."""

from __future__ import annotations

import json

import pytest

from harness.airflow_dag_run import AirflowHome


@pytest.mark.broker
def test_example_dag_pushes_the_response_a_consumer_sees(broker, tmp_path):
    broker.create_topic("example-orders", partitions=3)
    connection = {"conn_type": "kafka_producer", "host": broker.plaintext}
    airflow = AirflowHome(tmp_path, {"kafka_producer_default": connection})
    run = airflow.test_dag("example_kafka_producer", {"topic": "example-orders"})
    assert run.state == "success", run.output[-5000:]

    response = airflow.xcom("example_kafka_producer", run.run_id, "publish_order", key="response")
    [record] = broker.consume("example-orders", 1)
    assert response == {
        "timestamp": record.timestamp()[1],
        "offset": record.offset(),
        "partition": record.partition(),
        "topic": "example-orders",
    }
    assert record.key() == b"order-42"
    value = json.loads(record.value())
    assert value["order_id"] == 42 and value["customer"] == "Zoë"
    assert dict(record.headers()) == {"source": b"airflow", "run_id": run.run_id.encode()}
    assert airflow.xcom("example_kafka_producer", run.run_id, "log_offset") == response
    assert f"at offset {response['offset']}" in run.output
