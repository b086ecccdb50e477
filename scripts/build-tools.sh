# Sourced by scripts/build: a virtual environment of build tools (build, wheel, ziglang, auditwheel, twine) in
# .cache/build-tools, made once and re-used while this list is unchanged.
BUILD_TOOLS="build[uv]>=1.2 wheel>=0.45 ziglang>=0.13 auditwheel>=6.1 twine>=6.1"
. scripts/find-uv.sh
BUILD_PYTHON=.cache/build-tools/bin/python
stamp=".cache/build-tools/.installed-$(echo "$BUILD_TOOLS" | sha256sum | cut -c1-16)"
if [ ! -f "$stamp" ]; then
  rm -rf .cache/build-tools
  "$UV" venv --quiet --seed --python "$PYTHON" .cache/build-tools
  # shellcheck disable=SC2086
  "$UV" pip install --quiet --python "$BUILD_PYTHON" $BUILD_TOOLS
  touch "$stamp"
fi
