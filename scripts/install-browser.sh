#!/usr/bin/env bash
# Installs Debian's chromium for the Connections UI test (tests/test_ui.py), which drives it through playwright.
# Browser downloads (`playwright install`) are impossible here, so the test launches /usr/bin/chromium itself.
# Installs only as root with apt-get; anywhere else it prints how to get a browser, and the UI test will say so too.
set -euo pipefail
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
if [ -x "$CHROMIUM" ]; then
  exit 0
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing Debian's chromium for the Connections UI test (about a minute)" >&2
  export DEBIAN_FRONTEND=noninteractive
  if ! { apt-get update -qq && apt-get install -y -qq chromium; } >&2; then
    echo "Note: installing chromium failed; tests/test_ui.py cannot run without it." >&2
  fi
else
  echo "Note: $CHROMIUM is missing and this is no root shell with apt-get; install Chromium" \
    "(Debian: apt-get install chromium) or set CHROMIUM=/path/to/chromium to run tests/test_ui.py." >&2
fi
