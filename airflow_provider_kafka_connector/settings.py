"""The deployment's ``[kafka_connector]`` section of Airflow's configuration: what it declares, and the property policy
it gives.

The section is declared in get_provider_info(), so `airflow config list` shows it with these descriptions; each
option is also an environment variable (``AIRFLOW__KAFKA_CONNECTOR__ALLOWED_URLS`` and so on). It is read where the
producer configuration is built: in the task's process, and in the API server for the Connections Test, so both
must be given the same settings.
"""

from __future__ import annotations

from typing import Any

from airflow_provider_kafka_connector.policy import (
    ALLOWED_FILES,
    ALLOWED_LIBRARY_PATHS,
    ALLOWED_PROPERTIES,
    ALLOWED_URLS,
    CALLBACK_ALLOWLIST,
    SECTION,
    PropertyPolicy,
)

_LIST = "A comma-separated list; empty (the default) allows none."

OPTION_DESCRIPTIONS: dict[str, tuple[str, str]] = {
    ALLOWED_URLS: (
        "The URLs that a connection's extra or a task's additional properties may make the producer send requests "
        "to: OAuth token endpoints ('sasl.oauthbearer.token.endpoint.url') and Schema Registry URLs "
        "('schema.registry.url', listed without any user and password in them), each exactly as the property gives "
        f"it. {_LIST}",
        "https://idp.example.com/oauth2/token,https://registry.example.com:8081",
    ),
    ALLOWED_FILES: (
        "The files whose content a connection's extra or a task's additional properties may make the producer read "
        "and send to a token endpoint ('sasl.oauthbearer.assertion.file', "
        "'sasl.oauthbearer.assertion.private.key.file', 'sasl.oauthbearer.assertion.jwt.template.file'). An entry "
        f"ending in '/' allows every file under that directory; links and '..' are resolved first. {_LIST}",
        "/opt/airflow/secrets/kafka/",
    ),
    ALLOWED_LIBRARY_PATHS: (
        "The shared libraries that a connection's extra or a task's additional properties may make librdkafka load "
        "('plugin.library.paths', 'ssl.engine.location'): paths, or names as the property gives them. The "
        f"provider's own delivery-tally plugin needs no entry. {_LIST}",
        "/usr/local/lib/monitoring-interceptor.so",
    ),
    ALLOWED_PROPERTIES: (
        "Property names that the policy refuses by default and this deployment allows: 'sasl.kerberos.kinit.cmd' "
        "(a shell command), 'ssl.engine.id' and 'ssl.providers' (OpenSSL code loaded by name), "
        "'internal.termination.signal', 'sasl.oauthbearer.metadata.authentication.type' (cloud-metadata tokens), "
        f"and librdkafka properties this provider does not know, such as a newer librdkafka's. {_LIST}",
        "sasl.kerberos.kinit.cmd",
    ),
    CALLBACK_ALLOWLIST: (
        "The token callbacks a connection's extra or a task's additional properties may name as 'oauth_cb': dotted "
        "paths to functions (module.function) that take the 'sasl.oauthbearer.config' text and return an OAuth "
        f"token and its expiry, as confluent-kafka calls them. The same rule as [apache_kafka] callback_allowlist. "
        f"{_LIST}",
        "my_company.kafka_tokens.fetch_token",
    ),
}


def config_section() -> dict[str, Any]:
    """The section as get_provider_info() declares it."""
    return {
        SECTION: {
            "description": "What a connection's extra or a task's additional properties may make the Kafka producer "
            "do beyond connecting to its brokers: the deployment's allowlists. See the provider's security model.",
            "options": {
                name: {
                    "description": description,
                    "version_added": "0.1.0",
                    "type": "string",
                    "example": example,
                    "default": "",
                }
                for name, (description, example) in OPTION_DESCRIPTIONS.items()
            },
        }
    }


def option_value(option: str) -> str:
    """One [kafka_connector] option as this Airflow deployment sets it now (configuration file or environment)."""
    try:
        from airflow.sdk.configuration import conf
    except ImportError:  # Airflow 3.1
        from airflow.configuration import conf

    return str(conf.get(SECTION, option, fallback="") or "")


def deployment_policy() -> PropertyPolicy:
    """The property policy of this Airflow deployment, read now from its configuration (and environment)."""
    return PropertyPolicy.from_options(option_value)
