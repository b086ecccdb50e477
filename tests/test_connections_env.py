"""Connections defined without the UI: AIRFLOW_CONN_<ID> as JSON and as a URI, `airflow connections add`, and a
secrets backend. Each resolves to the producer configuration it should, through Airflow's own lookup, and each
password is masked.
"""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import quote

import pytest
from airflow.sdk.log import redact

from airflow_provider_kafka_connector.config import MISCELLANEOUS_DEFAULTS, ProducerConfigError
from airflow_provider_kafka_connector.connection_form import extra_properties
from airflow_provider_kafka_connector.hooks.kafka_producer import KafkaProducerHook
from harness.airflow_dag_run import AirflowHome
from harness.pytest_plugin import require

SPECIAL_PASSWORD = "p@ss:w/o%rd#?&= é\"'"
# The URI example of docs/connections.rst: a comma-separated bootstrap list and that password, percent-encoded.
DOCS_URI = (
    "kafka-producer://alice:p%40ss%3Aw%2Fo%25rd%23%3F%26%3D%20%C3%A9%22%27"
    "@broker1%3A9092%2Cbroker2%3A9092/?ssl.ca.location=%2Fetc%2Fkafka%2Fca.pem&client.id=orders-app"
)
EXPECTED = {
    "bootstrap.servers": "broker1:9092,broker2:9092",
    "security.protocol": "SASL_SSL",
    "sasl.mechanism": "PLAIN",
    "sasl.username": "alice",
    "sasl.password": SPECIAL_PASSWORD,
    **MISCELLANEOUS_DEFAULTS,
    "ssl.ca.location": "/etc/kafka/ca.pem",
    "enable.sparse.connections": "true",  # SASL_SSL: see config.sparse_connections_default
    "client.id": "orders-app",
}


def test_env_json_form(monkeypatch):
    monkeypatch.setenv(
        "AIRFLOW_CONN_KAFKA_JSON",
        json.dumps(
            {
                "conn_type": "kafka_producer",
                "host": "broker1:9092,broker2:9092",
                "login": "alice",
                "password": SPECIAL_PASSWORD,
                "extra": {"ssl.ca.location": "/etc/kafka/ca.pem", "client.id": "orders-app"},
            }
        ),
    )
    assert dict(KafkaProducerHook("kafka_json").producer_config()) == EXPECTED
    assert redact(f"the password is {SPECIAL_PASSWORD}") == "the password is ***"


def test_env_uri_form(monkeypatch):
    assert quote(SPECIAL_PASSWORD, safe="") == "p%40ss%3Aw%2Fo%25rd%23%3F%26%3D%20%C3%A9%22%27"
    monkeypatch.setenv("AIRFLOW_CONN_KAFKA_URI", DOCS_URI)
    config = KafkaProducerHook("kafka_uri").producer_config()
    assert dict(config) == EXPECTED
    assert SPECIAL_PASSWORD not in repr(config)
    assert redact(f"the password is {SPECIAL_PASSWORD}") == "the password is ***"


def test_readme_uri_example(monkeypatch):
    monkeypatch.setenv(
        "AIRFLOW_CONN_KAFKA_README",
        "kafka-producer://alice:p%40ss%3Aw%2Fo%25rd@broker1%3A9092%2Cbroker2%3A9092/"
        "?ssl.ca.location=%2Fetc%2Fkafka%2Fca.pem&client.id=orders-app",
    )
    assert quote("p@ss:w/o%rd", safe="") == "p%40ss%3Aw%2Fo%25rd"
    assert dict(KafkaProducerHook("kafka_readme").producer_config()) == {**EXPECTED, "sasl.password": "p@ss:w/o%rd"}


def test_env_uri_form_with_a_single_server_and_port(monkeypatch):
    monkeypatch.setenv("AIRFLOW_CONN_KAFKA_ONE", "kafka-producer://broker1:9092")
    assert KafkaProducerHook("kafka_one").producer_config()["bootstrap.servers"] == "broker1:9092"


def test_the_forms_additional_properties_field_and_top_level_properties_both_count():
    extra = {"client.id": "orders-app", "additional_properties": {"ssl.ca.location": "/etc/kafka/ca.pem"}}
    assert extra_properties(extra) == {"client.id": "orders-app", "ssl.ca.location": "/etc/kafka/ca.pem"}
    assert extra_properties({"additional_properties": None}) == {}  # the form's field left empty
    assert extra_properties({"additional_properties": '{"acks": 1}'}) == {"acks": 1}  # given as JSON text


