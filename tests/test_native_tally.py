"""The librdkafka plugin that counts a batch's delivery outcomes in C (native_tally.py, _native/delivery_tally.c):
built by the install, loaded by the real librdkafka, and as strict as the Python callback it replaces."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from confluent_kafka import KafkaException, Producer

from airflow_provider_kafka_connector import native_tally
from airflow_provider_kafka_connector.exceptions import KafkaDeliveryError
from airflow_provider_kafka_connector.hooks.kafka_producer import KafkaProducerHook
from airflow_provider_kafka_connector.producer import DeliveryTally
from airflow_provider_kafka_connector.serialization import ANY_PARTITION, NO_TIMESTAMP, serialized_records


def test_the_install_built_the_plugin_and_it_loads():
    # The package's install compiles it (optional, so an install without a C compiler still works); this machine
    # has one, so a missing plugin here means the build broke.
    plugin = native_tally._plugin()
    assert plugin is not None
    path, _ = plugin
    assert Path(path).parent == Path(native_tally.__file__).parent


def test_the_plugin_comes_after_the_users_own_plugins():
    slot = native_tally.take_slot()
    assert slot is not None
    try:
        properties = native_tally.plugin_properties({"plugin.library.paths": "/opt/monitoring.so", "acks": "all"}, slot)
    finally:
        native_tally.release_slot(slot)
    path = native_tally._plugin()[0]
    assert list(properties)[:2] == ["plugin.library.paths", native_tally.TALLY_PROPERTY]
    assert properties["plugin.library.paths"] == f"/opt/monitoring.so;{path}"
    assert properties[native_tally.TALLY_PROPERTY] == str(slot)
    assert properties["acks"] == "all"


@pytest.mark.parametrize("value", ["256", "-1", "x", ""])
def test_librdkafka_refuses_a_tally_the_plugin_does_not_have(value):
    config = {"plugin.library.paths": native_tally._plugin()[0], native_tally.TALLY_PROPERTY: value}
    with pytest.raises(KafkaException, match="must be a number from 0 to 255"):
        Producer(config)


@pytest.mark.broker
def test_a_batch_counted_by_the_plugin_matches_what_a_consumer_reads(broker, new_topic, kafka_connection):
    topic = new_topic(partitions=3)
    count = 20_000
    hook = KafkaProducerHook(kafka_connection(host=broker.plaintext))
    records = ((str(i % 101).encode(), str(i).encode(), None, ANY_PARTITION, NO_TIMESTAMP) for i in range(count))
    with hook.get_producer(batch=True) as producer:
        assert producer._batch_tally(topic).on_delivery is None  # no Python call per message
        summary = producer.send_many(topic, records)
    consumed = broker.consume(topic, count, timeout=120)
    assert summary["count"] == count == len(consumed)
    offsets: dict[int, list[int]] = {}
    for record in consumed:
        offsets.setdefault(record.partition(), []).append(record.offset())
    assert summary["partitions"] == {
        str(partition): {"first_offset": min(found), "last_offset": max(found)} for partition, found in offsets.items()
    }
    timestamps = [record.timestamp()[1] for record in consumed]
    assert min(timestamps) <= summary["first_timestamp"] <= summary["last_timestamp"] <= max(timestamps)


@pytest.mark.broker
@pytest.mark.parametrize("batch", [True, False], ids=["plugin", "python-callback"])
def test_messages_the_broker_rejects_fail_the_batch(broker, kafka_connection, batch):
    # The broker's limit (on a record batch) is below the client's: the client sends the large message, the broker
    # rejects the record batch it is in; the producer's batches stay under the limit otherwise.
    topic = f"small-records-{batch}-{threading.get_ident()}"
    broker.create_topic(topic, partitions=1, config={"max.message.bytes": "200000"})
    hook = KafkaProducerHook(kafka_connection(host=broker.plaintext, extra={"batch.size": "100000"}))
    messages = [{"value": b"v"} for _ in range(3000)]
    messages[1500] = {"value": b"x" * 300_000}
    with pytest.raises(KafkaDeliveryError) as raised, hook.get_producer(batch=batch) as producer:
        assert (producer._tally_slot is not None) == batch
        producer.send_many(topic, serialized_records(messages))
    failed, sent = map(int, str(raised.value).split(" messages sent were not acknowledged")[0].split(" of "))
    # The batch stops sending once a failure is counted, so how many went depends on when the broker answered; the
    # large message (the 1501st) went, and not every message sent failed.
    assert 1501 <= sent <= 3000 and 1 <= failed < sent
    assert "too large" in str(raised.value).lower()


@pytest.mark.broker
def test_without_the_plugin_a_batch_counts_in_python(broker, topic, kafka_connection, monkeypatch):
    unusable = threading.Event()
    unusable.set()
    monkeypatch.setattr(native_tally, "_unusable", unusable)
    hook = KafkaProducerHook(kafka_connection(host=broker.plaintext))
    with hook.get_producer(batch=True) as producer:
        assert producer._tally_slot is None
        assert isinstance(producer._batch_tally(topic), DeliveryTally)
        summary = producer.send_many(topic, serialized_records({"value": b"v"} for _ in range(500)))
    assert summary["count"] == 500


@pytest.mark.broker
def test_each_producer_holds_its_own_tally_until_it_is_closed(broker, topic, kafka_connection):
    hook = KafkaProducerHook(kafka_connection(host=broker.plaintext))
    with hook.get_producer(batch=True) as first, hook.get_producer(batch=True) as second:
        assert first._tally_slot != second._tally_slot
        held = first._tally_slot
        assert first.send_many(topic, serialized_records({"value": b"a"} for _ in range(300)))["count"] == 300
        assert second.send_many(topic, serialized_records({"value": b"b"} for _ in range(200)))["count"] == 200
        # A second batch through the same producer counts only its own messages.
        assert first.send_many(topic, serialized_records({"value": b"c"} for _ in range(100)))["count"] == 100
    assert first._tally_slot is None and held in native_tally._slots._free
