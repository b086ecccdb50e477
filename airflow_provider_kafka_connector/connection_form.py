"""The "Kafka Producer Connector" connection form, and how its extra JSON becomes additional properties.

Airflow 3.2+ reads the form from ``get_provider_info()`` without importing the hook: the standard fields are
relabelled as the spec names them (``ui-field-behaviour``), and the additional properties get a JSON object field
of their own (``conn-fields``), as do the TLS certificates pasted as PEM text. The UI stores each field in the
connection's extra under its name, e.g. ``{"additional_properties": {...}, "ssl_ca_pem": "-----BEGIN ..."}``
(``null`` when left empty). Connections written by hand (environment variables, ``airflow connections add``,
secrets backends) may instead give the properties directly as the extra's top-level keys; both forms are read here.
Pure logic: no Airflow or confluent_kafka import.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from airflow_provider_kafka_connector.config import ProducerConfigError

ADDITIONAL_PROPERTIES_FIELD = "additional_properties"
# The TLS fields. Airflow masks an extra whose name contains "private_key" or "password" wherever it shows one.
SSL_CA_FIELD = "ssl_ca_pem"
SSL_CERTIFICATE_FIELD = "ssl_certificate_pem"
SSL_KEY_FIELD = "ssl_private_key_pem"
SSL_KEY_PASSWORD_FIELD = "ssl_key_password"
TLS_FIELDS = (SSL_CA_FIELD, SSL_CERTIFICATE_FIELD, SSL_KEY_FIELD, SSL_KEY_PASSWORD_FIELD)
_FORM_FIELDS = (ADDITIONAL_PROPERTIES_FIELD, *TLS_FIELDS)

# The spec's own example ("How do I set / override additional client properties?").
ADDITIONAL_PROPERTIES_EXAMPLE = '{"client.id": "MyDemoClientId", "sasl.mechanism": "SCRAM-SHA-256"}'

UI_FIELD_BEHAVIOUR: dict[str, Any] = {
    "hidden-fields": ["schema", "port"],
    "relabeling": {
        "host": "Bootstrap server(s)",
        "login": "Username",
        "password": "Password",
    },
    "placeholders": {
        "host": "broker1:9092,broker2:9092",
        "login": "with a password: SASL PLAIN over SASL_SSL",
        "password": "with a username: SASL PLAIN over SASL_SSL",
    },
}

CONN_FIELDS: dict[str, Any] = {
    ADDITIONAL_PROPERTIES_FIELD: {
        "label": "Additional properties",
        "description": (
            "Producer properties as a JSON object; they override the connection's and the default ones. "
            f"For example: {ADDITIONAL_PROPERTIES_EXAMPLE}"
        ),
        "schema": {"type": ["object", "null"]},
    },
    SSL_CA_FIELD: {
        "label": "CA certificate (PEM)",
        "description": (
            "The CA that signed the brokers' certificates, as PEM text (librdkafka's 'ssl.ca.pem'); empty: the "
            "system's CAs. Any TLS field turns TLS on (security protocol SSL, or SASL_SSL with a username)."
        ),
        "schema": {"type": ["string", "null"], "format": "multiline"},
    },
    SSL_CERTIFICATE_FIELD: {
        "label": "Client certificate (PEM)",
        "description": (
            "For brokers that require a client certificate (mutual TLS): the certificate, then any intermediate "
            "CAs, as PEM text ('ssl.certificate.pem')."
        ),
        "schema": {"type": ["string", "null"], "format": "multiline"},
    },
    SSL_KEY_FIELD: {
        "label": "Client key (PEM)",
        "description": (
            "The client certificate's private key as PEM text ('ssl.key.pem'), PKCS#8 or unencrypted; line breaks "
            "lost in pasting are restored."
        ),
        "schema": {"type": ["string", "null"], "format": "password"},
    },
    SSL_KEY_PASSWORD_FIELD: {
        "label": "Client key password",
        "description": "The passphrase of an encrypted client key ('ssl.key.password').",
        "schema": {"type": ["string", "null"], "format": "password"},
    },
}


def extra_properties(extra: Mapping[str, Any]) -> dict[str, Any]:
    """The additional properties in a connection's extra JSON object, from either of its two forms.

    The extra's own keys are properties, except the form's fields: ``additional_properties``, a JSON object (or
    its text, or null) whose keys are properties too, and the TLS fields (see tls_fields). A name given in both
    places is an error.
    """
    properties = {name: value for name, value in extra.items() if name not in _FORM_FIELDS}
    nested = json_object(extra.get(ADDITIONAL_PROPERTIES_FIELD), repr(ADDITIONAL_PROPERTIES_FIELD))
    twice = sorted(properties.keys() & nested.keys())
    if twice:
        raise ProducerConfigError(
            f"The connection's extra sets {', '.join(map(repr, twice))} both at its top level and in "
            f"{ADDITIONAL_PROPERTIES_FIELD!r}; keep one of them."
        )
    return {**properties, **nested}


def tls_fields(extra: Mapping[str, Any]) -> dict[str, str]:
    """The TLS fields the connection's extra fills in (blank ones left out), by field name."""
    fields = {}
    for name in TLS_FIELDS:
        value = extra.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            continue
        if not isinstance(value, str):
            raise ProducerConfigError(f"The connection's {name!r} must be text, not a JSON {type(value).__name__}.")
        fields[name] = value
    return fields


def json_object(value: Any, what: str) -> Mapping[str, Any]:
    """A JSON object given as a mapping or as JSON text; None or blank text is an empty one."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return {}
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError as error:
            raise ProducerConfigError(
                f"{what} must be a JSON object such as {ADDITIONAL_PROPERTIES_EXAMPLE}; "
                f"it is not valid JSON ({error.msg} at line {error.lineno} column {error.colno})."
            ) from None
    if not isinstance(value, Mapping):
        raise ProducerConfigError(
            f"{what} must be a JSON object such as {ADDITIONAL_PROPERTIES_EXAMPLE}, not a JSON {type(value).__name__}."
        )
    return value
