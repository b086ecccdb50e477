"""The harness's stand-in for Google Cloud Managed Service for Apache Kafka (the broker's GOOGLE listener,
harness.google_auth's token service): access tokens that Google's own client library (google-auth) gets for a
service account's key file are accepted inside Google's Kafka token, as the account's e-mail; the tokens the managed
service refuses are refused, each with a broker log line that says why and never shows the access token."""

from __future__ import annotations

import base64
import datetime
import json
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from typing import Any

import google.auth.transport.urllib3
import pytest
import urllib3
from confluent_kafka import KafkaError
from google.auth.exceptions import RefreshError
from google.oauth2 import service_account

from harness import token_clients
from harness.google_auth import CLOUD_PLATFORM_SCOPE, JWT_BEARER_GRANT, GoogleAuth, ServiceAccount
from harness.kafka_broker import KafkaBroker
from harness.token_clients import assert_refused, broker_log_says, new_topic

HEADER = {"typ": "JWT", "alg": "GOOG_OAUTH2_TOKEN"}

# As Google's quickstart for Python makes the token, run by a client in a subprocess whose only Google setup is
# GoogleAuth.environment(): application default credentials with the cloud-platform scope.
QUICKSTART = """
import base64, datetime, json
import google.auth, google.auth.transport.urllib3, urllib3

def b64(text):
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")

credentials, project = google.auth.default(scopes=["https://www.googleapis.com/auth/cloud-platform"])
credentials.refresh(google.auth.transport.urllib3.Request(urllib3.PoolManager()))
claims = dict(
    exp=credentials.expiry.replace(tzinfo=datetime.timezone.utc).timestamp(),
    iss="Google",
    iat=datetime.datetime.now(datetime.timezone.utc).timestamp(),
    scope="kafka",
    sub=credentials.service_account_email,
)
header = json.dumps(dict(typ="JWT", alg="GOOG_OAUTH2_TOKEN"))
print(".".join([b64(header), b64(json.dumps(claims)), b64(credentials.token)]))
"""


def credentials_of(google_auth: GoogleAuth, account: ServiceAccount) -> service_account.Credentials:
    """Fresh credentials from the account's key file, refreshed as a client does: an access token from the stand-in."""
    credentials = service_account.Credentials.from_service_account_file(
        str(google_auth.key_file(account)), scopes=[CLOUD_PLATFORM_SCOPE]
    )
    credentials.refresh(google.auth.transport.urllib3.Request(urllib3.PoolManager()))
    return credentials


def b64(data: dict[str, Any] | str) -> str:
    text = data if isinstance(data, str) else json.dumps(data)
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def kafka_token(access_token: str, sub: str, exp: float, header: dict[str, Any] = HEADER, **claims: Any) -> str:
    """Google's Kafka token, as its quickstart builds it (claims: change or add claims)."""
    payload = {"exp": exp, "iss": "Google", "iat": time.time(), "scope": "kafka", "sub": sub, **claims}
    return ".".join([b64(header), b64(payload), b64(access_token)])


def expiry_of(credentials: service_account.Credentials) -> float:
    """The access token's expiry as google-auth tells it (a naive UTC datetime), in seconds since the epoch."""
    assert credentials.expiry is not None
    return credentials.expiry.replace(tzinfo=datetime.timezone.utc).timestamp()


def token_of(credentials: service_account.Credentials) -> str:
    """Google's Kafka token of refreshed credentials, as the quickstart makes it."""
    return kafka_token(credentials.token, credentials.service_account_email, expiry_of(credentials))


def produce(broker: KafkaBroker, topic: str, token: str) -> KafkaError | None:
    """Produce one message over the GOOGLE listener with this token: None once delivered, else the authentication
    error the client got."""
    return token_clients.produce(broker, broker.google, topic, token)


def refused_with(broker: KafkaBroker, topic: str, token: str, reason: str, access_token: str) -> None:
    assert_refused(broker, broker.google, topic, token, f"Google Managed Kafka authentication failed: {reason}")
    assert broker.log_file is not None and access_token not in broker.log_file.read_text(errors="replace")


@pytest.fixture
def account(google_auth: GoogleAuth) -> ServiceAccount:
    return google_auth.create_service_account(f"producer-{uuid.uuid4().hex[:8]}")


@pytest.fixture
def google_topic(google_broker: KafkaBroker) -> str:
    return new_topic(google_broker, "google")


@pytest.mark.broker
def test_a_service_accounts_token_is_accepted_as_its_email(google_auth, google_broker, google_topic, account):
    credentials = credentials_of(google_auth, account)
    assert credentials.valid and credentials.token.startswith("ya29.")
    assert produce(google_broker, google_topic, token_of(credentials)) is None
    assert [m.value() for m in google_broker.consume(google_topic, 1)] == [b"v"]
    assert broker_log_says(google_broker, f"Google Managed Kafka authentication of {account.email} (access token")
    assert credentials.token not in google_broker.log_file.read_text(errors="replace")


