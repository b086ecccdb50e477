import operator
from datetime import datetime, timedelta, timezone

import pendulum
import pytest

from airflow_provider_kafka_connector.serialization import (
    ANY_PARTITION,
    NO_TIMESTAMP,
    MessageSerializationError,
    message_timestamp,
    serialize_headers,
    serialize_payload,
    serialized_records,
)


@pytest.mark.parametrize(
    "payload, expected",
    [
        ("héllo", "héllo".encode()),
        (b"\x00\xff", b"\x00\xff"),
        (None, None),
        ({"b": 1, "a": [1, "é"]}, '{"b":1,"a":[1,"é"]}'.encode()),
        ([1, 2], b"[1,2]"),
        (42, b"42"),
        (1.5, b"1.5"),
        (True, b"true"),
        ("", b""),
    ],
)
def test_payloads(payload, expected):
    assert serialize_payload(payload, "value") == expected


@pytest.mark.parametrize("payload", [object(), {"when": {1, 2}}, float("nan")])
def test_unserializable_payload_names_the_field(payload):
    with pytest.raises(MessageSerializationError, match="The message key cannot be sent"):
        serialize_payload(payload, "key")


def test_headers_keep_order_and_convert_values():
    headers = {"z": "é", "a": b"\x01", "n": 7, "f": 0.5, "t": True, "none": None}
    assert serialize_headers(headers) == [
        ("z", "é".encode()),
        ("a", b"\x01"),
        ("n", b"7"),
        ("f", b"0.5"),
        ("t", b"true"),
        ("none", None),
    ]


def test_headers_as_pairs_allow_repeated_names():
    assert serialize_headers([("h", "1"), ("h", "2")]) == [("h", b"1"), ("h", b"2")]


def test_no_headers():
    assert serialize_headers(None) == []
    assert serialize_headers({}) == []


def test_bad_header_value_names_the_header():
    with pytest.raises(MessageSerializationError, match="header 'trace'"):
        serialize_headers({"trace": {"id": 1}})


def test_bad_header_pair():
    with pytest.raises(MessageSerializationError, match="pair"):
        serialize_headers(["just-a-name"])


def test_batch_records_are_serialized_as_single_messages():
    records = list(serialized_records([{"key": "k", "value": {"a": 1}, "headers": {"h": 1}, "partition": 2}, {}]))
    assert records == [(b"k", b'{"a":1}', [("h", b"1")], 2, NO_TIMESTAMP), (None, None, None, ANY_PARTITION, 0)]


def test_bad_batch_message_names_its_index():
    with pytest.raises(MessageSerializationError, match=r"messages\[1\]: .*unknown fields \['valu'\]"):
        list(serialized_records([{"value": "ok"}, {"valu": "typo"}]))
    with pytest.raises(MessageSerializationError, match=r"messages\[0\]: The message value cannot be sent"):
        list(serialized_records([{"value": object()}]))


def test_batch_chunks_keep_plain_dicts_as_they_are_and_serialize_the_rest():
    plain = [{"value": b"v"}, {"key": b"k", "value": None}, {}]
    mixed = [{"value": "text"}, {"value": b"v", "headers": {"h": "1"}}, {"value": b"v", "partition": 1}]
    chunks = list(serialized_records(iter([{"value": b"first"}, *plain, *mixed])).chunks(3))
    assert chunks[0] == [{"value": b"first"}]  # the first message goes alone
    assert chunks[1] == plain
    assert all(map(operator.is_, chunks[1], plain))  # the very dicts: produced as they are
    assert chunks[2] == [
        (None, b"text", None, ANY_PARTITION, NO_TIMESTAMP),
        (None, b"v", [("h", b"1")], ANY_PARTITION, NO_TIMESTAMP),
        (None, b"v", None, 1, NO_TIMESTAMP),
    ]


def test_a_bad_message_in_a_chunk_names_its_index_in_the_batch():
    messages = [{"value": b"ok"}] * 5 + [{"value": b"ok", "valu": "typo"}]
    with pytest.raises(MessageSerializationError, match=r"messages\[5\]: .*unknown fields \['valu'\]"):
        list(serialized_records(messages).chunks(2))


MAY_DAY_MS = 1777593600000  # 2026-05-01T00:00:00Z


@pytest.mark.parametrize(
    "given",
    [
        MAY_DAY_MS,
        str(MAY_DAY_MS),
        datetime(2026, 5, 1, tzinfo=timezone.utc),
        datetime(2026, 5, 1, 2, tzinfo=timezone(timedelta(hours=2))),
        pendulum.datetime(2026, 5, 1, tz="UTC"),
        pendulum.datetime(2026, 4, 30, 20, tz="America/New_York"),
        "2026-05-01T00:00:00+00:00",
        "2026-05-01T00:00:00Z",
    ],
)
def test_a_timestamp_is_milliseconds_since_the_epoch(given):
    assert message_timestamp(given) == MAY_DAY_MS
    [record] = serialized_records([{"value": b"v", "timestamp": given}])
    assert record[4] == MAY_DAY_MS


def test_no_timestamp_leaves_it_to_the_producer():
    assert message_timestamp(None) == NO_TIMESTAMP


@pytest.mark.parametrize(
    "given, words",
    [
        (datetime(2026, 5, 1), "has no time zone"),
        ("2026-05-01T00:00:00", "has no time zone"),
        ("yesterday", "neither milliseconds since the epoch nor an ISO 8601"),
        (-1, "not negative"),
        (True, "not True"),
        (1.5, "not 1.5"),
    ],
)
def test_a_timestamp_that_names_no_instant_is_refused(given, words):
    with pytest.raises(MessageSerializationError, match=words):
        message_timestamp(given)
    with pytest.raises(MessageSerializationError, match=r"messages\[0\]: "):
        list(serialized_records([{"value": b"v", "timestamp": given}]))


def test_a_batch_element_that_is_not_a_mapping_shows_the_shape_expected():
    with pytest.raises(MessageSerializationError, match=r"messages\[1\] is a str, not a message: each message is a "):
        list(serialized_records([{"value": "ok"}, "just text"]))
