"""What is specific to this test suite. The shared fixtures (broker, new_topic, topic, kafka_connection), `require`,
the CI no-skip rule and the failure report come from the harness's pytest plugin (harness.pytest_plugin, active
wherever the kafka-connector-harness distribution is installed)."""

from __future__ import annotations

import logging
import os
import tempfile
import time
from dataclasses import dataclass

import pytest

# Airflow reads AIRFLOW_HOME when first imported; keep the tests away from ~/airflow.
os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp(prefix="kafka-connector-tests-airflow-"))


@dataclass
class Failure:
    conn_id: str
    error: BaseException
    seconds: float
    shown: str  # everything the user could see: exception text, log records, the process's own output


@pytest.fixture
def fail(kafka_connection, caplog, capfd, request):
    """Sends one message through a fresh connection (its fields: kafka_connection's) and returns how it failed."""
    # Here, not at the top: this module sets AIRFLOW_HOME before anything imports Airflow.
    from airflow_provider_kafka_connector.exceptions import KafkaConnectorError
    from airflow_provider_kafka_connector.hooks.kafka_producer import KafkaProducerHook
    from airflow_provider_kafka_connector.producer import OutgoingMessage
    from harness.pytest_plugin import FAILURE_REPORT

    def attempt(topic="t", value=b"v", additional_properties=None, **connection) -> Failure:
        conn_id = kafka_connection(**connection)
        caplog.set_level(logging.DEBUG)
        started = time.monotonic()
        with pytest.raises(KafkaConnectorError) as raised:  # every failure is one of ours, never a bare ValueError
            with KafkaProducerHook(conn_id).get_producer(additional_properties) as producer:
                producer.send(OutgoingMessage(topic=topic, key=b"k", value=value, headers=[]))
        seconds = time.monotonic() - started
        out, err = capfd.readouterr()
        shown = "\n".join([str(raised.value), repr(raised.value), caplog.text, out, err])
        FAILURE_REPORT.append((request.node.name, seconds, str(raised.value).splitlines()[0]))
        return Failure(conn_id, raised.value, seconds, shown)

    return attempt
