"""The token callback a connection may name (``oauth_cb``, a dotted path the deployment listed in
``[kafka_connector] callback_allowlist``; see policy.py), turned into the function confluent-kafka calls.

The producer configuration keeps the path as text (it is printed, compared and passed between layers as any
property is); only the client built from it gets the function.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any

from airflow_provider_kafka_connector.exceptions import KafkaConfigurationError
from airflow_provider_kafka_connector.policy import OAUTH_CALLBACK


def client_settings(config: Mapping[str, Any]) -> dict[str, Any]:
    """The configuration for a confluent-kafka client: a named token callback imported as its function."""
    settings = dict(config)
    path = settings.get(OAUTH_CALLBACK)
    if isinstance(path, str):
        settings[OAUTH_CALLBACK] = imported_callback(path)
    return settings


def imported_callback(path: str) -> Any:
    module_name, _, attribute = path.strip().rpartition(".")
    if not module_name:
        raise KafkaConfigurationError(
            f"The token callback {path!r} ('oauth_cb') names no module: give module.function."
        )
    try:
        function = getattr(importlib.import_module(module_name), attribute)
    except (ImportError, AttributeError) as error:
        raise KafkaConfigurationError(
            f"The token callback {path!r} ('oauth_cb') cannot be imported: {error}. Give it as module.function, "
            "importable where the task and the API server run."
        ) from None
    if not callable(function):
        raise KafkaConfigurationError(
            f"The token callback {path!r} ('oauth_cb') is not a function: give module.function."
        )
    return function
