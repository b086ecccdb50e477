"""The harness's pytest plugin, registered through the `pytest11` entry point `kafka_connector_harness` (so it is
active wherever the harness is installed; `-p no:kafka_connector_harness` turns it off).

Fixtures:
    broker            one real Kafka broker per session (harness.kafka_broker), or the one KAFKA_BOOTSTRAP_SERVERS
                      and friends describe (see harness.kafka_broker.broker_env)
    kafka_cluster     a real three-node Kafka cluster (harness.kafka_cluster: RF 3, min.insync.replicas 2) per
                      test module, started only for a test that asks for it; its start time and the nodes' RSS are
                      reported. Each test gets all three nodes running: nodes a test left stopped are started again
                      first
    new_topic         new_topic(partitions=3) creates a topic named after the test and returns its name
    topic             one such topic
    kafka_connection  kafka_connection(conn_id="kafka_test", **fields) defines an Airflow connection of type
                      kafka_producer through AIRFLOW_CONN_<ID>, as a deployment would
    airflow_deployment  one real Airflow deployment per test module (harness.airflow_deployment: scheduler, DAG
                      processor, API server, LocalExecutor), with the DAGs of the ini option
                      kafka_harness_deployment_dags (default tests/dags/deployment) and the connection
                      kafka_harness to the broker
    schema_registry   one real Schema Registry (Apicurio, Confluent-compatible API, basic auth) per test module,
                      started only when a test asks for it (harness.schema_registry)
    oidc_server       one real OAuth 2.0 / OIDC token endpoint (harness.oidc_server) per test module, whose tokens
                      live OIDC_TOKEN_LIFETIME seconds, so that a client refreshes them during a test
    identity_provider one real identity provider per test module (harness.identity_provider: Spring Authorization
                      Server), which authenticates OAuth clients (a wrong client secret is refused); it starts in the
                      background from identity_provider_starting on (a Future of it)
    oauth_broker      a broker of its own per test module with the OAUTH listener (SASL_SSL, OAUTHBEARER), which
                      accepts oidc_server's tokens and makes a client present a fresh one when its token expires,
                      and the IDP_OAUTH listener, which accepts identity_provider's
    aws_iam           one stand-in for AWS IAM and STS per test module (harness.aws_iam: moto's server in this
                      process, and the credential lookup of the MSK_IAM listener): create_user, create_role,
                      assume_role, write_profile, environment
    msk_broker        a broker of its own per test module with the MSK_IAM listener (KafkaBroker.msk_iam, SASL_SSL,
                      OAUTHBEARER), which authenticates clients as Amazon MSK with IAM authentication does, for the
                      region MSK_REGION (KafkaBroker.msk_iam_region) and aws_iam's credentials
    google_auth       one stand-in for Google's OAuth 2.0 token service per test module (harness.google_auth: a token
                      endpoint for google-auth's service-account credentials and the token info the GOOGLE listener
                      asks, in this process): create_service_account, key_file, environment
    google_broker     a broker of its own per test module with the GOOGLE listener (KafkaBroker.google, SASL_SSL,
                      OAUTHBEARER), which authenticates clients as Google Cloud Managed Service for Apache Kafka does:
                      Google's Kafka tokens around google_auth's access tokens, as the service account's e-mail

The fixtures of services that a producer sends requests to (schema_registry, oidc_server, identity_provider) add
their URLs to the provider's [kafka_connector] allowed_urls while they run, through the environment that this
process and every Airflow process it starts read, as a deployment's administrator would.

Also:
    require(value, what)  skips a test whose feature an external broker did not describe
    CI=true               turns every skip into a failure (ini option kafka_harness_fail_skips_in_ci = false: off)
    FAILURE_REPORT        (test, seconds to failure, error's first line) rows, printed in the terminal summary
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import time
import uuid
from collections.abc import Callable, Generator, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING

import pluggy
import pytest

from harness.airflow_deployment import AirflowDeployment, running_airflow
from harness.identity_provider import IdentityProvider, start_identity_provider
from harness.identity_provider import fetch_jars as fetch_identity_provider
from harness.kafka_broker import MSK_REGION, KafkaBroker, broker_env, existing_broker_from_env, running_broker
from harness.kafka_cluster import KafkaCluster, running_cluster
from harness.oidc_server import OidcServer, running_oidc_server
from harness.schema_registry import SchemaRegistry, running_schema_registry

if TYPE_CHECKING:
    from harness.aws_iam import AwsIam
    from harness.google_auth import GoogleAuth

FAIL_SKIPS_IN_CI = "kafka_harness_fail_skips_in_ci"
DEPLOYMENT_DAGS = "kafka_harness_deployment_dags"
# (test, seconds to failure, first line of the error the user sees), e.g. filled by tests/test_failures.py.
FAILURE_REPORT: list[tuple[str, float, str]] = []
# Measured figures printed in the terminal summary (e.g. the cluster's start time and memory).
FIGURES: list[str] = []
OIDC_TOKEN_LIFETIME = 6


def running_in_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"


def require(value: object, what: str) -> None:
    """Skip a test whose broker feature an external KAFKA_BOOTSTRAP_SERVERS broker did not describe."""
    if value is None:
        pytest.skip(f"the external broker gives no {what}")


@pytest.fixture(scope="session")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KafkaBroker]:
    existing = existing_broker_from_env()
    if existing is not None:
        yield existing
        return
    with running_broker(tmp_path_factory.mktemp("kafka")) as started:
        yield started


ALLOWED_URLS_VARIABLE = "AIRFLOW__KAFKA_CONNECTOR__ALLOWED_URLS"


@contextlib.contextmanager
def allowed_urls(*urls: str) -> Iterator[None]:
    """These URLs in [kafka_connector] allowed_urls (its environment variable) until the block ends; other entries,
    added before or meanwhile, stay."""
    os.environ[ALLOWED_URLS_VARIABLE] = ",".join(filter(None, [os.environ.get(ALLOWED_URLS_VARIABLE, ""), *urls]))
    try:
        yield
    finally:
        remaining = os.environ.get(ALLOWED_URLS_VARIABLE, "").split(",")
        for url in urls:
            remaining.remove(url)
        os.environ[ALLOWED_URLS_VARIABLE] = ",".join(remaining)


@pytest.fixture(scope="module")
def schema_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SchemaRegistry]:
    with running_schema_registry(tmp_path_factory.mktemp("schema-registry")) as started, allowed_urls(started.url):
        yield started


@pytest.fixture(scope="module")
def oidc_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OidcServer]:
    started = time.monotonic()
    with running_oidc_server(tmp_path_factory.mktemp("oidc-server"), OIDC_TOKEN_LIFETIME) as server:
        FIGURES.append(f"OIDC token endpoint (mock-oauth2-server) started in {time.monotonic() - started:.1f} s")
        with allowed_urls(server.token_endpoint):
            yield server


# Its own broker, not a listener of the session's: that would start the OIDC server in every session.
@pytest.fixture(scope="module")
def oauth_broker(
    identity_provider_starting: Future[IdentityProvider],
    oidc_server: OidcServer,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[KafkaBroker]:
    directory = tmp_path_factory.mktemp("kafka-oauth")
    identity_provider = identity_provider_starting.result()  # it started while oidc_server did
    started = time.monotonic()
    with running_broker(directory, oidc=oidc_server, idp=identity_provider) as broker:
        FIGURES.append(f"Kafka broker with the OAuth listeners started in {time.monotonic() - started:.1f} s")
        with allowed_urls(identity_provider.token_endpoint):
            yield broker


@pytest.fixture(scope="module")
def aws_iam(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AwsIam]:
    # Imported here: moto and boto3 take a second to import, which every other test session would pay.
    from harness.aws_iam import running_aws_iam

    with running_aws_iam(tmp_path_factory.mktemp("aws-iam")) as started:
        yield started


# Its own broker too: the MSK_IAM listener's credential lookup runs in the process that started aws_iam.
@pytest.fixture(scope="module")
def msk_broker(aws_iam: AwsIam, tmp_path_factory: pytest.TempPathFactory) -> Iterator[KafkaBroker]:
    started = time.monotonic()
    with running_broker(tmp_path_factory.mktemp("kafka-msk-iam"), aws_iam=aws_iam, msk_region=MSK_REGION) as broker:
        FIGURES.append(f"Kafka broker with the MSK_IAM listener started in {time.monotonic() - started:.1f} s")
        yield broker


@pytest.fixture(scope="module")
def google_auth(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GoogleAuth]:
    # Imported here, as aws_iam: only the sessions that test Google's authentication generate RSA keys.
    from harness.google_auth import running_google_auth

    with running_google_auth(tmp_path_factory.mktemp("google-auth")) as started:
        yield started


# Its own broker too: the GOOGLE listener's token info runs in the process that started google_auth.
@pytest.fixture(scope="module")
def google_broker(google_auth: GoogleAuth, tmp_path_factory: pytest.TempPathFactory) -> Iterator[KafkaBroker]:
    started = time.monotonic()
    with running_broker(tmp_path_factory.mktemp("kafka-google"), google_auth=google_auth) as broker:
        FIGURES.append(f"Kafka broker with the GOOGLE listener started in {time.monotonic() - started:.1f} s")
        yield broker


@pytest.fixture(scope="module")
def identity_provider_starting(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Future[IdentityProvider]]:
    """identity_provider, built (the first time) and started in a thread of its own, so that it starts while the
    fixtures asked for after this one do."""
    directory = tmp_path_factory.mktemp("identity-provider")

    def start() -> IdentityProvider:
        started = time.monotonic()
        fetch_identity_provider()
        built = time.monotonic()
        provider = start_identity_provider(directory)
        FIGURES.append(
            f"identity provider (Spring Authorization Server) built or found in {built - started:.1f} s, "
            f"started in {time.monotonic() - built:.1f} s (in the background)"
        )
        return provider

    with ThreadPoolExecutor(1, thread_name_prefix="identity-provider") as pool:
        future = pool.submit(start)
        try:
            yield future
        finally:
            if future.exception() is None:
                future.result().stop()


@pytest.fixture(scope="module")
def identity_provider(identity_provider_starting: Future[IdentityProvider]) -> Iterator[IdentityProvider]:
    provider = identity_provider_starting.result()
    with allowed_urls(provider.token_endpoint):
        yield provider


@pytest.fixture
def kafka_cluster(module_kafka_cluster: KafkaCluster) -> KafkaCluster:
    module_kafka_cluster.ensure_all_running()
    return module_kafka_cluster


# Per module, not per session: three idle JVMs cost the rest of a test session a third of a core.
@pytest.fixture(scope="module")
def module_kafka_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KafkaCluster]:
    started = time.monotonic()
    with running_cluster(tmp_path_factory.mktemp("kafka-cluster")) as cluster:
        rss = ", ".join(f"node {n}: {size / 2**20:.0f} MiB" for n, size in sorted(cluster.rss_bytes().items()))
        FIGURES.append(f"3-node Kafka cluster started in {time.monotonic() - started:.1f} s; JVM RSS {rss}")
        yield cluster


@pytest.fixture
def new_topic(broker: KafkaBroker, request: pytest.FixtureRequest) -> Callable[..., str]:
    def create(partitions: int = 3) -> str:
        name = re.sub(r"[^A-Za-z0-9._-]", "_", request.node.name)[:80] + "-" + uuid.uuid4().hex[:8]
        broker.create_topic(name, partitions=partitions)
        return name

    return create


@pytest.fixture
def topic(new_topic: Callable[..., str]) -> str:
    return new_topic()


@pytest.fixture
def kafka_connection(monkeypatch: pytest.MonkeyPatch) -> Callable[..., str]:
    """Defines an Airflow connection of our type through AIRFLOW_CONN_<ID>, as a deployment would."""

    def define(conn_id: str = "kafka_test", **fields: object) -> str:
        monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps({"conn_type": "kafka_producer", **fields}))
        return conn_id

    return define


# Per module: an idle scheduler, DAG processor and API server keep a core busy for the rest of a session.
@pytest.fixture(scope="module")
def airflow_deployment(
    broker: KafkaBroker, tmp_path_factory: pytest.TempPathFactory, pytestconfig: pytest.Config
) -> Iterator[AirflowDeployment]:
    dags = pytestconfig.rootpath / str(pytestconfig.getini(DEPLOYMENT_DAGS))
    connection = {"conn_type": "kafka_producer", "host": broker.plaintext}
    env = {**broker_env(broker), "AIRFLOW_CONN_KAFKA_HARNESS": json.dumps(connection)}
    with running_airflow(tmp_path_factory.mktemp("airflow-deployment"), dags, env) as deployment:
        yield deployment


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini(FAIL_SKIPS_IN_CI, "with CI=true, report every skipped test as failed", type="bool", default=True)
    parser.addini(DEPLOYMENT_DAGS, "the airflow_deployment fixture's DAGs folder", default="tests/dags/deployment")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "broker: needs the real Kafka broker started by the harness")
    config.addinivalue_line("markers", "cluster: needs the three-node Kafka cluster started by the harness")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pluggy.Result[pytest.TestReport], None]:
    outcome = yield
    report = outcome.get_result()
    if report.skipped and not hasattr(report, "wasxfail") and running_in_ci() and item.config.getini(FAIL_SKIPS_IN_CI):
        report.outcome = "failed"
        report.longrepr = f"Skipped in CI, where every test must run: {report.longrepr}"


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if FIGURES:
        terminalreporter.section("harness figures")
        for line in FIGURES:
            terminalreporter.write_line(line)
    if FAILURE_REPORT:
        terminalreporter.section("time to failure and the error a user sees")
        for test, seconds, first_line in FAILURE_REPORT:
            terminalreporter.write_line(f"{seconds:6.2f} s  {test}\n          {first_line[:300]}")
