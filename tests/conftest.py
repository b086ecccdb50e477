"""Shared fixtures: one real Kafka broker per test session, unique topics, and Airflow connections."""

from __future__ import annotations

import json
import os
import re
import tempfile
import uuid
from collections.abc import Callable, Iterator

import pytest

# Airflow reads AIRFLOW_HOME when first imported; keep the tests away from ~/airflow.
os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp(prefix="kafka-connector-tests-airflow-"))

from harness.kafka_broker import KafkaBroker, existing_broker_from_env, running_broker

RUNNING_IN_CI = os.environ.get("CI", "").lower() == "true"
# (test, seconds to failure, first line of the error the user sees), filled by tests/test_failures.py.
FAILURE_REPORT: list[tuple[str, float, str]] = []


@pytest.fixture(scope="session")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KafkaBroker]:
    existing = existing_broker_from_env()
    if existing is not None:
        yield existing
        return
    with running_broker(tmp_path_factory.mktemp("kafka")) as started:
        yield started


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


def require(value: object, what: str) -> None:
    """Skip a test whose broker feature an external KAFKA_BOOTSTRAP_SERVERS broker did not describe."""
    if value is None:
        pytest.skip(f"the external broker gives no {what}")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):
    outcome = yield
    report = outcome.get_result()
    if RUNNING_IN_CI and report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = f"Skipped in CI, where every test must run: {report.longrepr}"


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if FAILURE_REPORT:
        terminalreporter.section("time to failure and the error a user sees")
        for test, seconds, first_line in FAILURE_REPORT:
            terminalreporter.write_line(f"{seconds:6.2f} s  {test}\n          {first_line[:300]}")
