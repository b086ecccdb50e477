"""Token callbacks for tests of the provider's ``oauth_cb`` (a dotted path a deployment lists in
``[kafka_connector] callback_allowlist``): confluent-kafka calls one with the ``sasl.oauthbearer.config`` text and
takes back an OAuth token and its expiry (seconds since the epoch)."""

from __future__ import annotations

import base64
import datetime
import json
import time
import urllib.parse
import urllib.request

#: Every call of client_credentials in this process, for tests that check a callback ran or did not.
CALLS: list[str] = []


def client_credentials(oauth_config: str) -> tuple[str, float]:
    """A token from a token endpoint by the client-credentials grant. ``oauth_config`` is space-separated
    ``key=value`` pairs: token_url, client_id, client_secret and scope."""
    settings = dict(pair.split("=", 1) for pair in oauth_config.split())
    CALLS.append(settings["token_url"])
    credentials = f"{settings['client_id']}:{settings['client_secret']}".encode()
    request = urllib.request.Request(
        settings["token_url"],
        data=urllib.parse.urlencode({"grant_type": "client_credentials", "scope": settings["scope"]}).encode(),
        headers={"Authorization": "Basic " + base64.b64encode(credentials).decode()},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        answer = json.load(response)
    return str(answer["access_token"]), time.time() + float(answer["expires_in"])


#: How long short_lived says its tokens last, in seconds.
SHORT_LIFETIME = 4.0


def short_lived(oauth_config: str) -> tuple[str, float]:
    """client_credentials' token, said to expire SHORT_LIFETIME seconds from now: librdkafka asks for a new one at
    80 % of that, so a test sees the refresh within seconds."""
    token, _ = client_credentials(oauth_config)
    return token, time.time() + SHORT_LIFETIME


def expired_msk_token(oauth_config: str) -> tuple[str, float, str]:
    """The provider's Amazon MSK IAM token, but signed 16 minutes ago (MSK's tokens last 15) and said to expire in an
    hour, so that librdkafka sends it and the broker must be the one to refuse it."""
    from unittest import mock

    import botocore.auth

    from airflow_provider_kafka_connector import aws_msk_iam

    signed_at = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None) - datetime.timedelta(minutes=16)
    with mock.patch.object(botocore.auth, "get_current_datetime", lambda: signed_at):
        token, _, principal = aws_msk_iam.token(oauth_config)
    return token, time.time() + 3600, principal
