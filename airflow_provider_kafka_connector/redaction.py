"""Which configuration values are secrets, and how a configuration is shown without them."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

REDACTED = "***"

# Names are matched whole and by the fragments that mark a secret in librdkafka's and Java's configs.
SECRET_PROPERTY_NAMES = frozenset(
    {
        "sasl.password",
        "sasl.jaas.config",
        "sasl.oauthbearer.client.secret",
        "sasl.oauthbearer.config",
        "ssl.key.password",
        "ssl.key.pem",
        "ssl_key",
        "ssl.keystore.password",
        "ssl.keystore.key",
        "ssl.truststore.password",
        "ssl.truststore.certificates",
        # the Schema Registry's "user:password" (Confluent's serializer properties)
        "basic.auth.user.info",
        "schema.registry.basic.auth.user.info",
    }
)
_SECRET_FRAGMENTS = ("password", "secret", "jaas", "private", ".key.pem", "token")
# Names with such a fragment that hold no secret: the OAuth token endpoint's address is named in error messages.
_NOT_SECRET_PROPERTY_NAMES = frozenset({"sasl.oauthbearer.token.endpoint.url"})
# Credentials in a URL (https://user:password@host), as basic.auth.credentials.source=URL takes them.
_URL_USER_INFO = re.compile(r"(?<=://)[^/@\s,]+(?=@)")


def is_secret_property(name: str) -> bool:
    lowered = name.lower()
    if lowered in _NOT_SECRET_PROPERTY_NAMES:
        return False
    return lowered in SECRET_PROPERTY_NAMES or any(fragment in lowered for fragment in _SECRET_FRAGMENTS)


def secret_values(config: Mapping[str, object]) -> list[str]:
    """The values that must never be shown, for registration with Airflow's secrets masker.

    A "user:password" value also gives its password alone, and a URL the credentials it carries.
    """
    secrets = []
    for name, value in config.items():
        if not value:
            continue
        if is_secret_property(name):
            secrets.append(str(value))
            if name.lower().endswith("user.info") and ":" in str(value):
                secrets.append(str(value).split(":", 1)[1])
        elif isinstance(value, str):
            for user_info in _URL_USER_INFO.findall(value):
                secrets.extend([user_info, user_info.split(":", 1)[-1]])
    return [secret for secret in secrets if secret]


def redacted(config: Mapping[str, object]) -> dict[str, object]:
    return {name: REDACTED if is_secret_property(name) else _without_user_info(value) for name, value in config.items()}


def _without_user_info(value: object) -> object:
    return _URL_USER_INFO.sub(REDACTED, value) if isinstance(value, str) and "@" in value else value


class RedactedDict(dict[str, Any]):
    """A mapping of properties that never shows its secrets when printed, logged or rendered."""

    def __repr__(self) -> str:
        return repr(redacted(self))

    __str__ = __repr__


def scrub(text: str, secrets: Iterable[str]) -> str:
    """Remove every secret from text that came from elsewhere (librdkafka messages, exceptions)."""
    for secret in sorted({s for s in secrets if s}, key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    return text
