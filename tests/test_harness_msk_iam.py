"""The harness's stand-in for Amazon MSK with IAM authentication (the broker's MSK_IAM listener, harness.aws_iam's
moto IAM and STS): tokens that AWS's own signer (aws-msk-iam-sasl-signer-python) makes from credentials moto issued
are accepted, and the tokens MSK refuses are refused, each with a broker log line that says why."""

from __future__ import annotations

import base64
import datetime
import subprocess
import sys
import uuid
from collections.abc import Callable
from urllib.parse import parse_qsl, urlencode, urlsplit

import botocore.auth
import pytest
from aws_msk_iam_sasl_signer import MSKAuthTokenProvider
from botocore.credentials import CredentialProvider, Credentials
from confluent_kafka import KafkaError

from harness import token_clients
from harness.aws_iam import AwsCredentials, AwsIam
from harness.kafka_broker import KafkaBroker
from harness.token_clients import assert_refused, broker_log_says, new_topic

pytestmark = pytest.mark.broker
ANOTHER_REGION = "us-east-1"


class _Fixed(CredentialProvider):
    METHOD = "harness"

    def __init__(self, credentials: AwsCredentials, secret: str | None = None) -> None:
        super().__init__()
        self._credentials = Credentials(
            credentials.access_key_id, secret or credentials.secret_access_key, credentials.session_token
        )

    def load(self) -> Credentials:
        return self._credentials


def sign(credentials: AwsCredentials, region: str, secret: str | None = None) -> str:
    """A token from AWS's signer, as a client of MSK makes it (secret: sign with another secret instead)."""
    token, _expiry_ms = MSKAuthTokenProvider.generate_auth_token_from_credentials_provider(
        region, _Fixed(credentials, secret)
    )
    return str(token)


def presigned_url(token: str) -> str:
    return base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()


def token_of(url: str) -> str:
    return base64.urlsafe_b64encode(url.encode()).decode().rstrip("=")


def with_query(token: str, change: Callable[[dict[str, str]], None]) -> str:
    parts = urlsplit(presigned_url(token))
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    change(query)
    return token_of(parts._replace(query=urlencode(query, safe="")).geturl())


def produce(broker: KafkaBroker, topic: str, token: str) -> KafkaError | None:
    """Produce one message over the MSK_IAM listener with this token: None once delivered, else the authentication
    error the client got."""
    return token_clients.produce(broker, broker.msk_iam, topic, token)


@pytest.fixture
def user(aws_iam: AwsIam) -> AwsCredentials:
    return aws_iam.create_user(f"producer-{uuid.uuid4().hex[:8]}")


@pytest.fixture
def msk_topic(msk_broker: KafkaBroker) -> str:
    return new_topic(msk_broker, "msk-iam")


def test_an_iam_users_token_is_accepted_as_the_users_arn(msk_broker, msk_topic, user):
    assert produce(msk_broker, msk_topic, sign(user, msk_broker.msk_iam_region)) is None
    assert [m.value() for m in msk_broker.consume(msk_topic, 1)] == [b"v"]
    assert broker_log_says(msk_broker, f"MSK IAM authentication of {user.arn} with access key id {user.access_key_id}")


def test_assumed_role_credentials_are_accepted_as_the_sessions_arn(aws_iam, msk_broker, msk_topic, user):
    role_arn = aws_iam.create_role(f"kafka-{uuid.uuid4().hex[:8]}", trusted=user)
    session = aws_iam.assume_role(user, role_arn, "harness-test")
    assert session.session_token and session.arn.endswith("/harness-test")
    assert "X-Amz-Security-Token=" in presigned_url(sign(session, msk_broker.msk_iam_region))
    assert produce(msk_broker, msk_topic, sign(session, msk_broker.msk_iam_region)) is None
    assert broker_log_says(msk_broker, f"MSK IAM authentication of {session.arn}")


