"""Google Cloud Managed Service for Apache Kafka: an OAUTHBEARER token made from the worker's Google credentials.

Google documents it for Java clients as OAUTHBEARER with its ``GcpLoginCallbackHandler``; java_properties.py turns
that into this module's token callback, which a connection may also name directly as ``oauth_cb``. The token is
what Google's handler builds: a JWT-shaped text whose header says ``GOOG_OAUTH2_TOKEN``, whose claims name the
service account, and whose third part is the account's OAuth access token, got by google-auth (the ``google``
extra) from Application Default Credentials, as every Google client library finds them.

The token lets whoever holds it act as that service account wherever its scope reaches, so the policy (policy.py)
gives this callback to a connection only where the deployment lists it in ``[kafka_connector] callback_allowlist``.
"""

from __future__ import annotations

import base64
import datetime
import json
import threading
import time
from typing import Any

from airflow_provider_kafka_connector.exceptions import KafkaConfigurationError, KafkaCredentialsError

CALLBACK = "airflow_provider_kafka_connector.google_managed_kafka.token"
INSTALL = "pip install 'airflow-provider-kafka-connector[google]'"
SCOPE = "https://www.googleapis.com/auth/cloud-platform"
_HEADER = {"typ": "JWT", "alg": "GOOG_OAUTH2_TOKEN"}

_accounts: dict[str, str] = {}
_accounts_lock = threading.Lock()


def account_used(oauthbearer_config: str) -> str | None:
    """The service account of the last token made in this process for these callback settings."""
    with _accounts_lock:
        return _accounts.get(oauthbearer_config)


def token(oauthbearer_config: str) -> tuple[str, float, str]:
    """confluent-kafka's ``oauth_cb``: the token, its expiry (seconds since the epoch) and the principal."""
    credentials = _refreshed_credentials()
    account = _account(credentials)
    expiry = credentials.expiry.replace(tzinfo=datetime.timezone.utc).timestamp()
    claims = {"exp": expiry, "iss": "Google", "iat": time.time(), "scope": "kafka", "sub": account}
    parts = (json.dumps(_HEADER), json.dumps(claims), credentials.token)
    with _accounts_lock:
        _accounts[oauthbearer_config] = account
    return ".".join(_base64url(part) for part in parts), expiry, account


def _refreshed_credentials() -> Any:
    try:
        import google.auth
        import google.auth.exceptions
        import google.auth.transport.requests
    except ImportError:
        raise KafkaConfigurationError(
            f"Google Managed Service for Apache Kafka needs the provider's google extra where the tasks run: {INSTALL}"
        ) from None
    try:
        credentials, _ = google.auth.default(scopes=[SCOPE])
    except google.auth.exceptions.DefaultCredentialsError as error:
        raise KafkaCredentialsError(
            f"No Google credentials found for Google Managed Service for Apache Kafka: {error} Give the workers (and "
            "the API server, for the Connections Test) a service account with the Managed Kafka Client role."
        ) from None
    try:
        credentials.refresh(google.auth.transport.requests.Request())
    except google.auth.exceptions.RefreshError as error:
        account = _account(credentials, required=False) or "the service account"
        raise KafkaCredentialsError(
            f"Google did not issue an access token for {account}: {error}. Check that its key is valid and not "
            "disabled."
        ) from None
    return credentials


def _account(credentials: Any, required: bool = True) -> str:
    """The e-mail of the service account the credentials act as (Compute Engine's know it once refreshed)."""
    account = getattr(credentials, "service_account_email", None) or getattr(credentials, "signer_email", None)
    if (not account or account == "default") and required:
        raise KafkaCredentialsError(
            f"Google Managed Service for Apache Kafka takes tokens of a service account, and the Application "
            f"Default Credentials found ({type(credentials).__name__}) are not one. Point GOOGLE_APPLICATION_"
            "CREDENTIALS at a service account key, or run the workers as a service account."
        )
    return str(account or "")


def _base64url(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")
