"""Messages built by upstream tasks, and dynamic task mapping, as docs/operator.rst shows (tests/test_composition.py).

1. ``messages=`` an upstream TaskFlow task's output (an XComArg), resolved when the task runs.
2. ``messages=`` a callable that returns a generator: 10,000 messages built only when the task runs.
3. ``KafkaProducerOperator.partial(...).expand(value=[...])`` and ``.expand_kwargs(...)``: one mapped task instance
   per message, each pushing its own ``response``; ``collect_responses`` pulls them with ``map_indexes``.
"""

from __future__ import annotations

from collections.abc import Iterator

import pendulum
from airflow.sdk import DAG, task

from airflow_provider_kafka_connector.operators.kafka_producer import KafkaProducerOperator

BIG_BATCH = 10_000
MAPPED_VALUES = [{"sku": "A-1", "qty": 1}, {"sku": "B-2", "qty": 2}, {"sku": "C-3", "qty": 3}]


def generate_events() -> Iterator[dict]:
    """The large batch, one message at a time: nothing is built at parse time or held in memory."""
    for i in range(BIG_BATCH):
        yield {"key": f"device-{i % 50}", "value": {"seq": i, "reading": i * 0.5}, "headers": {"seq": i}}


with DAG(
    dag_id="composition",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    params={"orders": "unset", "events": "unset", "mapped": "unset", "audit": "unset"},
):

    @task
    def build_orders() -> list[dict]:
        """Upstream task building the batch: the shape `messages=` takes, as a JSON-serializable XCom."""
        return [
            {"key": f"order-{n}", "value": {"order_id": n, "total": n * 10}, "headers": {"source": "build_orders"}}
            for n in range(1, 6)
        ]

    # 1. An XComArg as messages: pulled when publish_orders runs, and build_orders runs first.
    publish_orders = KafkaProducerOperator(
        task_id="publish_orders", topic="{{ params.orders }}", messages=build_orders()
    )

    # 2. A callable returning a generator: called when the task runs.
    publish_events = KafkaProducerOperator(
        task_id="publish_events", topic="{{ params.events }}", messages=generate_events
    )

    # 3a. One mapped task instance per value; the partial arguments are shared and still templated.
    publish_each = KafkaProducerOperator.partial(
        task_id="publish_each",
        topic="{{ params.mapped }}",
        kafka_conn_id="kafka_producer_default",
        key="{{ ti.map_index }}",
    ).expand(value=MAPPED_VALUES)

    @task
    def per_instance_arguments() -> list[dict]:
        """Different topics, keys, values and headers per mapped instance, decided by an upstream task."""
        return [
            {"topic": "{{ params.mapped }}", "key": "first", "value": "to the mapped topic", "headers": {"i": 0}},
            {"topic": "{{ params.audit }}", "key": "second", "value": {"audit": True}, "partition": 1},
            {"topic": "{{ params.audit }}", "key": None, "value": None},
        ]

    # 3b. expand_kwargs from an upstream task's list of argument dicts (a literal list works the same way).
    publish_kwargs = KafkaProducerOperator.partial(
        task_id="publish_kwargs", kafka_conn_id="kafka_producer_default"
    ).expand_kwargs(per_instance_arguments())

    @task
    def collect_responses(ti=None) -> dict:
        """Each mapped instance pushed its own response: pull them in map_index order."""
        return {
            "publish_each": ti.xcom_pull(task_ids="publish_each", key="response", map_indexes=[0, 1, 2]),
            "publish_kwargs": ti.xcom_pull(task_ids="publish_kwargs", key="response", map_indexes=[0, 1, 2]),
        }

    [publish_each, publish_kwargs] >> collect_responses()


with DAG(
    dag_id="composition_mapped_secrets",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    params={"topic": "unset"},
):
    # A secret in a mapped task's templated producer properties is kept out of its stored rendered fields too.
    KafkaProducerOperator.partial(
        task_id="mapped_with_secret",
        topic="{{ params.topic }}",
        additional_properties={"client.id": "composition", "sasl.jaas.config": "{{ var.value.composition_login }}"},
    ).expand(value=["only one"])