@pytest.mark.parametrize("source", ["environment variables", "named profile", "role ARN"])
def test_the_signers_own_credential_lookups_work_in_a_subprocess(aws_iam, msk_broker, msk_topic, user, source):
    """The signer run as a client of MSK runs it: its credentials from environment(), a profile written by
    write_profile, or a role it assumes through moto's STS (AWS_ENDPOINT_URL_STS)."""
    region = msk_broker.msk_iam_region
    call = f"generate_auth_token({region!r})"
    env = aws_iam.environment(region, user)
    principal = user.arn
    if source == "named profile":
        profile = f"profile-{uuid.uuid4().hex[:8]}"
        aws_iam.write_profile(profile, user, region)
        call = f"generate_auth_token_from_profile({region!r}, {profile!r})"
        env = aws_iam.environment(region)
    elif source == "role ARN":
        role = f"kafka-{uuid.uuid4().hex[:8]}"
        role_arn = aws_iam.create_role(role, trusted=user)
        call = f"generate_auth_token_from_role_arn({region!r}, {role_arn!r})"
        principal = f"{role_arn.split(':role/')[0].replace(':iam:', ':sts:')}:assumed-role/{role}/MSKSASLDefaultSession"
    script = f"from aws_msk_iam_sasl_signer.MSKAuthTokenProvider import *; print({call}[0])"
    token = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True, timeout=60
    ).stdout.strip()
    assert produce(msk_broker, msk_topic, token) is None
    assert broker_log_says(msk_broker, f"MSK IAM authentication of {principal} with access key id ")


def refused_with(broker: KafkaBroker, topic: str, token: str, reason: str) -> None:
    assert_refused(broker, broker.msk_iam, topic, token, f"MSK IAM authentication failed: {reason}")


def test_a_wrong_secret_is_refused_as_a_signature_mismatch(msk_broker, msk_topic, user):
    token = sign(user, msk_broker.msk_iam_region, secret="not-the-secret-of-this-key")
    refused_with(msk_broker, msk_topic, token, f"signature mismatch for access key id {user.access_key_id}")
    assert user.secret_access_key not in msk_broker.log_file.read_text(errors="replace")


def test_a_token_for_another_region_is_refused(msk_broker, msk_topic, user):
    token = sign(user, ANOTHER_REGION)
    refused_with(msk_broker, msk_topic, token, f"wrong region or host: the token is for kafka.{ANOTHER_REGION}.")


def test_an_expired_token_is_refused(msk_broker, msk_topic, user, monkeypatch):
    signed_at = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None) - datetime.timedelta(minutes=16)
    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda: signed_at)
    token = sign(user, msk_broker.msk_iam_region)
    monkeypatch.undo()
    assert f"X-Amz-Date={signed_at:%Y%m%dT%H%M%SZ}" in presigned_url(token)
    refused_with(msk_broker, msk_topic, token, "the token expired at ")


def test_a_tampered_signature_is_refused(msk_broker, msk_topic, user):
    def tamper(query: dict[str, str]) -> None:
        signature = query["X-Amz-Signature"]
        query["X-Amz-Signature"] = ("0" if signature[0] != "0" else "1") + signature[1:]

    token = with_query(sign(user, msk_broker.msk_iam_region), tamper)
    refused_with(msk_broker, msk_topic, token, f"signature mismatch for access key id {user.access_key_id}")


def test_a_session_token_of_assumed_role_credentials_is_required(aws_iam, msk_broker, msk_topic, user):
    session = aws_iam.assume_role(user, aws_iam.create_role(f"kafka-{uuid.uuid4().hex[:8]}", trusted=user))
    token = with_query(sign(session, msk_broker.msk_iam_region), lambda query: query.pop("X-Amz-Security-Token"))
    refused_with(msk_broker, msk_topic, token, "X-Amz-Security-Token is missing or not the session token")


def test_an_unknown_access_key_id_is_refused(msk_broker, msk_topic):
    stranger = AwsCredentials("AKIAHARNESSUNKNOWN01", "secret", "arn:aws:iam::123456789012:user/nobody")
    token = sign(stranger, msk_broker.msk_iam_region)
    refused_with(msk_broker, msk_topic, token, "unknown access key id AKIAHARNESSUNKNOWN01")


def test_the_user_agent_is_not_signed_but_every_other_parameter_is(msk_broker, msk_topic, user):
    """As botocore's SigV4QueryAuth signs (the signer adds User-Agent afterwards): changing it keeps the token good,
    changing a signed parameter (here X-Amz-Expires, still at most 900) breaks the signature."""
    token = sign(user, msk_broker.msk_iam_region)
    other_agent = with_query(token, lambda query: query.update({"User-Agent": "another-client/9.9"}))
    assert produce(msk_broker, msk_topic, other_agent) is None
    shorter = with_query(token, lambda query: query.update({"X-Amz-Expires": "899"}))
    refused_with(msk_broker, msk_topic, shorter, f"signature mismatch for access key id {user.access_key_id}")
