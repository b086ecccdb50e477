"""The provider's optional librdkafka plugin (see native_tally.py), built where a C compiler is found.

Everything else about the package is in pyproject.toml. ./scripts/build makes the pure wheel with
KAFKA_CONNECTOR_PLUGIN=0 and adds the plugin, cross-compiled for each Linux platform, to the platform wheels itself.
"""

import os

from setuptools import Extension, setup

PLUGIN = Extension(
    # Not a Python module: librdkafka loads it, Python reads it through ctypes; it uses no Python API.
    "airflow_provider_kafka_connector._delivery_tally",
    sources=["airflow_provider_kafka_connector/_native/delivery_tally.c"],
    libraries=["dl", "pthread"],
    optional=True,
)

setup(ext_modules=[] if os.environ.get("KAFKA_CONNECTOR_PLUGIN") == "0" else [PLUGIN])