@pytest.mark.broker
def test_google_auth_default_finds_only_the_environments_key_file(google_auth, google_broker, google_topic, account):
    """Google's quickstart code in a subprocess: google.auth.default() with GoogleAuth.environment() finds the key
    file (GOOGLE_APPLICATION_CREDENTIALS) and gets its token from the stand-in; without an account it finds none
    (no gcloud login, no metadata server)."""
    env = google_auth.environment(account)
    token = subprocess.run(
        [sys.executable, "-c", QUICKSTART], env=env, capture_output=True, text=True, check=True, timeout=60
    ).stdout.strip()
    assert produce(google_broker, google_topic, token) is None
    assert broker_log_says(google_broker, f"Google Managed Kafka authentication of {account.email} ")
    nothing = subprocess.run(
        [sys.executable, "-c", QUICKSTART], env=google_auth.environment(), capture_output=True, text=True, timeout=60
    )
    assert nothing.returncode != 0 and "DefaultCredentialsError" in nothing.stderr, nothing.stderr


@pytest.mark.broker
def test_a_sub_that_is_another_account_is_refused(google_auth, google_broker, google_topic, account):
    other = google_auth.create_service_account(f"other-{uuid.uuid4().hex[:8]}")
    credentials = credentials_of(google_auth, account)
    token = kafka_token(credentials.token, other.email, time.time() + 600)
    reason = f"the claim sub {other.email} is not the access token's account {account.email}"
    refused_with(google_broker, google_topic, token, reason, credentials.token)


@pytest.mark.broker
def test_an_access_token_google_never_issued_is_refused(google_broker, google_topic, account):
    forged = "ya29.harness-" + uuid.uuid4().hex
    token = kafka_token(forged, account.email, time.time() + 600)
    reason = "unknown access token: this token service never issued it"
    refused_with(google_broker, google_topic, token, reason, forged)


@pytest.mark.broker
def test_an_expired_access_token_is_refused(google_auth, google_broker, google_topic):
    account = google_auth.create_service_account(f"short-{uuid.uuid4().hex[:8]}", token_lifetime=1)
    credentials = credentials_of(google_auth, account)
    deadline = time.monotonic() + 5
    while google_auth.token_info(credentials.token)[0] == 200:
        assert time.monotonic() < deadline, "the 1-second access token did not expire"
        time.sleep(0.1)
    # The Kafka token's own exp is still ahead: the broker must learn the expiry from Google.
    token = kafka_token(credentials.token, account.email, time.time() + 600)
    reason = f"the access token of {account.email} expired at "
    refused_with(google_broker, google_topic, token, reason, credentials.token)


@pytest.mark.broker
def test_a_wrong_header_alg_is_refused(google_auth, google_broker, google_topic, account):
    credentials = credentials_of(google_auth, account)
    token = kafka_token(credentials.token, account.email, time.time() + 600, header={"typ": "JWT", "alg": "RS256"})
    reason = 'the header\'s alg is "RS256", not "GOOG_OAUTH2_TOKEN"'
    refused_with(google_broker, google_topic, token, reason, credentials.token)


@pytest.mark.broker
def test_an_expired_kafka_token_is_refused_by_its_own_exp(google_auth, google_broker, google_topic, account):
    credentials = credentials_of(google_auth, account)
    token = kafka_token(credentials.token, account.email, time.time() - 1)
    refused_with(google_broker, google_topic, token, "the token expired at ", credentials.token)


def test_an_assertion_signed_with_another_key_gets_no_access_token(google_auth, account):
    """Google's answer to a signature it cannot verify: HTTP 400 invalid_grant; google-auth raises RefreshError."""
    impostor = account.with_another_key()
    with pytest.raises(RefreshError, match=r"invalid_grant: Invalid JWT Signature\.") as refused:
        credentials_of(google_auth, impostor)
    assert refused.value.args[1] == {"error": "invalid_grant", "error_description": "Invalid JWT Signature."}
    assert credentials_of(google_auth, account).valid  # the account's own key still works

    # The raw exchange, as google-auth's jwt_grant sends it.
    credentials = service_account.Credentials.from_service_account_file(
        str(google_auth.key_file(impostor)), scopes=[CLOUD_PLATFORM_SCOPE]
    )
    assertion = credentials._make_authorization_grant_assertion()
    body = urllib.parse.urlencode({"assertion": assertion, "grant_type": JWT_BEARER_GRANT}).encode()
    request = urllib.request.Request(google_auth.token_uri, body, {"Content-Type": "application/x-www-form-urlencoded"})
    with pytest.raises(urllib.error.HTTPError) as answer:
        urllib.request.urlopen(request, timeout=10)
    assert answer.value.code == 400
    assert json.loads(answer.value.read())["error"] == "invalid_grant"


def test_credentials_without_a_scope_are_refused_as_google_refuses_them(google_auth, account):
    credentials = service_account.Credentials.from_service_account_file(str(google_auth.key_file(account)))
    with pytest.raises(RefreshError, match="invalid_scope"):
        credentials.refresh(google.auth.transport.urllib3.Request(urllib3.PoolManager()))


def test_tokeninfo_tells_whose_an_access_token_is_and_until_when(google_auth, account):
    credentials = credentials_of(google_auth, account)
    status, info = google_auth.token_info(credentials.token)
    assert status == 200 and info["email"] == account.email and info["scope"] == CLOUD_PLATFORM_SCOPE
    assert 3590 <= int(info["expires_in"]) <= 3600
    assert abs(expiry_of(credentials) - int(info["exp"])) < 2
    with urllib.request.urlopen(f"{google_auth.token_info_url}?access_token={credentials.token}", timeout=10) as got:
        assert json.loads(got.read())["email"] == account.email
