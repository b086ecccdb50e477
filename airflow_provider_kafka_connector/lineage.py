"""Lineage for the topic a task wrote to: an Airflow Asset event and an OpenLineage output dataset.

The topic is identified as Airflow's Kafka support does it: the asset URI ``kafka://<bootstrap server>/<topic>``
(the first bootstrap server of the configuration), and the OpenLineage dataset ``namespace="kafka://<server>"``,
``name="<topic>"``. Because the topic is templated and the bootstrap servers come from the connection, the
concrete asset is only known when the task runs: the operator declares an asset alias as its outlet at parse
time and attaches the concrete asset event to it at run time, so a DAG scheduled on
``Asset("kafka://broker1:9092/orders")`` runs when a task has written to that topic.

Airflow and OpenLineage are imported lazily: importing this module costs nothing.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from airflow_provider_kafka_connector.exceptions import KafkaAssetURIError

if TYPE_CHECKING:
    from urllib.parse import SplitResult

    from airflow.sdk import Asset, AssetAlias, BaseOperator, Context

    from airflow_provider_kafka_connector.metrics import Sent

SCHEME = "kafka"
ALIAS_PREFIX = "kafka_producer:"


def first_bootstrap_server(bootstrap_servers: str) -> str:
    """The first server of a comma-separated list, without a ``PLAINTEXT://``-style listener prefix."""
    servers = [server.strip() for server in bootstrap_servers.split(",") if server.strip()]
    if not servers:
        raise KafkaAssetURIError("No bootstrap server to name the topic's asset by.")
    server = servers[0]
    return server.split("://", 1)[1] if "://" in server else server


def topic_uri(bootstrap_servers: str, topic: str) -> str:
    """``kafka://<first bootstrap server>/<topic>``, the asset URI of a topic."""
    if not topic:
        raise KafkaAssetURIError("No topic to name the asset by.")
    return f"{SCHEME}://{first_bootstrap_server(bootstrap_servers)}/{topic}"


def topic_asset(bootstrap_servers: str, topic: str, extra: Mapping[str, Any] | None = None) -> Asset:
    from airflow.sdk import Asset

    return Asset(uri=topic_uri(bootstrap_servers, topic), extra=dict(extra or {}))


# --- registered for the `kafka` scheme in get_provider_info()["asset-uris"] -----------------------------------


def sanitize_uri(uri: SplitResult) -> SplitResult:
    """Airflow's check of a ``kafka://`` asset URI: it needs a bootstrap server and a topic.

    Airflow expects a ValueError from a normalizer for a URI it cannot accept; KafkaAssetURIError is one.
    """
    if not uri.netloc:
        raise KafkaAssetURIError("A kafka:// asset URI names a bootstrap server: kafka://<host:port>/<topic>")
    if not uri.path or uri.path == "/":
        raise KafkaAssetURIError("A kafka:// asset URI names a topic: kafka://<host:port>/<topic>")
    return uri


def create_asset(*, server: str, topic: str, extra: dict[str, Any] | None = None) -> Asset:
    """The asset factory Airflow uses for the ``kafka`` scheme."""
    return topic_asset(server, topic, extra)


def convert_asset_to_openlineage(asset: Asset, lineage_context: Any = None) -> Any:
    """An OpenLineage dataset for a ``kafka://`` asset: namespace ``kafka://<server>``, name ``<topic>``."""
    from urllib.parse import urlsplit

    from airflow.providers.common.compat.openlineage.facet import Dataset

    parts = urlsplit(asset.uri)
    return Dataset(namespace=f"{SCHEME}://{parts.netloc}", name=parts.path.lstrip("/"))


# --- what the operator uses -------------------------------------------------------------------------------------


def outlet_alias(operator: BaseOperator) -> AssetAlias:
    """The asset alias a producer task declares as its outlet; its events carry the topic's concrete asset."""
    from airflow.sdk import AssetAlias

    dag_id = operator.dag.dag_id if operator.has_dag() else None
    return AssetAlias(name=f"{ALIAS_PREFIX}{dag_id}.{operator.task_id}" if dag_id else ALIAS_PREFIX + operator.task_id)


