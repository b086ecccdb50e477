"""What the tasks after a KafkaProducerOperator do with its response, as docs/operator.rst shows
(tests/test_xcom_patterns.py).

`xcom_patterns` publishes an order, then reads the broker's acknowledgement in the three usual ways: `ti.xcom_pull`,
Jinja in a templated field, and TaskFlow with `operator.output`. `xcom_patterns_consumer` is scheduled on the topic's
asset, kafka://<bootstrap server>/<topic>, which the test passes in as XCOM_PATTERNS_TOPIC_URI.
"""

from __future__ import annotations

import os

import pendulum
from airflow.sdk import DAG, Asset, task

from airflow_provider_kafka_connector.operators.kafka_producer import KafkaProducerOperator

START = pendulum.datetime(2026, 1, 1, tz="UTC")

with DAG(dag_id="xcom_patterns", schedule=None, start_date=START, params={"topic": "unset"}):
    publish = KafkaProducerOperator(
        task_id="publish",
        topic="{{ params.topic }}",
        key="order-7",
        value={"order_id": 7, "status": "created"},
    )

    @task
    def pull_response(ti=None) -> dict:
        """1. ti.xcom_pull: the whole response pushed under the key "response"."""
        response = ti.xcom_pull(task_ids="publish", key="response")
        return {"partition": response["partition"], "offset": response["offset"], "timestamp": response["timestamp"]}

    # 2. Jinja: any templated field can use the response, here an audit record naming the order's offset.
    audit = KafkaProducerOperator(
        task_id="audit",
        topic="{{ params.topic }}",
        key="audit",
        value='order-7 written at offset {{ ti.xcom_pull(task_ids="publish", key="response")["offset"] }}',
    )

    @task
    def describe(response: dict) -> str:
        """3. TaskFlow: operator.output is the response too (the operator also returns it)."""
        return f"{response['topic']}/{response['partition']}@{response['offset']}"

    publish >> [pull_response(), audit]
    describe(publish.output)


if topic_uri := os.environ.get("XCOM_PATTERNS_TOPIC_URI"):
    with DAG(dag_id="xcom_patterns_consumer", schedule=[Asset(topic_uri)], start_date=START):

        @task
        def react(triggering_asset_events=None) -> None:
            for asset, events in (triggering_asset_events or {}).items():
                for event in events:
                    print(f"{asset.uri}: offset {event.extra.get('offset')}")

        react()
