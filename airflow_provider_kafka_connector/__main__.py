"""`python -m airflow_provider_kafka_connector`: what is installed and in force, for a bug report.

The provider, Airflow, confluent-kafka and librdkafka versions, librdkafka's built-in features, whether batches
count their delivery reports in C (the delivery-tally plugin), the extras for managed Kafka services, and the
[kafka_connector] settings. It prints no
connection and no secret: the settings are allowlists of URLs, files, libraries and property names.
"""

from __future__ import annotations

import ctypes
import sys
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path


def _version(distribution: str) -> str:
    try:
        return version(distribution)
    except PackageNotFoundError:
        return "not installed"


def librdkafka_features() -> str:
    """librdkafka's `builtin.features` (compression codecs, SSL, SASL mechanisms, plugins), from the library that
    confluent-kafka loaded."""
    import confluent_kafka  # noqa: F401 (loads librdkafka into this process)

    maps = Path("/proc/self/maps")
    paths = (
        [line.split()[-1] for line in maps.read_text().splitlines() if "librdkafka" in line] if maps.exists() else []
    )
    if not paths:
        return "unknown (librdkafka's library was not found among this process's mappings)"
    library = ctypes.CDLL(paths[0])
    library.rd_kafka_conf_new.restype = ctypes.c_void_p
    library.rd_kafka_conf_get.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_void_p]
    library.rd_kafka_conf_destroy.argtypes = [ctypes.c_void_p]
    conf = library.rd_kafka_conf_new()
    try:
        size = ctypes.c_size_t(1024)
        text = ctypes.create_string_buffer(size.value)
        library.rd_kafka_conf_get(conf, b"builtin.features", text, ctypes.byref(size))
        return text.value.decode()
    finally:
        library.rd_kafka_conf_destroy(conf)


def report() -> list[str]:
    import confluent_kafka

    from airflow_provider_kafka_connector import __version__
    from airflow_provider_kafka_connector.native_tally import plugin_status
    from airflow_provider_kafka_connector.policy import OPTIONS, SECTION
    from airflow_provider_kafka_connector.settings import option_value

    lines = [
        f"airflow-provider-kafka-connector {__version__} ({Path(__file__).parent})",
        f"Python {sys.version.split()[0]} ({sys.platform})",
        f"apache-airflow {_version('apache-airflow-core')} (task SDK {_version('apache-airflow-task-sdk')})",
        f"confluent-kafka {_version('confluent-kafka')}, librdkafka {confluent_kafka.libversion()[0]}",
        f"librdkafka built-in features: {librdkafka_features()}",
        f"delivery-tally plugin: {plugin_status()}",
        f"aws extra (Amazon MSK IAM): aws-msk-iam-sasl-signer-python {_version('aws-msk-iam-sasl-signer-python')}",
        f"google extra (Google Managed Service for Apache Kafka): google-auth {_version('google-auth')}",
        f"[{SECTION}]",
    ]
    lines += [f"{option} = {option_value(option)}" for option in OPTIONS]
    return lines


if __name__ == "__main__":
    print("\n".join(report()))
