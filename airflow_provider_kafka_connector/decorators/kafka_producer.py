"""``@task.kafka_producer``: a TaskFlow function whose return value is what the task sends to Kafka.

::

    @task.kafka_producer(topic="orders", kafka_conn_id="kafka_producer_default")
    def orders(day: str):
        return [{"key": o.id, "value": o.as_dict()} for o in load_orders(day)]

One mapping with ``value`` (and optionally ``key``, ``headers``, ``partition``, ``timestamp``) is one message; a
list, tuple, iterator or generator of such mappings is a batch, sent as it is produced (a generator is never held
in memory whole). Every KafkaProducerOperator argument is a decorator argument; the XCom ``response`` and the
return value are the operator's.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from airflow.sdk.bases.decorator import DecoratedOperator, TaskDecorator, task_decorator_factory
from airflow.sdk.definitions.context import context_merge

try:
    from airflow.sdk.bases.decorator import determine_kwargs
except ImportError:  # Airflow 3.1
    from airflow.utils.operator_helpers import determine_kwargs  # type: ignore[attr-defined]

from airflow_provider_kafka_connector.exceptions import MessageSerializationError
from airflow_provider_kafka_connector.operators.kafka_producer import KafkaProducerOperator
from airflow_provider_kafka_connector.serialization import MESSAGE_FIELDS

if TYPE_CHECKING:
    from airflow.sdk import Context

EXPECTED_SHAPE = (
    "return one message as a mapping with 'value' (and optionally 'key', 'headers', 'partition', 'timestamp'), "
    "e.g. {'key': 'order-42', 'value': {'status': 'created'}}, or a batch as a list, tuple, iterator or generator "
    "of such mappings"
)


class _KafkaProducerDecoratedOperator(DecoratedOperator, KafkaProducerOperator):
    """Runs the decorated function, then sends what it returned as KafkaProducerOperator sends its messages."""

    template_fields: Sequence[str] = (*DecoratedOperator.template_fields, *KafkaProducerOperator.template_fields)
    template_fields_renderers: ClassVar[dict[str, str]] = {**DecoratedOperator.template_fields_renderers}
    custom_operator_name: str = "@task.kafka_producer"

    def __init__(
        self,
        *,
        python_callable: Callable[..., Any],
        op_args: Collection[Any] | None = None,
        op_kwargs: Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        kwargs.pop("multiple_outputs", None)  # the return value is the acknowledgement, one XCom
        super().__init__(
            python_callable=python_callable, op_args=op_args, op_kwargs=op_kwargs, multiple_outputs=False, **kwargs
        )

    def execute(self, context: Context) -> Any:
        context_merge(context, self.op_kwargs)
        kwargs = determine_kwargs(self.python_callable, self.op_args, context)
        self._take(self.python_callable(*self.op_args, **kwargs))
        return KafkaProducerOperator.execute(self, context)

    def _take(self, returned: Any) -> None:
        """The function's return value as the operator's single message or batch."""
        if isinstance(returned, Mapping):
            if "value" not in returned or not returned.keys() <= MESSAGE_FIELDS:
                raise MessageSerializationError(
                    f"@task.kafka_producer function {self.task_id!r} returned a mapping with the keys "
                    f"{sorted(map(str, returned))}: {EXPECTED_SHAPE}."
                )
            self.key, self.value = returned.get("key"), returned["value"]
            self.headers, self.partition = returned.get("headers"), returned.get("partition")
            self.timestamp = returned.get("timestamp")
            return
        if isinstance(returned, (str, bytes, bytearray)) or not isinstance(returned, Iterable):
            raise MessageSerializationError(
                f"@task.kafka_producer function {self.task_id!r} returned {type(returned).__name__}: {EXPECTED_SHAPE}."
            )
        self.messages = returned


def kafka_producer_task(python_callable: Callable[..., Any] | None = None, **kwargs: Any) -> TaskDecorator:
    """Wrap a function into a KafkaProducerOperator that sends what the function returns.

    Takes every KafkaProducerOperator argument except those of the message itself (``key``, ``value``,
    ``headers``, ``partition``, ``timestamp``, ``messages``), which come from the return value.
    """
    return task_decorator_factory(
        python_callable=python_callable, decorated_operator_class=_KafkaProducerDecoratedOperator, **kwargs
    )
