"""bench/run.py --only airflow: one 100-byte message with the official provider's ProduceToTopicOperator (its
defaults otherwise), through `airflow dags test`; one DAG per connection that bench/run.py defines."""

from __future__ import annotations

from collections.abc import Iterator

import pendulum
from airflow.providers.apache.kafka.operators.produce import ProduceToTopicOperator
from airflow.sdk import DAG


def one_message() -> Iterator[tuple[None, bytes]]:
    yield None, b"x" * 100


for dag_id, conn_id in [
    ("bench_produce_official", "kafka_official"),  # our operator's effective producer configuration
    ("bench_produce_official_defaults", "kafka_official_defaults"),  # bootstrap.servers only
]:
    with DAG(
        dag_id=dag_id,
        schedule=None,
        start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
        params={"topic": "unset"},
    ):
        ProduceToTopicOperator(
            task_id="produce", topic="{{ params.topic }}", producer_function=one_message, kafka_config_id=conn_id
        )
