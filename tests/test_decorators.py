"""`@task.kafka_producer` and per-message timestamps through real Airflow against the real broker."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from harness.airflow_dag_run import AirflowHome

pytestmark = pytest.mark.broker

DAGS = Path(__file__).parent / "dags"
GIVEN_MS = 1777593600000  # 2026-05-01T00:00:00Z
CREATE_TIME, LOG_APPEND_TIME = 1, 2  # confluent-kafka's TIMESTAMP_CREATE_TIME, TIMESTAMP_LOG_APPEND_TIME


@pytest.fixture(scope="module")
def run(broker, tmp_path_factory):
    topics = {"topic": "taskflow", "generated_topic": "taskflow-generated", "log_append_topic": "taskflow-log-append"}
    broker.create_topic(topics["topic"], partitions=3)
    broker.create_topic(topics["generated_topic"], partitions=3)
    broker.create_topic(topics["log_append_topic"], config={"message.timestamp.type": "LogAppendTime"})
    airflow = AirflowHome(
        tmp_path_factory.mktemp("airflow"),
        {"kafka_producer_default": {"conn_type": "kafka_producer", "host": broker.plaintext}},
        dags_folder=DAGS,
    )
    result = airflow.test_dag("taskflow", {**topics, "stamp": "2026-05-01T00:00:02+00:00"})
    return result, topics


def read_back(broker, topic, response):
    """The record at the response's partition and offset, as a consumer reads it."""
    for message in broker.read_all(topic, isolation="read_uncommitted"):
        if (message.partition(), message.offset()) == (response["partition"], response["offset"]):
            return message
    raise AssertionError(f"no record at {response}")


def test_a_returned_list_is_a_batch(run):
    result, topics = run
    assert result.task_states["order_list"] == "success"
    response = result.xcoms[("order_list", "response")]
    assert response == result.xcoms[("order_list", "return_value")]
    assert response["count"] == 3 and response["topic"] == topics["topic"]


def test_a_generator_of_100_000_messages_is_sent_as_it_is_produced(run):
    result, _ = run
    assert result.task_states["generated"] == "success"
    response = result.xcoms[("generated", "response")]
    assert response["count"] == 100_000
    stored = sum(ends["last_offset"] - ends["first_offset"] + 1 for ends in response["partitions"].values())
    assert stored == 100_000


def test_a_returned_mapping_is_one_message_acknowledged_as_the_operator_does(run, broker):
    result, topics = run
    response = result.xcoms[("one_order", "response")]
    assert set(response) == {"timestamp", "offset", "partition", "topic"}
    record = read_back(broker, topics["topic"], response)
    assert (record.key(), record.value()) == (b"order-42", b'{"status":"created"}')
    assert record.headers() == [("source", b"taskflow")]


def test_expand_over_three_inputs_sends_one_message_each(run, broker):
    result, topics = run
    states = {index: state for (task_id, index), state in result.mapped_states.items() if task_id == "per_region"}
    assert states == {0: "success", 1: "success", 2: "success"}
    values = sorted(
        read_back(broker, topics["topic"], result.mapped_xcoms[("per_region", index, "response")]).value()
        for index in range(3)
    )
    assert values == [b"report for amer", b"report for apac", b"report for emea"]


def test_a_returned_generator_is_taken_as_it_is_not_as_a_list():
    from airflow_provider_kafka_connector.decorators.kafka_producer import _KafkaProducerDecoratedOperator

    operator = _KafkaProducerDecoratedOperator(task_id="t", python_callable=lambda: None, topic="t")
    messages = ({"value": b"v"} for _ in range(3))
    operator._take(messages)
    assert operator.messages is messages


def test_a_wrong_shape_fails_with_the_shape_expected(run):
    result, _ = run
    assert result.task_states["wrong_shape"] == "failed"
    assert "@task.kafka_producer function 'wrong_shape' returned str: return one message as a mapping with " in (
        result.output
    )


def test_a_timestamp_is_the_records_on_a_create_time_topic(run, broker):
    result, topics = run
    response = result.xcoms[("stamped", "response")]
    assert response["timestamp"] == GIVEN_MS
    record = read_back(broker, topics["topic"], response)
    assert record.timestamp() == (CREATE_TIME, GIVEN_MS)
    templated = result.xcoms[("templated_timestamp", "response")]
    assert templated["timestamp"] == GIVEN_MS + 2000
    assert read_back(broker, topics["topic"], templated).timestamp() == (CREATE_TIME, GIVEN_MS + 2000)
    batch = result.xcoms[("stamped_batch", "response")]
    assert (batch["first_timestamp"], batch["last_timestamp"]) == (GIVEN_MS, GIVEN_MS + 1000)


def test_on_a_log_append_time_topic_the_response_has_the_brokers_timestamp(run, broker):
    result, topics = run
    response = result.xcoms[("stamped_on_log_append_time_topic", "response")]
    record = read_back(broker, topics["log_append_topic"], response)
    assert record.timestamp()[0] == LOG_APPEND_TIME
    assert response["timestamp"] == record.timestamp()[1] != GIVEN_MS


def test_a_naive_timestamp_is_refused(run):
    result, _ = run
    assert result.task_states["naive_timestamp"] == "failed"
    assert "The message timestamp 2026-05-01T00:00:00 has no time zone" in result.output


def test_importing_a_dag_file_with_the_decorator_imports_no_confluent_kafka():
    code = (
        "import sys, runpy; runpy.run_path(sys.argv[1]); "
        "assert 'confluent_kafka' not in sys.modules, 'confluent_kafka was imported'"
    )
    subprocess.run([sys.executable, "-c", code, str(DAGS / "taskflow.py")], check=True)
