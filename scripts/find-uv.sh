# Sourced by the scripts that make virtual environments: checks the Python they use (PYTHON, else python3), and sets
# UV to uv on PATH, or to uv installed from PyPI into .cache/uv (once). uv builds an environment in seconds where pip
# takes a minute.
PYTHON=${PYTHON:-python3}
if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 10))' 2>/dev/null; then
  echo "Python 3.10 or newer is needed (set PYTHON=/path/to/python3.x)" >&2
  exit 1
fi
UV=$(command -v uv || true)
if [ -z "$UV" ]; then
  UV=.cache/uv/bin/uv
  if [ ! -x "$UV" ]; then
    echo "Installing uv into .cache/uv (once)" >&2
    "$PYTHON" -m venv .cache/uv
    .cache/uv/bin/python -m pip install --quiet --disable-pip-version-check uv >&2
  fi
fi
export UV_PYTHON_DOWNLOADS=never  # only Pythons already on this machine
