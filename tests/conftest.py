"""What is specific to this test suite. The shared fixtures (broker, new_topic, topic, kafka_connection), `require`,
the CI no-skip rule and the failure report come from the harness's pytest plugin (harness.pytest_plugin, active
wherever the kafka-connector-harness distribution is installed)."""

from __future__ import annotations

import os
import tempfile

# Airflow reads AIRFLOW_HOME when first imported; keep the tests away from ~/airflow.
os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp(prefix="kafka-connector-tests-airflow-"))
