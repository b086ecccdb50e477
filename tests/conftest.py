"""What is specific to this test suite. The shared fixtures (broker, new_topic, topic, kafka_connection), `require`,
the CI no-skip rule and the failure report come from the harness's pytest plugin (harness.pytest_plugin, active
wherever the kafka-connector-harness distribution is installed)."""

from __future__ import annotations

import os
import tempfile

# Re-exported for tests that still do `from conftest import ...`; import them from harness.pytest_plugin instead.
from harness.pytest_plugin import FAILURE_REPORT, require

__all__ = ["FAILURE_REPORT", "require"]

# Airflow reads AIRFLOW_HOME when first imported; keep the tests away from ~/airflow.
os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp(prefix="kafka-connector-tests-airflow-"))
