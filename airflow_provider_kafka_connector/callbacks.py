"""The token callback a connection may name (``oauth_cb``, a dotted path the deployment listed in
``[kafka_connector] callback_allowlist``; see policy.py), turned into the function confluent-kafka calls.

The producer configuration keeps the path as text (it is printed, compared and passed between layers as any
property is); only the client built from it gets the function, wrapped so that:

- the first token is fetched before the client is built: a callback that fails raises its own error at once.
  confluent-kafka (2.13 and later) would wait 10 s for a token and then say only "OAuth token not set";
- where the provider's plugin loads, librdkafka gets the tokens from it (native_token.py), not from confluent-kafka's
  ``oauth_cb``, whose constructor waits a whole second for the first token;
- the client serves its callbacks once when built: the plugin's, and before 2.13 confluent-kafka's, token callback
  runs only from ``poll()``, and a client that first asks for metadata would wait for a token until its timeout.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from airflow_provider_kafka_connector.exceptions import (
    KafkaConfigurationError,
    KafkaConnectorError,
    KafkaCredentialsError,
)
from airflow_provider_kafka_connector.policy import OAUTH_CALLBACK

Client = TypeVar("Client")
TOKEN_CONFIG = "sasl.oauthbearer.config"


def new_client(client_class: Callable[[dict[str, Any]], Client], config: Mapping[str, Any]) -> Client:
    """A confluent-kafka client (Producer, AdminClient, Consumer) of this configuration, its token ready."""
    from confluent_kafka import KafkaException

    from airflow_provider_kafka_connector import native_token

    settings = client_settings(config)
    function = settings.pop(OAUTH_CALLBACK, None)
    if function is None:
        return client_class(settings)
    callback = FirstTokenReady(function, str(config[OAUTH_CALLBACK]), settings.get(TOKEN_CONFIG, ""))
    client = None
    slot = native_token.take_slot(callback)
    if slot is not None:
        try:
            client = client_class(native_token.token_properties(settings, slot))
        except KafkaException:  # a configuration error fails again below, as it would without the plugin
            native_token.release_slot(slot)
    if client is None:
        client = client_class({**settings, OAUTH_CALLBACK: callback})
    client.poll(0)  # type: ignore[attr-defined]
    return client


class FirstTokenReady:
    """confluent-kafka's oauth_cb: a token fetched when made, handed over at the first call; fresh ones after."""

    def __init__(self, function: Any, path: str, oauthbearer_config: str) -> None:
        self._function = function
        self._path = path
        self._first: Any = None
        self._first = self(oauthbearer_config)

    def __call__(self, oauthbearer_config: str) -> Any:
        first, self._first = self._first, None
        if first is not None:
            return first
        try:
            return self._function(oauthbearer_config)
        except KafkaConnectorError:
            raise
        except Exception as error:
            raise KafkaCredentialsError(
                f"The token callback {self._path!r} ('oauth_cb') failed: {type(error).__name__}: {error}"
            ) from None


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
