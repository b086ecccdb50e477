"""The downstream patterns of docs/operator.rst and the topic's asset event, through real Airflow and a broker."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.airflow_dag_run import AirflowHome

DAGS = Path(__file__).parent / "dags"


@pytest.mark.broker
def test_downstream_tasks_read_the_response_and_the_topic_asset_is_recorded(broker, topic, tmp_path):
    connection = {"conn_type": "kafka_producer", "host": broker.plaintext}
    airflow = AirflowHome(tmp_path, {"kafka_producer_default": connection}, dags_folder=DAGS)
    first_server = broker.plaintext.split(",")[0]
    topic_uri = f"kafka://{first_server}/{topic}"
    airflow.env["XCOM_PATTERNS_TOPIC_URI"] = topic_uri
    # Register every DAG of the folder, as the DAG processor would, so the consumer DAG's asset schedule is known.
    airflow.airflow("dags", "reserialize")
    airflow.airflow("dags", "unpause", "xcom_patterns_consumer")

    run = airflow.test_dag("xcom_patterns", {"topic": topic})
    assert run.state == "success", run.output[-5000:]

    xcoms = airflow.xcoms("xcom_patterns", run.run_id)
    response = xcoms[("publish", "response")]
    order, audit = broker.consume(topic, 2)
    assert response == {
        "timestamp": order.timestamp()[1],
        "offset": order.offset(),
        "partition": order.partition(),
        "topic": topic,
    }
    assert json.loads(order.value()) == {"order_id": 7, "status": "created"}
    # 1. ti.xcom_pull(task_ids="publish", key="response")
    assert xcoms[("pull_response", "return_value")] == {
        "partition": order.partition(),
        "offset": order.offset(),
        "timestamp": order.timestamp()[1],
    }
    # 2. Jinja {{ ti.xcom_pull(task_ids="publish", key="response")["offset"] }} in a templated field
    assert audit.value().decode() == f"order-7 written at offset {order.offset()}"
    # 3. TaskFlow: publish.output
    assert xcoms[("describe", "return_value")] == f"{topic}/{order.partition()}@{order.offset()}"

    events = {(event["task_id"], event["uri"]): event for event in airflow.asset_events("xcom_patterns", run.run_id)}
    assert set(events) == {("publish", topic_uri), ("audit", topic_uri)}
    assert events[("publish", topic_uri)]["extra"] == response
    assert events[("audit", topic_uri)]["extra"] == xcoms[("audit", "response")]
    # A DAG scheduled on Asset("kafka://<server>/<topic>") is queued to run.
    assert events[("publish", topic_uri)]["queued_dag_ids"] == ["xcom_patterns_consumer"]
