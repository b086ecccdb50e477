"""Secrets never reach task logs, rendered templates, `airflow tasks render` or XCom (real Airflow, real broker)."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.airflow_dag_run import AirflowHome
from harness.ports import free_port
from harness.pytest_plugin import allowed_urls, require

pytestmark = pytest.mark.broker

OAUTH_LOGIN_HANDLER = "org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginCallbackHandler"

CONNECTION_SECRET = "Conn-Secret-7Hq'\"; =\\ü"
JAAS_SECRET = "Jaas-Secret-9Wx;=ü"
OAUTH_JAAS_SECRET = "OAuth-Jaas-Secret-8Rt;=ü"
SECRET_PARTS = [CONNECTION_SECRET, JAAS_SECRET, CONNECTION_SECRET[:11], JAAS_SECRET[:11], OAUTH_JAAS_SECRET[-12:]]


@pytest.fixture(scope="module")
def failed_run(broker, tmp_path_factory):
    require(broker.sasl_ssl and broker.plain_user, "SASL_SSL listener with a PLAIN user")
    tls = {"ssl.ca.location": str(broker.ca_file)}
    # No OIDC server here: the token endpoint is a closed port, and the tasks fail before any broker connection.
    closed_url = f"http://127.0.0.1:{free_port()}/token"
    oauth = {
        **tls,
        "security.protocol": "SASL_SSL",
        "sasl.mechanism": "OAUTHBEARER",
        "sasl.oauthbearer.token.endpoint.url": closed_url,
    }
    with allowed_urls(closed_url):  # listed by the deployment, but down
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
                "kafka_oauth_endpoint_only": {
                    "conn_type": "kafka_producer",
                    "host": broker.sasl_ssl,
                    "extra": {
                        **oauth,
                        "sasl.login.callback.handler.class": OAUTH_LOGIN_HANDLER,
                    },
                },
            },
            dags_folder=Path(__file__).parent / "dags",
        )
    airflow.env["AIRFLOW_VAR_KAFKA_JAAS_VALUE"] = JAAS_SECRET
    airflow.env["AIRFLOW_VAR_KAFKA_OAUTH_JAAS_SECRET"] = OAUTH_JAAS_SECRET
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
    assert "No OAuth token from the token endpoint http://127.0.0.1:" in run.output
    assert run.task_states["oauth_jaas_in_task_properties"] == "failed"


def test_no_secret_in_task_logs(failed_run):
    assert_no_secret(failed_run[1].output)


def test_no_secret_in_stored_rendered_fields(failed_run):
    airflow, run = failed_run
    tasks = ("jaas_in_task_properties", "oauth_jaas_in_task_properties")
    rendered = airflow.tasks_rendered_fields("secret_cases", run.run_id, *tasks)
    for task in tasks:
        assert rendered[task]["additional_properties"]["sasl.jaas.config"] == "***"
    assert_no_secret(str(rendered))


def test_no_secret_in_airflow_tasks_render(failed_run):
    airflow, run = failed_run
    shown = airflow.airflow("tasks", "render", "secret_cases", "jaas_in_task_properties", run.run_id)
    assert "sasl.jaas.config" in shown.stdout
    assert_no_secret(shown.stdout + shown.stderr)


def test_no_xcom_from_failed_tasks(failed_run):
    airflow, run = failed_run
    assert airflow.xcoms("secret_cases", run.run_id) == {}
