"""Google Managed Service for Apache Kafka through real Airflow against a broker that checks tokens as the service
does (harness.google_auth: the access token must be one the token service issued to the account the token names,
and not expired), with the real google-auth finding a service account key through Application Default Credentials.
Google's Java form and the callback named directly; the Connections Test, also with a key Google does not know; no
private key or access token in the log or XCom."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from airflow_provider_kafka_connector import google_managed_kafka
from airflow_provider_kafka_connector.hooks.kafka_producer import KafkaProducerHook
from harness.airflow_dag_run import AirflowHome

pytestmark = pytest.mark.broker

DAGS = Path(__file__).parent / "dags"
TOPIC = "google-managed-kafka"
ALLOWLIST = "AIRFLOW__KAFKA_CONNECTOR__CALLBACK_ALLOWLIST"
OAUTHBEARER = {"security.protocol": "SASL_SSL", "sasl.mechanism": "OAUTHBEARER"}


@pytest.fixture(scope="module")
def account(google_auth):
    return google_auth.create_service_account("airflow-orders")


@pytest.fixture(scope="module")
def connections(google_broker):
    tls = {"ssl.ca.location": str(google_broker.ca_file)}
    extras = {
        # Google's client properties for Java clients.
        "java_form": {
            **OAUTHBEARER,
            "sasl.login.callback.handler.class": "com.google.cloud.hosted.kafka.auth.GcpLoginCallbackHandler",
            "sasl.jaas.config": "org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required;",
        },
        "provider_form": {**OAUTHBEARER, "oauth_cb": google_managed_kafka.CALLBACK},
    }
    return {
        f"gmk_{name}": {"conn_type": "kafka_producer", "host": google_broker.google, "extra": {**extra, **tls}}
        for name, extra in extras.items()
    }


@pytest.fixture(scope="module")
def run(google_broker, google_auth, account, connections, tmp_path_factory):
    google_broker.create_topic(TOPIC)
    airflow = AirflowHome(tmp_path_factory.mktemp("airflow"), connections, dags_folder=DAGS)
    airflow.env = google_auth.environment(account, base=airflow.env)
    airflow.env[ALLOWLIST] = google_managed_kafka.CALLBACK
    result = airflow.test_dag("google_managed_kafka", {"topic": TOPIC})
    return result, google_broker.read_all(TOPIC, "read_uncommitted")


@pytest.mark.parametrize("form", ["java_form", "provider_form"])
def test_each_form_delivers_and_the_response_is_the_record(run, form):
    result, records = run
    record = result.delivered_record(form, records)
    assert (record.key(), record.value()) == (form.encode(), f"sent as {form}".encode())


def test_no_private_key_or_access_token_reaches_the_log_or_xcom(run, account, google_auth):
    result, _ = run
    shown = result.output + json.dumps({str(key): value for key, value in result.xcoms.items()})
    key_body = "".join(account.private_key_pem.splitlines()[1:-1])
    assert key_body[:64] not in shown and key_body[-64:] not in shown
    with google_auth._lock:
        issued = list(google_auth._tokens)
    assert issued  # the tasks got access tokens from the token service
    assert not [token for token in issued if token in shown]


def use_environment(monkeypatch, environment, connection_id, connection):
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv(ALLOWLIST, google_managed_kafka.CALLBACK)
    monkeypatch.setenv(f"AIRFLOW_CONN_{connection_id.upper()}", json.dumps(connection))


def test_the_connections_test_signs_in_as_the_service_account(google_auth, account, connections, monkeypatch):
    use_environment(
        monkeypatch, google_auth.environment(account, base={}), "gmk_java_form", connections["gmk_java_form"]
    )
    ok, message = KafkaProducerHook("gmk_java_form").test_connection()
    assert ok, message
    assert "over SASL_SSL" in message


def test_a_key_google_does_not_know_fails_naming_the_account(google_auth, account, connections, monkeypatch):
    unknown_key = google_auth.environment(account.with_another_key(), base={})
    use_environment(monkeypatch, unknown_key, "gmk_java_form", connections["gmk_java_form"])
    ok, message = KafkaProducerHook("gmk_java_form").test_connection()
    assert not ok
    assert message.startswith(f"Google did not issue an access token for {account.email}: "), message
    assert "invalid_grant" in message
