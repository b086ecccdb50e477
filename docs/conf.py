"""Sphinx configuration for the provider's documentation: ./scripts/docs builds it into docs/_build/html.

The docs environment has neither Airflow nor the provider installed, so nothing here imports the package: the
version is read from the text of airflow_provider_kafka_connector/__init__.py.
"""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def _package_version() -> str:
    text = (REPO / "airflow_provider_kafka_connector" / "__init__.py").read_text(encoding="utf-8")
    found = re.search(r'^__version__\s*=\s*["\']([^"\']+)["\']', text, re.MULTILINE)
    if found is None:
        raise RuntimeError("no __version__ in airflow_provider_kafka_connector/__init__.py")
    return found.group(1)


project = "airflow-provider-kafka-connector"
author = "The airflow-provider-kafka-connector authors"
copyright = "2026, " + author
version = release = _package_version()

extensions: list[str] = []
exclude_patterns = ["_build"]
root_doc = "index"
highlight_language = "python"

html_theme = "alabaster"
html_title = f"{project} {release}"
html_theme_options = {"description": "Publish messages to Apache Kafka from Apache Airflow", "fixed_sidebar": True}
