"""Mutual TLS through real Airflow (`airflow dags test`) at the test broker's SSL listener, which requires a client
certificate: every form of giving one, in librdkafka's names, the Java client's and the Connections form's fields,
succeeds; a refused or unreadable one fails its task with the cause; no key, key password or keystore password is
shown in the task logs, XCom or rendered fields."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_kafka_connector.hooks.kafka_producer import KafkaProducerHook
from harness.airflow_dag_run import AirflowHome
from harness.pytest_plugin import require

pytestmark = pytest.mark.broker

DAG_ID = "mutual_tls"
TOPIC = "mutual-tls"
WRONG_KEY_PASSWORD = "Wrong-Key-Pass-5t;x"
TASK_WITH_INLINE_KEY = "java_pem_keystore_in_task"
FAST_SECONDS = 5
# The connections (kafka_<name>) that give a client certificate the broker accepts, one for each form.
FORMS = (
    "pem_files",
    "encrypted_key_file",
    "inline_pem",
    "pkcs12_keystore",
    "java_pkcs12_keystore",
    "java_pem_keystore_file",
    "java_pem_keystore_inline",
    "connection_form_fields",
)
FAILURE_MESSAGES = {
    "no_client_certificate": "refused the client certificate: it ended the TLS handshake with alert 42 "
    "bad_certificate (ssl/tls alert bad certificate: SSL alert number 42). No client certificate is configured",
    "untrusted_client_certificate": "alert 42 bad_certificate (ssl/tls alert bad certificate: SSL alert number 42). "
    "The client certificate was not sent: it is not signed by a CA the broker trusts.",
    "expired_client_certificate": "alert 46 certificate_unknown (ssl/tls alert certificate unknown: SSL alert number "
    "46). The broker does not accept the client certificate: check that it has not expired",
    "wrong_key_password": "Invalid TLS client configuration: Failed to create producer: ssl.key.location failed: "
    "error:0A080009:SSL routines::PEM lib. The client's private key cannot be read: if it is encrypted",
    "key_of_another_certificate": "Invalid TLS client configuration: Failed to create producer: ssl.key.location "
    "failed: error:05800074:x509 certificate routines::key values mismatch. The private key does not belong",
}


@dataclass(frozen=True)
class MutualTlsRun:
    state: str
    output: str
    task_states: dict[str, str]
    xcoms: dict[tuple[str, str], Any]
    rendered: dict[str, Any]  # the fields of the task with the inline key


def one_line(pem: str) -> str:
    """What a one-line (password) input keeps of pasted PEM text: no line breaks."""
    return pem.replace("\r", "").replace("\n", "")


@pytest.fixture(scope="module")
def secrets(broker) -> list[str]:
    require(broker.ssl and broker.client_certificates and broker.ca_file, "SSL listener with client certificates")
    certs = broker.client_certificates
    keys = [certs.key(name).read_text() for name in ("client", "encrypted", "expired", "untrusted")]
    key_lines = [line for key in keys for line in key.splitlines() if "-----" not in line]
    return [certs.key_password, certs.keystore_password, WRONG_KEY_PASSWORD, *key_lines]


def connection_extras(broker) -> dict[str, dict[str, Any]]:
    """The extra of each task's connection (kafka_<task>), and of kafka_tls_only (trust, no client certificate)."""
    certs = broker.client_certificates
    ca_file = str(broker.ca_file)
    ca_pem = broker.ca_file.read_text()
    tls = {"security.protocol": "SSL", "ssl.ca.location": ca_file}
    java_tls = {"security.protocol": "SSL", "ssl.truststore.type": "PEM", "ssl.truststore.location": ca_file}

    def files(name: str, key: str | None = None, **more: str) -> dict[str, str]:
        pair = {"ssl.certificate.location": str(certs.cert(name)), "ssl.key.location": str(certs.key(key or name))}
        return {**tls, **pair, **more}

    pkcs12 = {"ssl.keystore.location": str(certs.pkcs12_keystore), "ssl.keystore.password": certs.keystore_password}
    encrypted_key, encrypted_chain = certs.key("encrypted").read_text(), certs.cert("encrypted").read_text() + ca_pem
    extras = {
        "pem_files": files("client"),
        "encrypted_key_file": files("encrypted", **{"ssl.key.password": certs.key_password}),
        "inline_pem": {
            "security.protocol": "SSL",
            "ssl.ca.pem": ca_pem,
            "ssl.certificate.pem": certs.cert().read_text(),
            "ssl.key.pem": certs.key().read_text(),
        },
        "pkcs12_keystore": {**tls, **pkcs12},
        "java_pkcs12_keystore": {**java_tls, "ssl.keystore.type": "PKCS12", **pkcs12},
        "java_pem_keystore_file": {
            **java_tls,
            "ssl.keystore.type": "PEM",
            "ssl.keystore.location": str(certs.encrypted_pem_keystore),
            "ssl.key.password": certs.key_password,
        },
        "java_pem_keystore_inline": {
            **java_tls,
            "ssl.keystore.type": "PEM",
            "ssl.keystore.key": encrypted_key,
            "ssl.keystore.certificate.chain": encrypted_chain,
            "ssl.key.password": certs.key_password,
        },
        # As the Connections form stores them; the masked key field lost the key's line breaks.
        "connection_form_fields": {
            "ssl_ca_pem": ca_pem,
            "ssl_certificate_pem": certs.cert("encrypted").read_text(),
            "ssl_private_key_pem": one_line(encrypted_key),
            "ssl_key_password": certs.key_password,
            "additional_properties": None,
        },
        "no_client_certificate": tls,
        "untrusted_client_certificate": files("untrusted"),
        "expired_client_certificate": files("expired"),
        "wrong_key_password": files("encrypted", **{"ssl.key.password": WRONG_KEY_PASSWORD}),
        "key_of_another_certificate": files("client", key="expired"),
        "tls_only": java_tls,
    }
    return extras


