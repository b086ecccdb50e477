"""Managed Kafka services that authenticate with SASL PLAIN, through real Airflow against a broker that has exactly
such users: Azure Event Hubs (user `$ConnectionString`, the password a namespace connection string full of ';' and
'='), and Confluent Cloud (an API key and secret). Each service's own documented forms: the Connections form's
login and password, Event Hubs' Java properties (a JAAS line), Confluent Cloud's librdkafka and Java properties.
The harness broker's TLS CA stands in for the public CA the services' certificates chain to."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.airflow_dag_run import AirflowHome
from harness.pytest_plugin import require

pytestmark = pytest.mark.broker

DAGS = Path(__file__).parent / "dags"
PLAIN_MODULE = "org.apache.kafka.common.security.plain.PlainLoginModule"
TOPIC = "managed-services"


def jaas(user: str, password: str) -> str:
    return f"{PLAIN_MODULE} required username={json.dumps(user)} password={json.dumps(password)};"


@pytest.fixture(scope="module")
def run(broker, tmp_path_factory):
    require(broker.sasl_ssl and broker.event_hubs_user and broker.confluent_cloud_user, "managed-service PLAIN users")
    hubs, cloud = broker.event_hubs_user, broker.confluent_cloud_user
    ca = {"ssl.ca.location": str(broker.ca_file)}
    sasl_ssl_plain = {"security.protocol": "SASL_SSL", "sasl.mechanism": "PLAIN"}
    connections = {
        # The Connections form: login and password (SASL_SSL with PLAIN follows from them).
        "event_hubs_login": {"host": broker.sasl_ssl, "login": hubs.name, "password": hubs.password, "extra": ca},
        # Event Hubs' Kafka quickstart properties for Java clients, pasted into the extra.
        "event_hubs_java": {
            "extra": {
                "bootstrap.servers": broker.sasl_ssl,
                **sasl_ssl_plain,
                "sasl.jaas.config": jaas(hubs.name, hubs.password),
                **ca,
            }
        },
        "event_hubs_wrong_key": {
            "host": broker.sasl_ssl,
            "login": hubs.name,
            "password": hubs.password.replace("SharedAccessKey=Hx7", "SharedAccessKey=Zz9"),
            "extra": ca,
        },
        "confluent_cloud_login": {
            "host": broker.sasl_ssl,
            "login": cloud.name,
            "password": cloud.password,
            "extra": ca,
        },
        # Confluent Cloud's client configuration for librdkafka-based clients.
        "confluent_cloud_librdkafka": {
            "host": broker.sasl_ssl,
            "extra": {
                "security.protocol": "SASL_SSL",
                "sasl.mechanisms": "PLAIN",
                "sasl.username": cloud.name,
                "sasl.password": cloud.password,
                "session.timeout.ms": "45000",
                "client.dns.lookup": "use_all_dns_ips",
                "acks": "all",
                **ca,
            },
        },
        # ... and for Java clients.
        "confluent_cloud_java": {
            "host": broker.sasl_ssl,
            "extra": {
                **sasl_ssl_plain,
                "sasl.jaas.config": jaas(cloud.name, cloud.password),
                "client.dns.lookup": "use_all_dns_ips",
                "session.timeout.ms": "45000",
                "acks": "all",
                **ca,
            },
        },
    }
    broker.create_topic(TOPIC)
    airflow = AirflowHome(
        tmp_path_factory.mktemp("airflow"),
        {f"kafka_{name}": {"conn_type": "kafka_producer", **fields} for name, fields in connections.items()},
        dags_folder=DAGS,
    )
    result = airflow.test_dag("managed_services", {"topic": TOPIC})
    return result, broker.read_all(TOPIC, "read_uncommitted")


DELIVERED = [
    "event_hubs_login",
    "event_hubs_java",
    "confluent_cloud_login",
    "confluent_cloud_librdkafka",
    "confluent_cloud_java",
]


@pytest.mark.parametrize("form", DELIVERED)
def test_each_documented_form_delivers_and_the_response_is_the_record(run, form):
    result, records = run
    record = result.delivered_record(form, records)
    assert (record.key(), record.value()) == (form.encode(), f"sent as {form}".encode())


def test_a_wrong_event_hubs_key_fails_fast_naming_the_user(run):
    result, _ = run
    assert result.task_states["event_hubs_wrong_key"] == "failed"
    assert "Authentication failed for user '$ConnectionString' with mechanism PLAIN" in result.output
    assert result.task_durations["event_hubs_wrong_key"] < 10


def test_no_connection_string_or_api_secret_reaches_the_log_or_xcom(run, broker):
    result, _ = run
    shown = result.output + json.dumps({str(key): value for key, value in result.xcoms.items()})
    for secret in (broker.event_hubs_user.password, broker.confluent_cloud_user.password):
        for part in (secret, secret[-24:], secret.split(";")[-1]):
            assert part not in shown
