"""Amazon MSK IAM as pure logic and with AWS's real signer: MSK's Java forms, the region, whose identity signs, and
the failures a user sees before anything connects. The broker that checks the tokens is in
tests/test_aws_msk_iam_broker.py."""

from __future__ import annotations

import base64
import time
from urllib.parse import parse_qs, urlsplit

import pytest

from airflow_provider_kafka_connector import aws_msk_iam
from airflow_provider_kafka_connector.config import ConnectionSettings, build_producer_config
from airflow_provider_kafka_connector.exceptions import (
    KafkaConfigurationError,
    KafkaCredentialsError,
    PropertyPolicyError,
)
from airflow_provider_kafka_connector.policy import PropertyPolicy

MSK = "software.amazon.msk.auth.iam"
PROVISIONED = ",".join(f"b-{n}.orders.x7yz1a.c2.kafka.eu-west-1.amazonaws.com:9098" for n in (1, 2))
ALLOWED = PropertyPolicy(callback_allowlist=(aws_msk_iam.CALLBACK,))
# MSK's documented client properties for Java, in both forms.
IAM_FORM = {
    "security.protocol": "SASL_SSL",
    "sasl.mechanism": "AWS_MSK_IAM",
    "sasl.jaas.config": f"{MSK}.IAMLoginModule required;",
    "sasl.client.callback.handler.class": f"{MSK}.IAMClientCallbackHandler",
}
OAUTHBEARER_FORM = {
    "security.protocol": "SASL_SSL",
    "sasl.mechanism": "OAUTHBEARER",
    "sasl.jaas.config": "org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required;",
    "sasl.login.callback.handler.class": f"{MSK}.IAMOAuthBearerLoginCallbackHandler",
    "sasl.client.callback.handler.class": f"{MSK}.IAMOAuthBearerLoginCallbackHandler",
}


def msk_config(extra, host=PROVISIONED, policy=ALLOWED):
    return build_producer_config(ConnectionSettings("msk", host=host), extra, policy=policy)


@pytest.fixture
def no_aws(tmp_path, monkeypatch):
    """An environment where AWS's credential chain finds nothing, and does not ask the instance metadata service."""
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_REGION"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    monkeypatch.delenv("AWS_WEB_IDENTITY_TOKEN_FILE", raising=False)
    monkeypatch.delenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    return tmp_path


@pytest.mark.parametrize("form", [IAM_FORM, OAUTHBEARER_FORM], ids=["AWS_MSK_IAM", "OAUTHBEARER"])
def test_both_java_forms_become_oauthbearer_with_the_msk_token_callback(form):
    config = msk_config(form)
    assert config["sasl.mechanism"] == "OAUTHBEARER"
    assert config["oauth_cb"] == aws_msk_iam.CALLBACK
    assert config["sasl.oauthbearer.config"] == "region=eu-west-1"
    assert "sasl.oauthbearer.method" not in config  # librdkafka's OIDC login would ignore the callback


def test_the_jaas_options_that_choose_the_identity_are_kept_and_the_others_named_as_ignored(caplog):
    line = (
        f'{MSK}.IAMLoginModule required awsRoleArn="arn:aws:iam::123456789012:role/airflow" '
        'awsRoleSessionName="dag-runs" awsStsRegion="eu-west-1" awsProfileName="prod" awsDebugCreds=true '
        'awsMaxRetries="5";'
    )
    config = msk_config({**IAM_FORM, "sasl.jaas.config": line})
    assert aws_msk_iam.parse_token_config(config["sasl.oauthbearer.config"]) == {
        "region": "eu-west-1",
        "awsProfileName": "prod",
        "awsRoleArn": "arn:aws:iam::123456789012:role/airflow",
        "awsRoleSessionName": "dag-runs",
        "awsStsRegion": "eu-west-1",
    }
    assert "these options are ignored: awsDebugCreds, awsMaxRetries" in caplog.text


@pytest.mark.parametrize(
    "host, region",
    [
        ("b-1.orders.x7yz1a.c2.kafka.eu-west-1.amazonaws.com:9098", "eu-west-1"),
        ("b-3-public.orders.x7yz1a.c11.kafka.us-east-1.amazonaws.com:9198", "us-east-1"),
        ("boot-abcd1234.c2.kafka-serverless.ap-southeast-2.amazonaws.com:9098", "ap-southeast-2"),
        ("b-1.c.x.c3.kafka.cn-north-1.amazonaws.com.cn:9098", "cn-north-1"),
        ("B-1.ORDERS.X.C2.KAFKA.US-GOV-WEST-1.AMAZONAWS.COM:9098", "us-gov-west-1"),
        ("kafka.internal.example:9098", None),
        ("127.0.0.1:9098", None),
    ],
)
def test_the_region_is_read_from_an_msk_host_name(host, region):
    assert aws_msk_iam.region_of(host) == region


