"""How keys, values and headers become the bytes of a Kafka record (the spec's StringSerializer, in UTF-8)."""

from __future__ import annotations

import calendar
import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import datetime
from itertools import islice, repeat
from typing import Any, cast

from airflow_provider_kafka_connector.exceptions import MessageSerializationError  # also importable from here

Headers = Mapping[str, Any] | Iterable[tuple[str, Any]]
# Values are bytes or None; typed as confluent-kafka's produce() takes headers (a list is invariant).
SerializedHeaders = list[tuple[str, str | bytes | None]]
# librdkafka's "no partition given": the partitioner chooses.
ANY_PARTITION = -1
# librdkafka's "no timestamp given": the producer stamps the message when it is produced.
NO_TIMESTAMP = 0
# A message of a batch ready for the producer: key, value, headers (None when there are none), partition and
# timestamp (milliseconds since the epoch).
Record = tuple[bytes | None, bytes | None, SerializedHeaders | None, int, int]

# A message of a batch that the producer can take as it is (confluent-kafka's produce_batch reads the dict in C):
# a dict with only a key and a value, each bytes or None.
PlainMessage = dict[str, bytes | None]

MESSAGE_FIELDS = frozenset({"key", "value", "headers", "partition", "timestamp"})
_PLAIN_FIELDS = frozenset({"key", "value"})
_PLAIN_TYPES = frozenset({bytes, type(None)})


def serialize_payload(payload: Any, field: str) -> bytes | None:
    """str as UTF-8, bytes unchanged, None as None, anything else JSON-able as compact JSON text."""
    if payload is None or type(payload) is bytes:
        return payload
    if type(payload) is str:
        return payload.encode("utf-8")
    if isinstance(payload, bytes):
        return bytes(payload)
    if isinstance(payload, str):
        return str(payload).encode("utf-8")
    if isinstance(payload, (bytearray, memoryview)):
        return bytes(payload)
    try:
        text = json.dumps(payload, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError) as error:
        raise MessageSerializationError(
            f"The message {field} cannot be sent: {error}. Give a str, bytes, or a JSON-serializable "
            "dict, list, number or bool."
        ) from None
    return text.encode("utf-8")


def serialize_headers(headers: Headers | None) -> SerializedHeaders:
    """Headers in their given order; values str as UTF-8, bytes unchanged, numbers and bools as text."""
    if not headers:
        return []
    pairs = headers.items() if isinstance(headers, Mapping) else headers
    serialized: SerializedHeaders = []
    for pair in pairs:
        try:
            name, value = pair
        except (TypeError, ValueError):
            raise MessageSerializationError(
                f"Each message header must be a (name, value) pair, not {pair!r}."
            ) from None
        serialized.append((str(name), _header_value(str(name), value)))
    return serialized


def _header_value(name: str, value: Any) -> bytes | None:
    if value is None or isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode("utf-8")
    if isinstance(value, bool):
        return b"true" if value else b"false"
    if isinstance(value, (int, float)):
        return str(value).encode("utf-8")
    raise MessageSerializationError(
        f"Message header {name!r} has a value of type {type(value).__name__}; give a str, bytes, number or bool."
    )


def message_timestamp(timestamp: Any, field: str = "timestamp") -> int:
    """A message's timestamp as librdkafka takes it: milliseconds since the epoch (NO_TIMESTAMP for None).

    An int is taken as milliseconds; a datetime (pendulum's DateTime is one) must be aware; text, as a rendered
    template gives it, is digits (milliseconds) or an ISO 8601 date and time with its offset.
    """
    if timestamp is None:
        return NO_TIMESTAMP
    if isinstance(timestamp, str):
        text = timestamp.strip()
        if text.isdigit():
            return int(text)
        try:
            timestamp = datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith("Z") else text)
        except ValueError:
            raise MessageSerializationError(
                f"The message {field} {timestamp!r} is neither milliseconds since the epoch nor an ISO 8601 date and "
                "time."
            ) from None
    if isinstance(timestamp, datetime):
        if timestamp.tzinfo is None or timestamp.utcoffset() is None:
            raise MessageSerializationError(
                f"The message {field} {timestamp.isoformat()} has no time zone, so the instant it names is unknown: "
                "give an aware datetime (e.g. pendulum.datetime(..., tz='UTC')) or milliseconds since the epoch."
            )
        return calendar.timegm(timestamp.utctimetuple()) * 1000 + timestamp.microsecond // 1000
    if isinstance(timestamp, int) and not isinstance(timestamp, bool) and timestamp >= 0:
        return timestamp
    raise MessageSerializationError(
        f"The message {field} must be milliseconds since the epoch (a whole number, not negative), an aware datetime "
        f"or ISO 8601 text, not {timestamp!r}."
    )


Encode = Callable[[Any], "bytes | None"]


