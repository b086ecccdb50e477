"""The topic's identity for Airflow assets and OpenLineage, and how the operator declares and reports it."""

from __future__ import annotations

import json
from pathlib import Path

import pendulum
import pytest
from airflow.providers.openlineage.extractors import OperatorLineage
from airflow.sdk import DAG, Asset, AssetAlias

from airflow_provider_kafka_connector import get_provider_info
from airflow_provider_kafka_connector.exceptions import KafkaAssetURIError
from airflow_provider_kafka_connector.lineage import (
    convert_asset_to_openlineage,
    first_bootstrap_server,
    openlineage_facets,
    topic_asset,
    topic_uri,
)
from airflow_provider_kafka_connector.operators.kafka_producer import KafkaProducerOperator
from harness.airflow_dag_run import AirflowHome

DAGS = Path(__file__).parent / "dags"


@pytest.mark.parametrize(
    ("servers", "uri"),
    [
        ("broker1:9092", "kafka://broker1:9092/orders"),
        ("broker1:9092, broker2:9092", "kafka://broker1:9092/orders"),
        ("SASL_SSL://broker1:9093,broker2:9093", "kafka://broker1:9093/orders"),
        ("[::1]:9092", "kafka://[::1]:9092/orders"),
    ],
)
def test_topic_uri_names_the_first_bootstrap_server(servers, uri):
    assert topic_uri(servers, "orders") == uri
    assert topic_asset(servers, "orders").uri == uri


def test_topic_uri_needs_a_server_and_a_topic():
    with pytest.raises(KafkaAssetURIError, match="bootstrap server"):
        first_bootstrap_server(" , ")
    with pytest.raises(KafkaAssetURIError, match="topic"):
        topic_uri("broker1:9092", "")


def test_the_kafka_scheme_is_registered_with_airflow():
    [registration] = get_provider_info()["asset-uris"]
    assert registration["schemes"] == ["kafka"]
    assert Asset("kafka://broker1:9092/orders").uri == "kafka://broker1:9092/orders"
    # Airflow runs our sanitizer for kafka:// URIs: one without a topic is refused.
    with pytest.raises(ValueError, match="names a topic"):
        Asset("kafka://broker1:9092")


def test_operator_declares_an_alias_outlet_for_its_topic():
    with DAG("lineage_dag", schedule=None, start_date=pendulum.datetime(2026, 1, 1, tz="UTC")):
        own = Asset("kafka://broker1:9092/orders")
        plain = KafkaProducerOperator(task_id="publish", topic="{{ params.topic }}", value="v")
        declared = KafkaProducerOperator(task_id="declared", topic="orders", value="v", outlets=[own])
    assert plain.outlets == [AssetAlias("kafka_producer:lineage_dag.publish")]
    assert declared.outlets == [own, AssetAlias("kafka_producer:lineage_dag.declared")]


def test_openlineage_datasets_of_a_topic_and_of_its_asset_agree():
    lineage = openlineage_facets("SASL_SSL://broker1:9093,broker2:9093", "orders")
    [output] = lineage.outputs
    assert isinstance(lineage, OperatorLineage)
    assert (output.namespace, output.name) == ("kafka://broker1:9093", "orders")
    assert lineage.inputs == []
    dataset = convert_asset_to_openlineage(Asset("kafka://broker1:9093/orders"))
    assert (dataset.namespace, dataset.name) == (output.namespace, output.name)


@pytest.mark.broker
def test_a_real_task_run_reports_the_topic_as_openlineage_output(broker, topic, tmp_path):
    # Two servers: the dataset is named by the first.
    connection = {"conn_type": "kafka_producer", "host": f"{broker.plaintext},127.0.0.1:1"}
    airflow = AirflowHome(tmp_path / "home", {"kafka_producer_default": connection}, dags_folder=DAGS)
    events_file = tmp_path / "openlineage.jsonl"
    # The OpenLineage provider's listener emits the task's events; its file transport keeps them for us.
    airflow.env["AIRFLOW__OPENLINEAGE__TRANSPORT"] = json.dumps(
        {"type": "file", "log_file_path": str(events_file), "append": True}
    )
    run = airflow.test_dag("openlineage_output", {"topic": topic})
    assert run.state == "success", run.output[-5000:]

    events = [json.loads(line) for line in events_file.read_text().splitlines() if line.strip()]

    def completed(task: str) -> dict:
        [complete] = [e for e in events if e["eventType"] == "COMPLETE" and e["job"]["name"] == task]
        assert [(o["namespace"], o["name"]) for o in complete["outputs"]] == [(f"kafka://{broker.plaintext}", topic)]
        assert complete["inputs"] == []
        return complete["outputs"][0]

    single = completed("openlineage_output.publish")
    assert _statistics(single) == {"rowCount": 1, "size": len("lineage")}
    assert "schema" not in single.get("facets", {})
    batch = completed("openlineage_output.publish_batch")
    sizes = [len(f'{{"name":"{name}","age":7}}') for name in ("ada", "bob", "cy")]  # the JSON text sent
    assert _statistics(batch) == {"rowCount": 3, "size": sum(sizes)}
    fields = batch["facets"]["schema"]["fields"]
    assert [(field["name"], field["type"]) for field in fields] == [("name", "string"), ("age", "integer")]


def _statistics(output: dict) -> dict:
    facet = output["outputFacets"]["outputStatistics"]
    return {"rowCount": facet["rowCount"], "size": facet["size"]}
