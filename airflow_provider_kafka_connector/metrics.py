"""What a task sent, through Airflow's own metrics (``[metrics]``: StatsD, Datadog or OpenTelemetry, as the
deployment configures them): once per task, never per message.

Each metric is sent tagged with the topic, DAG and task (for backends with tags), and once more with the topic in
its name, as Airflow names its own metrics for plain StatsD:

- ``kafka_connector.messages_acknowledged`` (count), and ``kafka_connector.messages_acknowledged.<topic>``
- ``kafka_connector.messages_failed`` (count, sent only when some failed)
- ``kafka_connector.bytes_sent`` (count: keys, values and headers handed to the producer)
- ``kafka_connector.time_to_last_ack`` (timer: from the first message produced to the last acknowledgement)

With every metrics backend off, nothing is counted or sent.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from airflow_provider_kafka_connector.serialization import SerializedRecords, record_size

if TYPE_CHECKING:
    from airflow_provider_kafka_connector.exceptions import KafkaDeliveryError
    from airflow_provider_kafka_connector.producer import OutgoingMessage

PREFIX = "kafka_connector"
_BACKEND_SWITCHES = ("statsd_on", "statsd_datadog_enabled", "otel_on")


def metrics_enabled() -> bool:
    """Whether this deployment sends metrics at all (read from Airflow's [metrics] section)."""
    try:
        from airflow.sdk.configuration import conf
    except ImportError:  # Airflow 3.1
        from airflow.configuration import conf

    return any(conf.getboolean("metrics", switch, fallback=False) for switch in _BACKEND_SWITCHES)


@dataclass(frozen=True)
class Sent:
    """What one task sent: the outcome the metrics and the lineage facets report."""

    topic: str
    acknowledged: int
    failed: int
    bytes: int
    seconds: float


def sent(
    topic: str,
    message: OutgoingMessage | None,
    batch: SerializedRecords | None,
    started: float,
    response: dict[str, Any] | None = None,
    failure: KafkaDeliveryError | None = None,
) -> Sent:
    """What a send that started at ``started`` (time.monotonic()) and just ended with this response or failure
    sent: one message, or a batch measured as it was given to the producer."""
    seconds = time.monotonic() - started
    if batch is None:
        assert message is not None
        ok = failure is None
        return Sent(topic, int(ok), int(not ok), record_size((message.key, message.value, message.headers)), seconds)
    if response is not None:
        return Sent(topic, response["count"], 0, batch.bytes_given, seconds)
    assert failure is not None
    failed = failure.failed if failure.failed is not None else batch.messages_given - failure.acknowledged
    return Sent(topic, failure.acknowledged, failed, batch.bytes_given, seconds)


def report(sent: Sent, dag_id: str, task_id: str) -> None:
    """Send the task's metrics through Airflow's Stats."""
    stats = _stats()
    tags = {"topic": sent.topic, "dag_id": dag_id, "task_id": task_id}
    counts = {"messages_acknowledged": sent.acknowledged, "messages_failed": sent.failed, "bytes_sent": sent.bytes}
    for name, count in counts.items():
        if count or name != "messages_failed":
            for stat, stat_tags in _named(name, sent.topic, tags):
                stats.incr(stat, count, tags=stat_tags)
    for stat, stat_tags in _named("time_to_last_ack", sent.topic, tags):
        stats.timing(stat, sent.seconds * 1000, tags=stat_tags)


def _named(name: str, topic: str, tags: dict[str, str]) -> list[tuple[str, dict[str, str] | None]]:
    return [(f"{PREFIX}.{name}", tags), (f"{PREFIX}.{name}.{topic}", None)]


def _stats() -> Any:
    try:
        from airflow.sdk.observability.stats import Stats
    except ImportError:  # Airflow 3.1
        from airflow.stats import Stats
    return Stats
