"""OAuth 2.0 client credentials (OAUTHBEARER, KIP-768) through real Airflow (`airflow dags test`) at a broker whose
OAUTH listener accepts the tokens of a real OIDC token endpoint (harness.oidc_server) and makes a client present a
fresh one when its token expires: librdkafka's names, the Java client's (as hosted Kafka services document them) and
a JAAS line in the task succeed; a token the broker rejects and an unreachable token endpoint fail their task with
the cause; a batch outlives its token; no client secret is shown in the task logs or XCom.

That token endpoint issues a token for any client secret. A wrong secret is shown failing at the broker's IDP_OAUTH
listener, whose identity provider authenticates its clients (harness.identity_provider, Spring Authorization
Server): the right secret delivers there, a wrong one fails its task at once with the token endpoint's answer."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_kafka_connector.hooks.kafka_producer import KafkaProducerHook
from harness import identity_provider as idp
from harness import oidc_server as oidc
from harness.airflow_dag_run import AirflowHome
from harness.ports import free_port
from harness.pytest_plugin import FIGURES, OIDC_TOKEN_LIFETIME, allowed_urls

pytestmark = pytest.mark.broker

DAG_ID = "oauth"
TOPIC = "oauth"
BATCH_TOPIC = "oauth-batch"
BATCH_MESSAGES = 9 * 1000  # tests/dags/oauth.py: BATCH_CHUNKS * BATCH_CHUNK, sent over 8 s
BATCH_LABEL = "refresh-check"  # the scope "kafka refresh-check" marks the batch task's token requests
TASK_WITH_JAAS_LINE = "java_jaas_line_in_task"
OAUTH = "org.apache.kafka.common.security.oauthbearer"
FAST_SECONDS = 5
FORMS = ("librdkafka_names", "java_names", "java_names_older_handler", "java_client_id_property")
IDP_FORMS = ("idp_right_secret",)
WRONG_SECRET = "Wr0ng-1dp-s3cret;pw"
FAILURE_MESSAGES = {
    "wrong_audience": "rejected the OAuth token that {endpoint} issued to client 'airflow-kafka-client': "
    'sasl_ssl://{servers}/bootstrap: SASL authentication error: {{"status":"invalid_token"}}',
    "wrong_issuer": "rejected the OAuth token that {endpoint} issued to client 'airflow-kafka-client': "
    'sasl_ssl://{servers}/bootstrap: SASL authentication error: {{"status":"invalid_token"}}',
    "token_endpoint_unreachable": "No OAuth token from the token endpoint {endpoint}: Failed to connect to "
    "127.0.0.1:{port} after 0 ms: Could not connect to server. Check 'sasl.oauthbearer.token.endpoint.url'",
}
# The first line of the error: the identity provider's answer (HTTP 401) and the settings to check.
WRONG_SECRET_LINE = (
    "The token endpoint {endpoint} refused to issue an OAuth token (invalid_client): "
    '{{"error":"invalid_client"}}. It does not accept client \'airflow-kafka-client\' with the client secret given: '
    "check 'sasl.oauthbearer.client.id' and 'sasl.oauthbearer.client.secret' (the Java JAAS line's clientId and "
    "clientSecret)."
)
WRONG_SECRET_FAILURES = ("idp_wrong_secret", "idp_wrong_secret_in_jaas_line")


@dataclass(frozen=True)
class OAuthSetup:
    servers: str
    ca_file: str
    token_endpoint: str
    unreachable_endpoint: str
    idp_servers: str  # the IDP_OAUTH listener
    idp_token_endpoint: str

    def extras(self) -> dict[str, dict[str, Any]]:
        """The extra of each task's connection (kafka_<task>), and of kafka_oauth_endpoint_only (no client)."""
        tls = {"security.protocol": "SASL_SSL", "ssl.ca.location": self.ca_file}
        java_tls = {
            "security.protocol": "SASL_SSL",
            "ssl.truststore.type": "PEM",
            "ssl.truststore.location": self.ca_file,
        }

        def librdkafka(
            scope: str = oidc.SCOPE, endpoint: str = self.token_endpoint, secret: str = oidc.CLIENT_SECRET
        ) -> dict[str, str]:
            return {
                **tls,
                "sasl.mechanism": "OAUTHBEARER",
                "sasl.oauthbearer.method": "oidc",
                "sasl.oauthbearer.client.id": oidc.CLIENT_ID,
                "sasl.oauthbearer.client.secret": secret,
                "sasl.oauthbearer.token.endpoint.url": endpoint,
                "sasl.oauthbearer.scope": scope,
            }

        def java(
            handler: str = f"{OAUTH}.OAuthBearerLoginCallbackHandler",
            endpoint: str = self.token_endpoint,
            secret: str = oidc.CLIENT_SECRET,
        ) -> dict[str, str]:
            return {
                **java_tls,
                "sasl.mechanism": "OAUTHBEARER",
                "sasl.login.callback.handler.class": handler,
                "sasl.oauthbearer.token.endpoint.url": endpoint,
                "sasl.jaas.config": f'{OAUTH}.OAuthBearerLoginModule required clientId="{oidc.CLIENT_ID}" '
                f'clientSecret="{secret}" scope="{oidc.SCOPE}";',
            }

        return {
            "librdkafka_names": librdkafka(),
            "java_names": java(),
            "java_names_older_handler": java(f"{OAUTH}.secured.OAuthBearerLoginCallbackHandler"),
            # Kafka 4.1+ (KIP-1139): the client's id and secret as properties, the JAAS line without options.
            "java_client_id_property": {
                **java_tls,
                "sasl.mechanism": "OAUTHBEARER",
                "sasl.login.callback.handler.class": f"{OAUTH}.OAuthBearerLoginCallbackHandler",
                "sasl.oauthbearer.token.endpoint.url": self.token_endpoint,
                "sasl.oauthbearer.client.credentials.client.id": oidc.CLIENT_ID,
                "sasl.oauthbearer.client.credentials.client.secret": oidc.CLIENT_SECRET,
                "sasl.oauthbearer.scope": oidc.SCOPE,
                "sasl.jaas.config": f"{OAUTH}.OAuthBearerLoginModule required;",
            },
            "token_refreshed_mid_batch": librdkafka(f"{oidc.SCOPE} {BATCH_LABEL}"),
            "wrong_audience": librdkafka(oidc.WRONG_AUDIENCE_SCOPE),
            "wrong_issuer": librdkafka(oidc.WRONG_ISSUER_SCOPE),
            "token_endpoint_unreachable": librdkafka(endpoint=self.unreachable_endpoint),
            "oauth_endpoint_only": {k: v for k, v in java().items() if k != "sasl.jaas.config"},
            # At the IDP_OAUTH listener (host: idp_servers), whose identity provider authenticates the client.
            "idp_right_secret": librdkafka(endpoint=self.idp_token_endpoint, secret=idp.CLIENT_SECRET),
            "idp_wrong_secret": librdkafka(endpoint=self.idp_token_endpoint, secret=WRONG_SECRET),
            "idp_wrong_secret_in_jaas_line": java(endpoint=self.idp_token_endpoint, secret=WRONG_SECRET),
        }

    def host(self, name: str) -> str:
        """The bootstrap servers of the connection kafka_<name>."""
        return self.idp_servers if name.startswith("idp_") else self.servers

    def failure_message(self, name: str) -> str:
        endpoint = self.unreachable_endpoint if name == "token_endpoint_unreachable" else self.token_endpoint
        port = self.unreachable_endpoint.split(":")[2].split("/")[0]
        return FAILURE_MESSAGES[name].format(endpoint=endpoint, servers=self.servers, port=port)

    def wrong_secret_line(self) -> str:
        return WRONG_SECRET_LINE.format(endpoint=self.idp_token_endpoint)


