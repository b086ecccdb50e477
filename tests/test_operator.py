"""The operator run by real Airflow (`airflow dags test`): what it sends, and what it pushes to XCom."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from harness.airflow_dag_run import AirflowHome

DAGS = Path(__file__).parent / "dags"


@pytest.fixture(scope="module")
def airflow(broker, tmp_path_factory) -> AirflowHome:
    connection = {"conn_type": "kafka_producer", "host": broker.plaintext}
    return AirflowHome(tmp_path_factory.mktemp("airflow"), {"kafka_producer_default": connection}, dags_folder=DAGS)


@dataclass(frozen=True)
class CasesRun:
    run_id: str
    topic: str
    xcoms: dict
    records: dict

    def response(self, task_id):
        response = self.xcoms[(task_id, "response")]
        assert self.xcoms[(task_id, "return_value")] == response
        assert response["topic"] == self.topic
        return response

    def record(self, task_id):
        response = self.response(task_id)
        return self.records[(response["partition"], response["offset"])]


@pytest.fixture(scope="module")
def cases(airflow, broker) -> CasesRun:
    topic = "operator-cases"
    broker.create_topic(topic, partitions=3)
    broker.create_topic(f"{topic}-batch", partitions=3)
    run = airflow.test_dag("operator_cases", {"topic": topic, "greeting": "hallo-welt"})
    assert run.state == "success", run.output[-5000:]
    records = {(r.partition(), r.offset()): r for r in broker.consume(topic, 6)}
    return CasesRun(run.run_id, topic, airflow.xcoms("operator_cases", run.run_id), records)


@pytest.mark.broker
@pytest.mark.parametrize(
    "task_id, key, value, headers",
    [
        (
            "json_value",
            b"order-1",
            '{"b":1,"a":["é",2.5,true,null]}'.encode(),
            [("z-first", "é".encode()), ("a-second", b"7"), ("flag", b"false")],
        ),
        ("tombstone", b"order-1", None, None),
        ("no_key", None, "plain text, ünïcode".encode(), None),
        ("explicit_partition", b"17", b"42", None),
        ("repeated_headers", b"k", b"v", [("h", b"1"), ("h", b"2")]),
    ],
)
def test_record_and_response_match_what_a_consumer_sees(cases, task_id, key, value, headers):
    response = cases.response(task_id)
    record = cases.record(task_id)
    assert (record.key(), record.value(), record.headers()) == (key, value, headers)
    assert response["timestamp"] == record.timestamp()[1]
    assert abs(response["timestamp"] / 1000 - time.time()) < 300


@pytest.mark.broker
def test_batch_pushes_a_small_summary_matching_the_records(cases, broker):
    summary = cases.xcoms[("batch", "response")]
    records = broker.consume(f"{cases.topic}-batch", 1000)
    assert summary["topic"] == f"{cases.topic}-batch"
    assert summary["count"] == 1000
    for partition, span in summary["partitions"].items():
        offsets = [r.offset() for r in records if r.partition() == int(partition)]
        assert span == {"first_offset": min(offsets), "last_offset": max(offsets)}
    timestamps = [r.timestamp()[1] for r in records]
    assert (summary["first_timestamp"], summary["last_timestamp"]) == (min(timestamps), max(timestamps))
    assert sorted(json.loads(r.value())["i"] for r in records) == list(range(1000))
    assert len(json.dumps(summary)) < 500


@pytest.mark.broker
def test_explicit_partition_is_used(cases):
    assert cases.response("explicit_partition")["partition"] == 2


@pytest.mark.broker
def test_same_key_lands_on_the_same_partition(cases):
    assert cases.response("json_value")["partition"] == cases.response("tombstone")["partition"]


@pytest.mark.broker
def test_templated_fields_are_rendered(cases):
    record = cases.record("templated")
    assert record.key() == b"operator_cases"
    assert json.loads(record.value()) == {"greeting": "hallo-welt"}
    assert record.headers() == [("run", cases.run_id.encode())]


@pytest.mark.broker
def test_failed_delivery_fails_the_task_with_the_reason(airflow, broker):
    started = time.monotonic()
    run = airflow.test_dag("operator_failure", {"topic": "no-such-topic"})
    assert run.state == "failed"
    assert "KafkaDeliveryError" in run.output
    assert "no-such-topic" in run.output
    assert time.monotonic() - started < 60


def test_importing_the_operator_does_not_import_confluent_kafka():
    code = (
        "import sys, airflow.sdk\n"
        "import airflow_provider_kafka_connector.operators.kafka_producer\n"
        "assert 'confluent_kafka' not in sys.modules, 'confluent_kafka was imported'\n"
        "assert 'fastavro' not in sys.modules, 'fastavro was imported'\n"
        "assert 'airflow_provider_kafka_connector.schemas' not in sys.modules, 'the schemas module was imported'\n"
        # Nor does a task without exactly_once import the transaction module.
        "operator = airflow_provider_kafka_connector.operators.kafka_producer.KafkaProducerOperator(\n"
        "    task_id='t', topic='orders', value='v')\n"
        "assert operator._exactly_once_identity({}) is None\n"
        "assert 'airflow_provider_kafka_connector.exactly_once' not in sys.modules, 'exactly_once was imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_a_task_without_a_topic_fails_before_it_connects():
    from airflow_provider_kafka_connector.exceptions import KafkaConfigurationError
    from airflow_provider_kafka_connector.operators.kafka_producer import KafkaProducerOperator

    operator = KafkaProducerOperator(task_id="no_topic", topic="", value=b"v", kafka_conn_id="no_such_connection")
    with pytest.raises(KafkaConfigurationError, match="'no_topic' has no topic to send to"):
        operator.execute({})