class SerializedRecords:
    """A batch's messages as producer records, read once and lazily.

    Iterating gives one Record per message. chunks() is the cheaper way for a producer: lists of messages, each
    either plain dicts to be produced as they are (checked a whole list at a time, in C) or serialized Records.
    """

    def __init__(
        self,
        messages: Iterable[Mapping[str, Any]],
        encode_key: Encode | None = None,
        encode_value: Encode | None = None,
        measure: bool = False,
    ) -> None:
        self._messages = messages
        # A schema's serializers (encode_key, encode_value) replace the usual rules; such a batch is never plain.
        self._encoders = (encode_key, encode_value) if encode_key or encode_value else None
        # With measure, chunks() counts the messages it has given and their bytes (for metrics and lineage only:
        # it costs a pass over each chunk).
        self._measure = measure
        self.messages_given = 0
        self.bytes_given = 0

    def __iter__(self) -> Iterator[Record]:
        return self._serialize(enumerate(self._messages))

    def _serialize(self, messages: Iterable[tuple[int, Mapping[str, Any]]]) -> Iterator[Record]:
        return _serialize(messages) if self._encoders is None else _encoded(messages, *self._encoders)

    def chunks(self, size: int, first: int = 1) -> Iterator[list[PlainMessage] | list[Record]]:
        """Lists of `first`, then of `size` messages; the messages stay unread until their list is taken."""
        messages = iter(self._messages)
        start = 0
        while chunk := list(islice(messages, first if start == 0 else size)):
            plain = self._encoders is None and _plain(chunk)
            given = cast(list[PlainMessage], chunk) if plain else list(self._serialize(enumerate(chunk, start)))
            if self._measure:
                self.messages_given += len(given)
                self.bytes_given += _plain_size(chunk) if plain else sum(map(record_size, given))  # type: ignore[arg-type]
            yield given
            start += len(chunk)


def serialized_records(
    messages: Iterable[Mapping[str, Any]],
    encode_key: Encode | None = None,
    encode_value: Encode | None = None,
    measure: bool = False,
) -> SerializedRecords:
    """Each message mapping as a producer record, serialized as single messages are; encode_key and encode_value,
    where given, replace the usual rules (a schema's serializer)."""
    return SerializedRecords(messages, encode_key, encode_value, measure)


def record_size(record: Record | tuple[bytes | None, bytes | None, SerializedHeaders | None]) -> int:
    """The bytes of a record's key, value and headers (names and values)."""
    key, value, headers = record[0], record[1], record[2]
    size = len(key or b"") + len(value or b"")
    return size + sum(len(name.encode()) + len(data or b"") for name, data in headers) if headers else size


def _plain_size(chunk: list[Any]) -> int:
    return sum(sum(map(len, filter(None, map(dict.get, chunk, repeat(field))))) for field in _PLAIN_FIELDS)


def _plain(chunk: list[Any]) -> bool:
    """Whether every message is a dict with only a key and a value, each bytes or None (map() keeps it in C).

    Only the fields some message has are looked up (a batch of values alone skips the keys): 0.2 microseconds a
    message instead of 0.35 for four passes.
    """
    if not {dict}.issuperset(map(type, chunk)):
        return False
    fields = set().union(*chunk)
    return _PLAIN_FIELDS.issuperset(fields) and all(
        _PLAIN_TYPES.issuperset(map(type, map(dict.get, chunk, repeat(field)))) for field in fields
    )


def _serialize(messages: Iterable[tuple[int, Mapping[str, Any]]]) -> Iterator[Record]:
    """Serialize (index, message) pairs; runs once per message of a batch that is not plain."""
    for index, message in messages:
        try:
            if not message.keys() <= MESSAGE_FIELDS:
                raise _unknown_fields(message)
            get = message.get
            key, value, headers, partition = get("key"), get("value"), get("headers"), get("partition")
            timestamp = get("timestamp")
            # The common cases (bytes or None) skip the call: this runs once per message of a batch.
            yield (
                key if key is None or type(key) is bytes else serialize_payload(key, "key"),
                value if value is None or type(value) is bytes else serialize_payload(value, "value"),
                serialize_headers(headers) if headers else None,
                ANY_PARTITION if partition is None else partition,
                NO_TIMESTAMP if timestamp is None else message_timestamp(timestamp),
            )
        except MessageSerializationError as error:
            raise MessageSerializationError(f"messages[{index}]: {error}") from None
        except AttributeError:
            raise _not_a_mapping(index, message) from None


def _encoded(
    messages: Iterable[tuple[int, Mapping[str, Any]]], encode_key: Encode | None, encode_value: Encode | None
) -> Iterator[Record]:
    key_of = encode_key or (lambda key: serialize_payload(key, "key"))
    value_of = encode_value or (lambda value: serialize_payload(value, "value"))
    for index, message in messages:
        try:
            if not message.keys() <= MESSAGE_FIELDS:
                raise _unknown_fields(message)
            headers, partition = message.get("headers"), message.get("partition")
            yield (
                key_of(message.get("key")),
                value_of(message.get("value")),
                serialize_headers(headers) if headers else None,
                ANY_PARTITION if partition is None else partition,
                message_timestamp(message.get("timestamp")),
            )
        except MessageSerializationError as error:
            raise MessageSerializationError(f"messages[{index}]: {error}") from None
        except AttributeError:
            raise _not_a_mapping(index, message) from None


def _unknown_fields(message: Mapping[str, Any]) -> MessageSerializationError:
    unknown = sorted(message.keys() - MESSAGE_FIELDS)
    return MessageSerializationError(f"unknown fields {unknown}; use key, value, headers, partition, timestamp")


def _not_a_mapping(index: int, message: Any) -> MessageSerializationError:
    return MessageSerializationError(
        f"messages[{index}] is a {type(message).__name__}, not a message: each message is a mapping with 'value' and "
        "optionally 'key', 'headers', 'partition', 'timestamp', e.g. {'key': 'k', 'value': {'n': 1}}."
    )