@dataclass(frozen=True)
class OAuthRun:
    state: str
    output: str
    task_states: dict[str, str]
    xcoms: dict[tuple[str, str], Any]
    task_durations: dict[str, float]
    batch_token_requests: int


@pytest.fixture(scope="module")
def setup(oauth_broker, oidc_server, identity_provider) -> Iterator[OAuthSetup]:
    assert oauth_broker.oauth and oauth_broker.idp_oauth and oauth_broker.ca_file
    unreachable = f"http://127.0.0.1:{free_port()}/kafka/token"
    with allowed_urls(unreachable):  # listed by the deployment, but down
        yield OAuthSetup(
            oauth_broker.oauth,
            str(oauth_broker.ca_file),
            oidc_server.token_endpoint,
            unreachable,
            oauth_broker.idp_oauth,
            identity_provider.token_endpoint,
        )


@pytest.fixture(scope="module")
def oauth_run(oauth_broker, oidc_server, setup, tmp_path_factory) -> OAuthRun:
    connections = {
        f"kafka_{name}": {"conn_type": "kafka_producer", "host": setup.host(name), "extra": extra}
        for name, extra in setup.extras().items()
    }
    airflow = AirflowHome(tmp_path_factory.mktemp("airflow"), connections, dags_folder=Path(__file__).parent / "dags")
    airflow.env["AIRFLOW_VAR_OAUTH_CLIENT_SECRET"] = oidc.CLIENT_SECRET
    oauth_broker.create_topic(TOPIC)
    oauth_broker.create_topic(BATCH_TOPIC)
    started = time.monotonic()
    run = airflow.test_dag(DAG_ID, {"topic": TOPIC, "batch_topic": BATCH_TOPIC}, warm_api=True)
    FIGURES.append(f"the oauth DAG run ({len(run.task_states)} tasks) took {time.monotonic() - started:.1f} s")
    requests = oidc_server.token_requests(BATCH_LABEL)
    return OAuthRun(run.state, run.output, run.task_states, run.xcoms, run.task_durations, requests)