def test_a_region_given_wins_then_the_host_name_then_the_environment():
    given = {**IAM_FORM, "sasl.oauthbearer.config": "region=us-west-2"}
    assert msk_config(given)["sasl.oauthbearer.config"] == "region=us-west-2"
    from_host = {"bootstrap.servers": PROVISIONED, "sasl.oauthbearer.config": ""}
    assert aws_msk_iam.with_region(from_host, {"AWS_REGION": "us-east-2"})["sasl.oauthbearer.config"] == (
        "region=eu-west-1"
    )
    private = {"bootstrap.servers": "kafka.internal:9098"}
    assert aws_msk_iam.with_region(private, {"AWS_DEFAULT_REGION": "sa-east-1"})["sasl.oauthbearer.config"] == (
        "region=sa-east-1"
    )
    assert aws_msk_iam.with_region(private, {"AWS_REGION": "us-east-2", "AWS_DEFAULT_REGION": "sa-east-1"})[
        "sasl.oauthbearer.config"
    ] == ("region=us-east-2")


def test_no_region_at_all_is_an_error_before_connecting(monkeypatch):
    monkeypatch.delenv("AWS_REGION", raising=False)
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    with pytest.raises(KafkaConfigurationError) as raised:
        msk_config(IAM_FORM, host="10.0.3.17:9098")
    assert "none is known" in str(raised.value)
    assert "'sasl.oauthbearer.config': 'region=<region of the cluster>'" in str(raised.value)


def test_aws_msk_iam_without_msks_jaas_line_says_what_to_add():
    with pytest.raises(KafkaConfigurationError, match="IAMLoginModule required;' beside it"):
        msk_config({"sasl.mechanism": "AWS_MSK_IAM"})


def test_the_deployment_must_allow_signing_with_its_identity():
    with pytest.raises(PropertyPolicyError) as raised:
        msk_config(IAM_FORM, policy=PropertyPolicy())
    message = str(raised.value)
    assert "Amazon MSK's IAM login" in message
    assert f"add '{aws_msk_iam.CALLBACK}' to [kafka_connector] callback_allowlist" in message


def test_the_token_is_a_signed_msk_connect_request_for_the_region(no_aws, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAEXAMPLEKEY000001")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret-key-of-the-test")
    token, expiry, principal = aws_msk_iam.token("region=eu-west-1")
    url = urlsplit(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode())
    query = parse_qs(url.query)
    assert (url.scheme, url.hostname) == ("https", "kafka.eu-west-1.amazonaws.com")
    assert query["Action"] == ["kafka-cluster:Connect"]
    assert query["X-Amz-Credential"][0].startswith("AKIAEXAMPLEKEY000001/")
    assert query["X-Amz-Credential"][0].endswith("/eu-west-1/kafka-cluster/aws4_request")
    assert 800 < expiry - time.time() <= 900
    assert principal == "AKIAEXAMPLEKEY000001"
    assert "secret-key-of-the-test" not in base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
    assert str(aws_msk_iam.identity_used("region=eu-west-1")) == "region eu-west-1, access key id AKIAEXAMPLEKEY000001"


def test_a_named_profile_signs_with_its_keys(no_aws):
    (no_aws / "credentials").write_text(
        "[reporting]\naws_access_key_id = AKIAPROFILEKEY000002\naws_secret_access_key = profile-secret\n"
    )
    token, _, principal = aws_msk_iam.token("region=us-east-1 awsProfileName=reporting")
    assert principal == "AKIAPROFILEKEY000002"
    assert "AKIAPROFILEKEY000002" in base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()


def test_no_credentials_fail_at_once_naming_where_they_were_looked_for(no_aws):
    started = time.monotonic()
    with pytest.raises(KafkaCredentialsError) as raised:
        aws_msk_iam.token("region=eu-west-1")
    assert time.monotonic() - started < 5
    assert "No AWS credentials found for Amazon MSK IAM authentication" in str(raised.value)
    assert "instance or container role" in str(raised.value)


def test_a_profile_that_does_not_exist_is_named(no_aws):
    with pytest.raises(KafkaCredentialsError, match="The AWS profile 'nowhere' .awsProfileName. is not in"):
        aws_msk_iam.token("region=eu-west-1 awsProfileName=nowhere")


def test_callback_settings_it_does_not_know_are_refused():
    with pytest.raises(KafkaConfigurationError, match="holds 'awsRegion'"):
        aws_msk_iam.parse_token_config("region=eu-west-1 awsRegion=eu-west-1")


def test_a_region_given_beside_the_jaas_options_is_merged_with_them():
    line = f'{MSK}.IAMLoginModule required awsProfileName="reporting";'
    extra = {**IAM_FORM, "sasl.jaas.config": line, "sasl.oauthbearer.config": "region=us-west-2"}
    assert msk_config(extra)["sasl.oauthbearer.config"] == "region=us-west-2 awsProfileName=reporting"
