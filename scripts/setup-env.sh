# Sourced by scripts/demo, scripts/test and scripts/test-airflow-matrix: makes .venv with the provider, the test
# harness and the test tools. It is re-used while the pyproject.toml files and the C plugin are unchanged; delete .venv
# to start over.
. scripts/find-uv.sh
# Every Airflow process (the demo's `airflow dags test`, each test's DAG run) imports hundreds of modules: without
# bytecode caching, compiling them is a quarter of its time. .venv and __pycache__ are ours (and git-ignored).
unset PYTHONDONTWRITEBYTECODE
stamp=".venv/.installed-$(cat pyproject.toml setup.py harness/pyproject.toml airflow_provider_kafka_connector/_native/*.c | sha256sum | cut -c1-16)"
if [ ! -f "$stamp" ]; then
  started=$SECONDS
  echo "Creating .venv: Airflow, confluent-kafka and the test tools (about 10 s; a minute with an empty package cache)" >&2
  rm -rf .venv
  "$UV" venv --quiet --seed --python "$PYTHON" .venv
  # The test harness (harness/, its own distribution kafka-connector-harness) is never part of the provider's wheel.
  "$UV" pip install --quiet --python .venv/bin/python -e ".[test]" -e ./harness
  touch "$stamp"
  echo "Created .venv in $((SECONDS - started)) s" >&2
fi