def test_every_form_of_oauth_login_delivers(oauth_run, oauth_broker):
    run = oauth_run
    succeeding = {*FORMS, *IDP_FORMS, TASK_WITH_JAAS_LINE}
    assert {task: run.task_states[task] for task in succeeding} == dict.fromkeys(succeeding, "success"), run.output[
        -5000:
    ]
    records = {r.key().decode(): r for r in oauth_broker.consume(TOPIC, len(succeeding))}
    assert records.keys() == succeeding
    for task in succeeding:
        response = run.xcoms[(task, "response")]
        assert (response["partition"], response["offset"]) == (records[task].partition(), records[task].offset())


def test_a_batch_outlives_its_tokens(oauth_run, oauth_broker):
    """The broker makes a client re-authenticate when its token expires (no clock skew allowed): a batch that
    outlasts its first token is delivered whole, on a token the client fetched while sending it, though
    librdkafka reports authentication errors on the way (a re-authentication the broker refuses, a token that
    expired while it was being checked) from which it recovers."""
    run = oauth_run
    assert run.task_states["token_refreshed_mid_batch"] == "success", run.output[-5000:]
    assert run.xcoms[("token_refreshed_mid_batch", "response")]["count"] == BATCH_MESSAGES
    assert len(oauth_broker.read_all(BATCH_TOPIC)) == BATCH_MESSAGES
    assert run.batch_token_requests >= 2, f"{run.batch_token_requests} token(s) for a batch that outlasts one"
    assert OIDC_TOKEN_LIFETIME < 8


def test_a_rejected_token_and_an_unreachable_token_endpoint_fail_with_the_cause(oauth_run, setup):
    run = oauth_run
    assert run.state == "failed"
    assert {task: run.task_states[task] for task in FAILURE_MESSAGES} == dict.fromkeys(FAILURE_MESSAGES, "failed")
    for task in FAILURE_MESSAGES:
        assert setup.failure_message(task) in run.output, task


def test_a_wrong_client_secret_fails_its_task_at_once_with_the_identity_providers_answer(oauth_run, setup):
    run = oauth_run
    failed = {task: run.task_states[task] for task in WRONG_SECRET_FAILURES}
    assert failed == dict.fromkeys(WRONG_SECRET_FAILURES, "failed"), run.output[-5000:]
    assert run.output.count(setup.wrong_secret_line()) >= len(WRONG_SECRET_FAILURES)
    for task in WRONG_SECRET_FAILURES:
        FIGURES.append(f"the oauth DAG's task {task} failed after {run.task_durations[task]:.2f} s")
        assert run.task_durations[task] < 3 * FAST_SECONDS, run.task_durations


def no_secret_in(text: str) -> bool:
    return all(secret not in text for secret in (oidc.CLIENT_SECRET, idp.CLIENT_SECRET, WRONG_SECRET))


# Rendered fields with a client secret: tests/test_secrets.py (oauth_jaas_in_task_properties).
def test_no_client_secret_in_logs_or_xcom(oauth_run):
    run = oauth_run
    assert "sasl.oauthbearer.client.secret': '***'" in run.output  # the logged configuration (the portable name)
    assert no_secret_in(run.output + str(run.xcoms))


# --- without Airflow processes: the Connections UI's Test, and how fast a task fails -----------------------------


@pytest.mark.parametrize("name", FORMS + IDP_FORMS)
def test_the_connections_test_succeeds_with_each_form(setup, kafka_connection, name):
    conn_id = kafka_connection(host=setup.host(name), extra=setup.extras()[name])
    ok, message = KafkaProducerHook(conn_id).test_connection()
    assert ok, message
    assert message.startswith("Connected to Kafka cluster ") and " over SASL_SSL" in message


@pytest.mark.parametrize("name", sorted(FAILURE_MESSAGES))
def test_each_failure_is_fast_and_the_same_in_the_connections_test(setup, fail, name):
    failure = fail(topic=TOPIC, host=setup.servers, extra=setup.extras()[name])
    assert failure.seconds < FAST_SECONDS
    assert setup.failure_message(name) in str(failure.error)
    ok, message = KafkaProducerHook(failure.conn_id).test_connection()
    assert not ok and setup.failure_message(name) in message
    assert oidc.CLIENT_SECRET not in str(failure.error) + message


@pytest.mark.parametrize("name", WRONG_SECRET_FAILURES)
def test_a_wrong_client_secret_is_fast_and_the_same_in_the_connections_test(setup, fail, name):
    failure = fail(topic=TOPIC, host=setup.idp_servers, extra=setup.extras()[name])
    assert failure.seconds < FAST_SECONDS
    assert str(failure.error).splitlines()[0] == setup.wrong_secret_line()
    ok, message = KafkaProducerHook(failure.conn_id).test_connection()
    assert not ok and setup.wrong_secret_line() in message
    assert no_secret_in(failure.shown + message)
