"""The topic's identity for Airflow assets and OpenLineage, and how the operator declares and reports it."""

from __future__ import annotations

import importlib.util

import pendulum
import pytest
from airflow.sdk import DAG, Asset, AssetAlias

from airflow_provider_kafka_connector import get_provider_info
from airflow_provider_kafka_connector.lineage import (
    convert_asset_to_openlineage,
    first_bootstrap_server,
    openlineage_facets,
    topic_asset,
    topic_uri,
)
from airflow_provider_kafka_connector.operators.kafka_producer import KafkaProducerOperator

OPENLINEAGE_INSTALLED = importlib.util.find_spec("airflow.providers.openlineage") is not None


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
    with pytest.raises(ValueError, match="bootstrap server"):
        first_bootstrap_server(" , ")
    with pytest.raises(ValueError, match="topic"):
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


def test_openlineage_output_dataset():
    operator = KafkaProducerOperator(task_id="publish", topic="orders", value="v")
    operator._bootstrap_servers = "broker1:9092,broker2:9092"  # what execute() learnt from the connection
    lineage = operator.get_openlineage_facets_on_complete(task_instance=None)
    dataset = convert_asset_to_openlineage(Asset("kafka://broker1:9092/orders"))
    if not OPENLINEAGE_INSTALLED:
        # Without the OpenLineage provider there is nothing to report to, and nothing breaks.
        assert lineage is None
        assert openlineage_facets("broker1:9092", "orders") is None
        return
    [output] = lineage.outputs
    assert (output.namespace, output.name) == ("kafka://broker1:9092", "orders")
    assert (dataset.namespace, dataset.name) == ("kafka://broker1:9092", "orders")
    assert lineage.inputs == []