@pytest.fixture(scope="module")
def mutual_tls_run(broker, secrets, tmp_path_factory):
    certs = broker.client_certificates
    extras = connection_extras(broker)
    connections = {
        f"kafka_{name}": {"conn_type": "kafka_producer", "host": broker.ssl, "extra": extra}
        for name, extra in extras.items()
    }
    encrypted_key = certs.key("encrypted").read_text()
    encrypted_chain = extras["java_pem_keystore_inline"]["ssl.keystore.certificate.chain"]
    airflow = AirflowHome(tmp_path_factory.mktemp("airflow"), connections, dags_folder=Path(__file__).parent / "dags")
    airflow.env |= {
        "AIRFLOW_VAR_MTLS_KEY": encrypted_key,
        "AIRFLOW_VAR_MTLS_CHAIN": encrypted_chain,
        "AIRFLOW_VAR_MTLS_PASS": certs.key_password,
    }
    broker.create_topic(TOPIC)
    run = airflow.test_dag(DAG_ID, {"topic": TOPIC})
    rendered = airflow.rendered_fields(DAG_ID, run.run_id, TASK_WITH_INLINE_KEY)
    return MutualTlsRun(run.state, run.output, run.task_states, run.xcoms, rendered)


def test_every_form_of_client_certificate_delivers(mutual_tls_run, broker):
    run = mutual_tls_run
    states = run.task_states
    succeeding = sorted(states.keys() - FAILURE_MESSAGES.keys())
    assert set(succeeding) == {*FORMS, TASK_WITH_INLINE_KEY}
    assert {task: states[task] for task in succeeding} == dict.fromkeys(succeeding, "success"), run.output[-5000:]
    records = {r.key().decode(): r for r in broker.consume(TOPIC, len(succeeding))}
    assert records.keys() == set(succeeding)
    for task in succeeding:
        response = run.xcoms[(task, "response")]
        assert (response["partition"], response["offset"]) == (records[task].partition(), records[task].offset())


def test_refused_and_unreadable_client_certificates_fail_with_the_cause(mutual_tls_run):
    run = mutual_tls_run
    assert run.state == "failed"
    states = run.task_states
    assert {task: states[task] for task in FAILURE_MESSAGES} == dict.fromkeys(FAILURE_MESSAGES, "failed")
    for task, message in FAILURE_MESSAGES.items():
        assert message in run.output, task
    assert "does not speak" not in run.output  # the old misdiagnosis: a protocol mismatch


def test_no_key_or_password_in_logs_xcom_or_rendered_fields(mutual_tls_run, secrets):
    run = mutual_tls_run
    assert run.rendered["additional_properties"]["ssl.keystore.type"] == "PEM"
    assert run.rendered["additional_properties"]["ssl.keystore.key"] == "***"
    shown = "\n".join([run.output, str(run.xcoms), str(run.rendered)])
    for secret in secrets:
        assert secret not in shown


# --- without Airflow processes: the Connections UI's Test, and how fast a task fails -----------------------------


@pytest.mark.parametrize("name", FORMS)
def test_the_connections_test_succeeds_with_each_form(broker, secrets, kafka_connection, name):
    conn_id = kafka_connection(host=broker.ssl, extra=connection_extras(broker)[name])
    ok, message = KafkaProducerHook(conn_id).test_connection()
    assert ok, message
    assert message.startswith("Connected to Kafka cluster ") and " over SSL: " in message


@pytest.mark.parametrize("name", sorted(FAILURE_MESSAGES))
def test_each_failure_is_fast_and_the_same_in_the_connections_test(broker, secrets, fail, name):
    failure = fail(topic=TOPIC, host=broker.ssl, extra=connection_extras(broker)[name])
    assert failure.seconds < FAST_SECONDS
    assert FAILURE_MESSAGES[name] in str(failure.error)
    ok, message = KafkaProducerHook(failure.conn_id).test_connection()
    assert not ok and FAILURE_MESSAGES[name] in message
    for secret in secrets:
        assert secret not in str(failure.error) + message