@pytest.mark.parametrize(
    ("extra", "error"),
    [
        ({"acks": "1", "additional_properties": {"acks": "all"}}, "sets 'acks' both at its top level and in"),
        ({"additional_properties": "[1]"}, "must be a JSON object such as"),
        ({"additional_properties": "{nope"}, "it is not valid JSON"),
    ],
)
def test_additional_properties_field_errors(extra, error):
    with pytest.raises(ProducerConfigError, match=error):
        extra_properties(extra)


def test_a_connection_saved_by_the_ui_form(monkeypatch):
    """What the Connections form stores: the additional properties as a JSON object under one key."""
    extra = {"additional_properties": {"ssl.ca.location": "/etc/kafka/ca.pem", "client.id": "orders-app"}}
    fields = {"host": "broker1:9092,broker2:9092", "login": "alice", "password": SPECIAL_PASSWORD}
    monkeypatch.setenv("AIRFLOW_CONN_KAFKA_FORM", json.dumps({"conn_type": "kafka_producer", **fields, "extra": extra}))
    assert dict(KafkaProducerHook("kafka_form").producer_config()) == EXPECTED


@pytest.mark.broker
def test_every_source_authenticates_against_the_broker_and_masks_the_password(broker, topic, tmp_path):
    require(broker.sasl_ssl and broker.plain_user and broker.tricky_user, "SASL_SSL listener with PLAIN users")
    tls = {"ssl.ca.location": str(broker.ca_file)} if broker.ca_file else {}
    plain, tricky = broker.plain_user, broker.tricky_user
    servers = broker.sasl_ssl
    backend_file = tmp_path / "connections.json"
    backend_file.write_text(
        json.dumps(
            {
                "kafka_backend": {
                    "conn_type": "kafka_producer",
                    "host": servers,
                    "login": plain.name,
                    "password": plain.password,
                    "extra": tls,
                }
            }
        )
    )
    query = "&".join(f"{quote(name)}={quote(value, safe='')}" for name, value in tls.items())
    uri = (
        f"kafka-producer://{quote(tricky.name, safe='')}:{quote(tricky.password, safe='')}"
        f"@{quote(servers, safe='')}/?{query}"
    )
    airflow = AirflowHome(
        tmp_path / "home",
        {
            "kafka_env_json": {
                "conn_type": "kafka_producer",
                "host": servers,
                "login": plain.name,
                "password": plain.password,
                "extra": tls,
            }
        },
        dags_folder=Path(__file__).parent / "dags",
    )
    airflow.env["AIRFLOW_CONN_KAFKA_ENV_URI"] = uri
    airflow.env["AIRFLOW__SECRETS__BACKEND"] = "airflow.secrets.local_filesystem.LocalFilesystemBackend"
    airflow.env["AIRFLOW__SECRETS__BACKEND_KWARGS"] = json.dumps({"connections_file_path": str(backend_file)})
    airflow.airflow(
        "connections", "add", "kafka_cli",
        "--conn-type", "kafka_producer",
        "--conn-host", servers,
        "--conn-login", tricky.name,
        "--conn-password", tricky.password,
        "--conn-extra", json.dumps(tls),
    )  # fmt: skip
    stored = json.loads(airflow.airflow("connections", "get", "kafka_cli", "-o", "json").stdout)[0]
    assert stored["is_encrypted"] == "True"  # the metadata database keeps the password encrypted (Fernet)

    run = airflow.test_dag("connection_sources", {"topic": topic})
    assert run.state == "success", run.output[-5000:]
    received = {record.key().decode(): record.value().decode() for record in broker.consume(topic, 4)}
    conn_ids = ["kafka_env_json", "kafka_env_uri", "kafka_cli", "kafka_backend"]
    assert received == {conn_id: f"sent with {conn_id}" for conn_id in conn_ids}
    # Airflow registered every connection's password with the secrets masker of the task, whatever its source.
    assert airflow.xcom("connection_sources", run.run_id, "masked_passwords") == {
        conn_id: "password: ***" for conn_id in conn_ids
    }
    for secret in (plain.password, tricky.password):
        assert secret not in run.output


def test_the_forms_tls_fields_are_no_properties_and_blank_ones_are_left_out():
    from airflow_provider_kafka_connector.connection_form import tls_fields

    extra = {
        "additional_properties": None,
        "ssl_ca_pem": "-----BEGIN CERTIFICATE-----...",
        "ssl_certificate_pem": "",
        "ssl_private_key_pem": None,
        "ssl_key_password": "pw",
    }
    assert extra_properties(extra) == {}
    assert tls_fields(extra) == {"ssl_ca_pem": "-----BEGIN CERTIFICATE-----...", "ssl_key_password": "pw"}
    with pytest.raises(ProducerConfigError, match="'ssl_ca_pem' must be text"):
        tls_fields({"ssl_ca_pem": ["x"]})
