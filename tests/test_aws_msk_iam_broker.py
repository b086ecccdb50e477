"""Amazon MSK IAM through real Airflow against a broker that checks tokens as MSK does (harness.aws_iam: the SigV4
signature against the access key's secret, the region, the expiry, an assumed role's session token), with moto
standing in for AWS IAM and STS. MSK's two documented Java forms, a named profile, an assumed role, a key the cluster
refuses; the Connections Test; no secret key or session token in the log or XCom."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from airflow_provider_kafka_connector import aws_msk_iam
from airflow_provider_kafka_connector.hooks.kafka_producer import KafkaProducerHook
from harness.airflow_dag_run import AirflowHome
from harness.aws_iam import AwsCredentials
from harness.kafka_broker import MSK_REGION
from harness.pytest_plugin import FAILURE_REPORT

pytestmark = pytest.mark.broker

DAGS = Path(__file__).parent / "dags"
MSK = "software.amazon.msk.auth.iam"
TOPIC = "msk-iam"
ALLOWLIST = "AIRFLOW__KAFKA_CONNECTOR__CALLBACK_ALLOWLIST"
EXPIRED = "harness.token_callbacks.expired_msk_token"
IAM_FORM = {
    "security.protocol": "SASL_SSL",
    "sasl.mechanism": "AWS_MSK_IAM",
    "sasl.client.callback.handler.class": f"{MSK}.IAMClientCallbackHandler",
}


def iam_login(**options: str) -> str:
    return f"{MSK}.IAMLoginModule required" + "".join(f" {k}={json.dumps(v)}" for k, v in options.items()) + ";"


@pytest.fixture(scope="module")
def identities(aws_iam):
    worker = aws_iam.create_user("airflow-worker")
    reporting = aws_iam.create_user("reporting")
    aws_iam.write_profile("reporting", reporting, MSK_REGION)
    stale = AwsCredentials(worker.access_key_id, worker.secret_access_key[::-1], worker.arn)
    aws_iam.write_profile("stale", stale, MSK_REGION)
    role_arn = aws_iam.create_role("airflow-orders", trusted=worker)
    return worker, reporting, role_arn


@pytest.fixture(scope="module")
def connections(msk_broker, identities):
    _, _, role_arn = identities
    # The broker listens on loopback, whose address names no region: the extra gives it.
    base = {"ssl.ca.location": str(msk_broker.ca_file), "sasl.oauthbearer.config": f"region={MSK_REGION}"}
    extras = {
        "iam_form": {**IAM_FORM, "sasl.jaas.config": iam_login()},
        "oauthbearer_form": {
            "security.protocol": "SASL_SSL",
            "sasl.mechanism": "OAUTHBEARER",
            "sasl.jaas.config": "org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required;",
            "sasl.login.callback.handler.class": f"{MSK}.IAMOAuthBearerLoginCallbackHandler",
            "sasl.client.callback.handler.class": f"{MSK}.IAMOAuthBearerLoginCallbackHandler",
        },
        # The provider's own form: its token callback named directly, with the region (in the base).
        "provider_form": {
            "security.protocol": "SASL_SSL",
            "sasl.mechanism": "OAUTHBEARER",
            "oauth_cb": aws_msk_iam.CALLBACK,
        },
        "profile": {**IAM_FORM, "sasl.jaas.config": iam_login(awsProfileName="reporting")},
        "assumed_role": {
            **IAM_FORM,
            "sasl.jaas.config": iam_login(awsRoleArn=role_arn, awsRoleSessionName="dag-run", awsDebugCreds="true"),
        },
        "wrong_secret": {**IAM_FORM, "sasl.jaas.config": iam_login(awsProfileName="stale")},
        "wrong_region": {**IAM_FORM, "sasl.jaas.config": iam_login(), "sasl.oauthbearer.config": "region=us-east-1"},
        # A token callback of the test's: the provider's MSK token, signed 16 minutes ago.
        "expired_token": {"security.protocol": "SASL_SSL", "sasl.mechanism": "OAUTHBEARER", "oauth_cb": EXPIRED},
        "unlisted_callback": {
            "security.protocol": "SASL_SSL",
            "sasl.mechanism": "OAUTHBEARER",
            "oauth_cb": "harness.token_callbacks.client_credentials",
        },
    }
    return {
        f"msk_{name}": {"conn_type": "kafka_producer", "host": msk_broker.msk_iam, "extra": {**base, **extra}}
        for name, extra in extras.items()
    }


@pytest.fixture(scope="module")
def run(msk_broker, aws_iam, identities, connections, tmp_path_factory):
    worker, _, _ = identities
    msk_broker.create_topic(TOPIC)
    airflow = AirflowHome(tmp_path_factory.mktemp("airflow"), connections, dags_folder=DAGS)
    airflow.env = aws_iam.environment(MSK_REGION, credentials=worker, base=airflow.env)
    airflow.env[ALLOWLIST] = f"{aws_msk_iam.CALLBACK},{EXPIRED}"
    result = airflow.test_dag("msk_iam", {"topic": TOPIC})
    return result, msk_broker.read_all(TOPIC, "read_uncommitted")


@pytest.mark.parametrize("form", ["iam_form", "oauthbearer_form", "provider_form", "profile", "assumed_role"])
def test_each_form_delivers_and_the_response_is_the_record(run, form):
    result, records = run
    record = result.delivered_record(form, records)
    assert (record.key(), record.value()) == (form.encode(), f"sent as {form}".encode())


def test_a_batch_is_delivered_whole(run):
    result, records = run
    assert result.task_states["batch"] == "success", result.output[-3000:]
    assert result.xcoms[("batch", "response")]["count"] == 1000
    assert sorted(r.value() for r in records if r.key() == b"batch") == sorted(
        f"message {n}".encode() for n in range(1000)
    )


def test_the_options_msks_library_has_and_the_provider_ignores_are_named(run):
    result, _ = run
    assert "these options are ignored: awsDebugCreds" in result.output


def test_a_key_the_cluster_refuses_fails_fast_naming_the_region_and_the_key(run, identities):
    result, _ = run
    worker, _, _ = identities
    failed_naming(result, "wrong_secret", f"signed for region {MSK_REGION}, access key id {worker.access_key_id}")
    assert result.task_durations["wrong_secret"] < 10


def failed_naming(result, task_id: str, words: str) -> None:
    """The task failed, and its error says `words`: recorded with its time for the failure report."""
    assert result.task_states[task_id] == "failed"
    line = next((line for line in result.output.splitlines() if words in line and "Error: " in line), None)
    assert line is not None, result.output[-3000:]
    FAILURE_REPORT.append((f"msk_iam {task_id}", result.task_durations[task_id], line.split("Error: ", 1)[1]))


def test_a_token_for_another_region_fails_fast_naming_that_region(run, identities):
    result, _ = run
    worker, _, _ = identities
    failed_naming(result, "wrong_region", f"signed for region us-east-1, access key id {worker.access_key_id}")
    assert result.task_durations["wrong_region"] < 10


def test_an_expired_token_fails_fast_naming_the_callback(run):
    result, _ = run
    failed_naming(result, "expired_token", f"rejected the OAuth token from the token callback {EXPIRED!r}")
    assert result.task_durations["expired_token"] < 10


def test_an_unlisted_callback_is_refused_before_connecting(run):
    result, _ = run
    words = "'harness.token_callbacks.client_credentials' to [kafka_connector] callback_allowlist"
    failed_naming(result, "unlisted_callback", words)
    assert result.task_durations["unlisted_callback"] < 5


def test_no_secret_key_or_session_token_reaches_the_log_or_xcom(run, identities, aws_iam):
    result, _ = run
    worker, reporting, _ = identities
    sessions = aws_iam.sessions()  # the assumed_role task's, among them
    assert sessions
    shown = result.output + json.dumps({str(key): value for key, value in result.xcoms.items()})
    secrets = [worker.secret_access_key, reporting.secret_access_key, worker.secret_access_key[::-1]]
    for session in sessions:
        assert session.session_token
        secrets += [session.secret_access_key, session.session_token, session.session_token[:40]]
    assert [secret for secret in secrets if secret in shown] == []


def test_the_connections_test_signs_in_and_says_so(msk_broker, aws_iam, identities, connections, monkeypatch):
    worker, _, _ = identities
    for name, value in aws_iam.environment(MSK_REGION, credentials=worker, base={}).items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv(ALLOWLIST, aws_msk_iam.CALLBACK)
    monkeypatch.setenv("AIRFLOW_CONN_MSK_IAM_FORM", json.dumps(connections["msk_iam_form"]))
    ok, message = KafkaProducerHook("msk_iam_form").test_connection()
    assert ok, message
    assert "over SASL_SSL" in message


def test_the_connections_test_without_credentials_says_where_it_looked(
    msk_broker, aws_iam, connections, monkeypatch, tmp_path
):
    for name, value in aws_iam.environment(MSK_REGION, base={}).items():
        monkeypatch.setenv(name, value)
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv(ALLOWLIST, aws_msk_iam.CALLBACK)
    monkeypatch.setenv("AIRFLOW_CONN_MSK_IAM_FORM", json.dumps(connections["msk_iam_form"]))
    ok, message = KafkaProducerHook("msk_iam_form").test_connection()
    assert not ok
    assert message.startswith("No AWS credentials found for Amazon MSK IAM authentication")
