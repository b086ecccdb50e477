"""Messages from upstream tasks and dynamic task mapping, run through real Airflow against the real broker.

Every XCom ``response`` is checked against the records a confluent_kafka consumer reads at that topic, partition
and offset (tests/dags/composition.py).
"""

from __future__ import annotations

import json
import sys
import uuid
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from harness.airflow_dag_run import AirflowHome

pytestmark = pytest.mark.broker

DAGS = Path(__file__).parent / "dags"
sys.path.insert(0, str(DAGS))
from composition import BIG_BATCH, MAPPED_VALUES  # noqa: E402


def canonical(response: dict[str, Any]) -> str:
    return json.dumps(response, sort_keys=True)


# Every XCom of the run with its map_index (the harness keys XComs by task and key only).
_READ_MAPPED_XCOMS = """
import json, sys
from airflow.models.xcom import XComModel
from airflow.utils.session import create_session
dag_id, run_id = sys.argv[1:]
with create_session() as session:
    rows = session.query(XComModel).filter_by(dag_id=dag_id, run_id=run_id).all()
    print(json.dumps([[row.task_id, row.map_index, row.key, XComModel.deserialize_value(row)] for row in rows]))
"""


@dataclass(frozen=True)
class CompositionRun:
    airflow: AirflowHome
    run_id: str
    output: str
    topics: dict[str, str]
    xcoms: dict[tuple[str, int, str], Any]
    records: dict[str, dict[tuple[int, int], Any]]

    def response(self, task_id: str, map_index: int = -1) -> dict[str, Any]:
        response = self.xcoms[(task_id, map_index, "response")]
        assert self.xcoms[(task_id, map_index, "return_value")] == response
        return response

    def record(self, response: dict[str, Any]) -> Any:
        """The record a consumer read at the response's topic, partition and offset."""
        return self.records[response["topic"]][(response["partition"], response["offset"])]


def records_by_position(broker, topic: str, count: int) -> dict[tuple[int, int], Any]:
    records = {(r.partition(), r.offset()): r for r in broker.consume(topic, count, timeout=60)}
    assert len(records) == count
    return records


def batch_summary(topic: str, records: dict[tuple[int, int], Any]) -> dict[str, Any]:
    """The batch response the consumed records call for: count, per-partition first/last offset, timestamps."""
    offsets: dict[int, list[int]] = defaultdict(list)
    for partition, offset in records:
        offsets[partition].append(offset)
    timestamps = [record.timestamp()[1] for record in records.values()]
    return {
        "topic": topic,
        "count": len(records),
        "partitions": {str(p): {"first_offset": min(o), "last_offset": max(o)} for p, o in sorted(offsets.items())},
        "first_timestamp": min(timestamps),
        "last_timestamp": max(timestamps),
    }


@pytest.fixture(scope="module")
def composition(broker, tmp_path_factory) -> CompositionRun:
    suffix = uuid.uuid4().hex[:8]
    topics = {name: f"composition-{name}-{suffix}" for name in ("orders", "events", "mapped", "audit")}
    for topic in topics.values():
        broker.create_topic(topic, partitions=3)
    connection = {"conn_type": "kafka_producer", "host": broker.plaintext}
    airflow = AirflowHome(tmp_path_factory.mktemp("airflow"), {"kafka_producer_default": connection}, dags_folder=DAGS)
    run = airflow.test_dag("composition", topics)
    assert run.state == "success", run.output[-5000:]
    rows = json.loads(airflow.query(_READ_MAPPED_XCOMS, "composition", run.run_id))
    xcoms = {(task_id, map_index, key): value for task_id, map_index, key, value in rows}
    records = {
        topics["orders"]: records_by_position(broker, topics["orders"], 5),
        topics["events"]: records_by_position(broker, topics["events"], BIG_BATCH),
        topics["mapped"]: records_by_position(broker, topics["mapped"], len(MAPPED_VALUES) + 1),
        topics["audit"]: records_by_position(broker, topics["audit"], 2),
    }
    return CompositionRun(airflow, run.run_id, run.output, topics, xcoms, records)


def test_messages_from_an_upstream_task_are_resolved_when_the_task_runs(composition):
    topic = composition.topics["orders"]
    response = composition.response("publish_orders")
    records = composition.records[topic]
    assert response == batch_summary(topic, records)
    built = composition.xcoms[("build_orders", -1, "return_value")]
    sent = sorted(records.values(), key=lambda r: json.loads(r.value())["order_id"])
    assert [(r.key().decode(), json.loads(r.value()), dict(r.headers())) for r in sent] == [
        (m["key"], m["value"], {"source": b"build_orders"}) for m in built
    ]