def event_extra(response: Mapping[str, Any]) -> dict[str, Any]:
    """An asset event's extra: the response, with a batch's per-partition offsets as compact JSON text.

    Airflow 3.1 hashes the values of an alias event's extra and drops an event holding a dict or a list.
    """
    return {
        name: json.dumps(value, separators=(",", ":")) if isinstance(value, (Mapping, list)) else value
        for name, value in response.items()
    }


def report_topic(
    operator: BaseOperator, context: Context, asset: Asset, extra: Mapping[str, Any] | None = None
) -> Asset:
    """Record an asset event for the topic written to (its ``topic_asset``), through the operator's alias or a
    declared outlet.

    A DAG that declared the topic's asset itself in ``outlets`` gets Airflow's own event for it, with this
    extra; otherwise the event is attached to the operator's alias. Either way one event is recorded.
    """
    from airflow.sdk import Asset, AssetAlias

    events = context.get("outlet_events")
    if events is None:  # executed outside an Airflow task run
        return asset
    declared = [outlet for outlet in operator.outlets if isinstance(outlet, Asset) and outlet.uri == asset.uri]
    if declared:
        events[declared[0]].extra.update(event_extra(extra or {}))
        return declared[0]
    aliases = [outlet for outlet in operator.outlets if isinstance(outlet, AssetAlias)]
    alias = next((a for a in aliases if a.name.startswith(ALIAS_PREFIX)), aliases[0] if aliases else None)
    if alias is not None:
        events[alias].add(asset, extra=event_extra(extra or {}))
    return asset


def openlineage_enabled() -> bool:
    """Whether the OpenLineage provider is installed and sends events (it has a transport configured)."""
    try:
        from airflow.providers.openlineage.conf import is_disabled
    except ImportError:
        return False
    return not is_disabled()


def openlineage_facets(
    bootstrap_servers: str | None, topic: str | None, sent: Sent | None = None, value_schema: Any = None
) -> Any:
    """The OpenLineage provider's ``OperatorLineage`` with the topic as output; None without that provider.

    The output carries the output-statistics facet (messages acknowledged, their bytes) when the task measured what
    it sent, and the schema facet when the task has an Avro record or JSON Schema object value schema.
    """
    try:
        from airflow.providers.common.compat.openlineage.facet import (
            OutputDataset,
            OutputStatisticsOutputDatasetFacet,
        )
        from airflow.providers.openlineage.extractors import OperatorLineage
    except ImportError:
        return None
    if not bootstrap_servers or not topic:
        return OperatorLineage()
    server = first_bootstrap_server(bootstrap_servers)
    output_facets: dict[str, Any] = {}
    if sent is not None:
        output_facets["outputStatistics"] = OutputStatisticsOutputDatasetFacet(
            rowCount=sent.acknowledged, size=sent.bytes
        )
    facets: dict[str, Any] = {}
    fields = schema_fields(value_schema)
    if fields:
        from airflow.providers.common.compat.openlineage.facet import SchemaDatasetFacet, SchemaDatasetFacetFields

        facets["schema"] = SchemaDatasetFacet(
            fields=[SchemaDatasetFacetFields(name=name, type=kind) for name, kind in fields]
        )
    dataset = OutputDataset(namespace=f"{SCHEME}://{server}", name=topic, facets=facets, outputFacets=output_facets)
    return OperatorLineage(outputs=[dataset])


def schema_fields(schema: Any) -> list[tuple[str, str]]:
    """(name, type) of each field of an Avro record schema or of a JSON Schema object's properties; [] for any
    other schema, or none."""
    if isinstance(schema, str):
        try:
            schema = json.loads(schema)
        except ValueError:
            return []
    if not isinstance(schema, Mapping):
        return []
    if schema.get("type") == "record" and isinstance(schema.get("fields"), list):
        return [(str(field["name"]), _avro_type(field.get("type"))) for field in schema["fields"] if "name" in field]
    if isinstance(schema.get("properties"), Mapping):
        return [
            (str(name), str(spec.get("type", "")) if isinstance(spec, Mapping) else "")
            for name, spec in schema["properties"].items()
        ]
    return []


def _avro_type(avro: Any) -> str:
    if isinstance(avro, list):  # a union: ["null", "string"] reads as the type it allows besides null
        named = [_avro_type(member) for member in avro if member != "null"]
        return named[0] if len(named) == 1 else "union"
    if isinstance(avro, Mapping):
        return str(avro.get("logicalType") or avro.get("type"))
    return str(avro)
