# Sourced by scripts/demo and scripts/test: creates .venv with the provider and its test tools.
# It is re-used while pyproject.toml is unchanged; delete .venv to start over.
PYTHON=${PYTHON:-python3}
if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 10))'; then
  echo "Python 3.10 or newer is needed (set PYTHON=/path/to/python3.x)" >&2
  exit 1
fi
stamp=".venv/.installed-$(sha256sum pyproject.toml | cut -c1-16)"
if [ ! -f "$stamp" ]; then
  echo "Creating .venv (Airflow, confluent-kafka and the test tools; about a minute the first time)" >&2
  "$PYTHON" -m venv .venv
  .venv/bin/pip install --quiet --upgrade pip
  .venv/bin/pip install --quiet -e ".[test]"
  touch "$stamp"
fi
# The harness/ and scripts/ helpers are imported from the repository itself.
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
# Debian's chromium for the Connections UI test (tests/test_ui.py); a note instead where it cannot be installed.
bash scripts/install-browser.sh