def test_a_callable_builds_a_large_batch_when_the_task_runs(composition):
    topic = composition.topics["events"]
    response = composition.response("publish_events")
    records = composition.records[topic]
    assert response == batch_summary(topic, records)
    assert response["count"] == BIG_BATCH
    # Per partition, the records between the first and last offset are the batch, in the order generated.
    for partition, ends in response["partitions"].items():
        in_partition = [records[(int(partition), o)] for o in range(ends["first_offset"], ends["last_offset"] + 1)]
        seqs = [json.loads(r.value())["seq"] for r in in_partition]
        assert seqs == sorted(seqs)
    assert sorted(json.loads(r.value())["seq"] for r in records.values()) == list(range(BIG_BATCH))
    assert all(r.key().decode() == f"device-{int(r.headers()[0][1]) % 50}" for r in records.values())


def test_expand_gives_each_mapped_instance_its_own_response(composition):
    topic = composition.topics["mapped"]
    for map_index, value in enumerate(MAPPED_VALUES):
        response = composition.response("publish_each", map_index)
        record = composition.record(response)
        assert response == {
            "timestamp": record.timestamp()[1],
            "offset": record.offset(),
            "partition": record.partition(),
            "topic": topic,
        }
        assert record.key() == str(map_index).encode()
        assert json.loads(record.value()) == value


def test_expand_kwargs_gives_each_mapped_instance_its_own_topic_and_message(composition):
    mapped, audit = composition.topics["mapped"], composition.topics["audit"]
    expected = [
        (mapped, b"first", b"to the mapped topic", [("i", b"0")]),
        (audit, b"second", b'{"audit":true}', None),
        (audit, None, None, None),
    ]
    for map_index, (topic, key, value, headers) in enumerate(expected):
        response = composition.response("publish_kwargs", map_index)
        assert response["topic"] == topic
        record = composition.record(response)
        assert response["timestamp"] == record.timestamp()[1]
        assert (record.topic(), record.key(), record.value(), record.headers()) == (topic, key, value, headers)
    assert composition.response("publish_kwargs", 1)["partition"] == 1


def test_downstream_pulls_mapped_responses_with_map_indexes(composition):
    pulled = composition.xcoms[("collect_responses", -1, "return_value")]
    for task_id in ("publish_each", "publish_kwargs"):
        assert pulled[task_id] == [composition.response(task_id, i) for i in range(3)]


def test_each_task_and_mapped_instance_records_its_topic_asset_event(composition, broker):
    server = broker.plaintext.split(",")[0]
    events = composition.airflow.asset_events("composition", composition.run_id)
    by_task: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for event in events:
        by_task[event["task_id"]].append(event)
    topics = composition.topics
    assert [e["uri"] for e in by_task["publish_orders"]] == [f"kafka://{server}/{topics['orders']}"]
    [orders_event] = by_task["publish_orders"]
    summary = composition.response("publish_orders")
    # A batch's per-partition offsets travel as JSON text: Airflow 3.1 drops an event whose extra holds a dict.
    assert {**orders_event["extra"], "partitions": json.loads(orders_event["extra"]["partitions"])} == summary
    assert [e["uri"] for e in by_task["publish_events"]] == [f"kafka://{server}/{topics['events']}"]
    for task_id in ("publish_each", "publish_kwargs"):
        extras = sorted((e["extra"] for e in by_task[task_id]), key=canonical)
        assert extras == sorted((composition.response(task_id, i) for i in range(3)), key=canonical)
        assert {e["uri"] for e in by_task[task_id]} == {f"kafka://{server}/{r['topic']}" for r in extras}


def test_a_mapped_task_hides_the_secrets_of_its_rendered_properties(composition, broker):
    """Mapped task instances are rendered without render_template_fields: the operator hides secrets anyway."""
    login = 'org.apache.kafka.common.security.plain.PlainLoginModule required username="u" password="Mapped-S3cret";'
    composition.airflow.env["AIRFLOW_VAR_COMPOSITION_LOGIN"] = login
    run = composition.airflow.test_dag("composition_mapped_secrets", {"topic": composition.topics["audit"]})
    assert run.state == "success", run.output[-5000:]
    rendered = composition.airflow.rendered_fields("composition_mapped_secrets", run.run_id, "mapped_with_secret")
    assert rendered["additional_properties"] == {"client.id": "composition", "sasl.jaas.config": "***"}
    assert "Mapped-S3cret" not in run.output
