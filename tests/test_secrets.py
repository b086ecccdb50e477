"""Secrets never reach task logs, rendered templates, `airflow tasks render` or XCom (real Airflow, real broker)."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.airflow_dag_run import AirflowHome
from harness.pytest_plugin import require

pytestmark = pytest.mark.broker

CONNECTION_SECRET = "Conn-Secret-7Hq'\"; =\\ü"
JAAS_SECRET = "Jaas-Secret-9Wx;=ü"
SECRET_PARTS = [CONNECTION_SECRET, JAAS_SECRET, CONNECTION_SECRET[:11], JAAS_SECRET[:11]]


@pytest.fixture(scope="module")
def failed_run(broker, tmp_path_factory):
    require(broker.sasl_ssl and broker.plain_user, "SASL_SSL listener with a PLAIN user")
    tls = {"ssl.ca.location": str(broker.ca_file)}
    airflow = AirflowHome(
        tmp_path_factory.mktemp("airflow"),
        {
            "kafka_producer_default": {"conn_type": "kafka_producer", "host": broker.plaintext},
            "kafka_with_password": {
                "conn_type": "kafka_producer",
                "host": broker.sasl_ssl,
                "login": broker.plain_user.name,
                "password": CONNECTION_SECRET,
                "extra": tls,
            },
            "kafka_tls_only": {
                "conn_type": "kafka_producer",
                "host": broker.sasl_ssl,
                "extra": {**tls, "security.protocol": "SASL_SSL"},
            },
        },
        dags_folder=Path(__file__).parent / "dags",
    )
    airflow.env["AIRFLOW_VAR_KAFKA_JAAS_VALUE"] = JAAS_SECRET
    broker.create_topic("secret-cases")
    run = airflow.test_dag("secret_cases", {"topic": "secret-cases"})
    return airflow, run


def assert_no_secret(text: str) -> None:
    for part in SECRET_PARTS:
        assert part not in text


def test_tasks_fail_with_the_cause(failed_run):
    _, run = failed_run
    assert run.state == "failed"
    assert "Authentication failed for user 'plain-user' with mechanism PLAIN" in run.output
    assert "The message value cannot be sent: Object of type set is not JSON serializable" in run.output


def test_no_secret_in_task_logs(failed_run):
    assert_no_secret(failed_run[1].output)


def test_no_secret_in_stored_rendered_fields(failed_run):
    airflow, run = failed_run
    rendered = airflow.rendered_fields("secret_cases", run.run_id, "jaas_in_task_properties")
    assert "sasl.jaas.config" in rendered["additional_properties"]
    assert_no_secret(str(rendered))


def test_no_secret_in_airflow_tasks_render(failed_run):
    airflow, run = failed_run
    shown = airflow.airflow("tasks", "render", "secret_cases", "jaas_in_task_properties", run.run_id)
    assert "sasl.jaas.config" in shown.stdout
    assert_no_secret(shown.stdout + shown.stderr)


def test_no_xcom_from_failed_tasks(failed_run):
    airflow, run = failed_run
    assert airflow.xcoms("secret_cases", run.run_id) == {}
