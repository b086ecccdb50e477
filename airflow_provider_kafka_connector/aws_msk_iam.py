"""Amazon MSK's IAM authentication: an OAUTHBEARER token that is a request signed with the worker's AWS identity.

MSK documents it for Java clients as ``sasl.mechanism=AWS_MSK_IAM`` with ``IAMLoginModule`` (or as OAUTHBEARER with
``IAMOAuthBearerLoginCallbackHandler``); java_properties.py turns either form into librdkafka's OAUTHBEARER with this
module's token callback, whose settings travel as ``sasl.oauthbearer.config`` text (``region=... awsRoleArn=...``).
The token itself is made by AWS's own signer (the ``aws`` extra: aws-msk-iam-sasl-signer-python), from credentials
found the way every AWS SDK finds them, or from a role assumed with them.

A token lets whoever holds it connect to the cluster as that identity, so the policy (policy.py) gives this callback
to a connection only where the deployment lists it in ``[kafka_connector] callback_allowlist``.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from airflow_provider_kafka_connector.exceptions import KafkaConfigurationError, KafkaCredentialsError

CALLBACK = "airflow_provider_kafka_connector.aws_msk_iam.token"
MECHANISM = "AWS_MSK_IAM"
INSTALL = "pip install 'airflow-provider-kafka-connector[aws]'"
TOKEN_CONFIG = "sasl.oauthbearer.config"

# The JAAS options of AWS's Java library (aws-msk-iam-auth) that decide whose identity signs the token.
HONOURED_OPTIONS = ("awsProfileName", "awsRoleArn", "awsRoleSessionName", "awsRoleExternalId", "awsStsRegion")
REGION = "region"
_DEFAULT_SESSION_NAME = "airflow-kafka-connector"
_DEFAULT_CHAIN = "the environment, the AWS config files, a web identity token and the instance or container role"

# Provisioned brokers (b-1.<cluster>.<id>.c2.kafka.<region>.amazonaws.com, and their public and VPC-connectivity
# forms) and serverless ones (boot-<id>.c1.kafka-serverless.<region>.amazonaws.com).
_MSK_HOST = re.compile(r"\.kafka(?:-serverless)?\.([a-z]{2}(?:-[a-z]+)+-\d+)\.amazonaws\.com(?:\.cn)?$")
_REGION_VARIABLES = ("AWS_REGION", "AWS_DEFAULT_REGION")


def token_config(options: Mapping[str, str]) -> str:
    """The ``sasl.oauthbearer.config`` text for the honoured options of an MSK JAAS line (space-separated)."""
    for option, value in options.items():
        if option in HONOURED_OPTIONS and (not value or re.search(r"\s", value)):
            raise KafkaConfigurationError(f"The JAAS option {option} of the MSK IAM login must be one word.")
    return " ".join(f"{option}={options[option]}" for option in HONOURED_OPTIONS if options.get(option))


def parse_token_config(text: str) -> dict[str, str]:
    settings = {}
    for word in text.split():
        key, separator, value = word.partition("=")
        if not separator or key not in (REGION, *HONOURED_OPTIONS):
            raise KafkaConfigurationError(
                f"'{TOKEN_CONFIG}' for Amazon MSK IAM holds {key!r}; it takes region=<region> and the MSK JAAS "
                f"options {', '.join(HONOURED_OPTIONS)} as key=value words."
            )
        settings[key] = value
    return settings


def region_of(bootstrap_servers: str) -> str | None:
    """The AWS region an MSK broker's host name names, if the first server has such a name."""
    host = bootstrap_servers.split(",")[0].strip().rsplit(":", 1)[0].lower()
    match = _MSK_HOST.search(host)
    return match.group(1) if match else None


def with_region(config: Mapping[str, str], environ: Mapping[str, str] = os.environ) -> dict[str, str]:
    """The configuration with the region in the callback's settings: given there, else the bootstrap host's, else
    AWS_REGION or AWS_DEFAULT_REGION (as AWS's own clients read them); an error before connecting where none is."""
    settings = parse_token_config(config.get(TOKEN_CONFIG, ""))
    if REGION in settings:
        return dict(config)
    region = region_of(config.get("bootstrap.servers", ""))
    region = region or next((environ[name] for name in _REGION_VARIABLES if environ.get(name)), None)
    if region is None:
        raise KafkaConfigurationError(
            f"Amazon MSK IAM authentication signs its token for an AWS region, and none is known: the bootstrap "
            f"server {config.get('bootstrap.servers', '')!r} is not an MSK host name that names one, and neither "
            f"AWS_REGION nor AWS_DEFAULT_REGION is set. Give '{TOKEN_CONFIG}': 'region=<region of the cluster>' in "
            "the connection's extra, or set AWS_REGION where the tasks run."
        )
    return {**config, TOKEN_CONFIG: " ".join(filter(None, (f"{REGION}={region}", config.get(TOKEN_CONFIG, ""))))}


@dataclass(frozen=True)
class Identity:
    """Whose token the broker got: for messages (never the secret key or the session token)."""

    region: str
    access_key_id: str
    role_arn: str | None = None

    def __str__(self) -> str:
        role = f", role {self.role_arn}" if self.role_arn else ""
        return f"region {self.region}, access key id {self.access_key_id}{role}"


_identities: dict[str, Identity] = {}
_identities_lock = threading.Lock()


def identity_used(oauthbearer_config: str) -> Identity | None:
    """The identity of the last token made in this process for these callback settings."""
    with _identities_lock:
        return _identities.get(oauthbearer_config)


def token(oauthbearer_config: str) -> tuple[str, float, str]:
    """confluent-kafka's ``oauth_cb``: the token, its expiry (seconds since the epoch) and the principal."""
    settings = parse_token_config(oauthbearer_config)
    try:
        from aws_msk_iam_sasl_signer import MSKAuthTokenProvider
        from botocore.credentials import CredentialProvider
    except ImportError:
        raise KafkaConfigurationError(
            f"Amazon MSK IAM authentication needs the provider's aws extra where the tasks run: {INSTALL}"
        ) from None
    region = settings[REGION]
    credentials, role_arn = _credentials(settings)

    class Given(CredentialProvider):  # type: ignore[misc]
        def load(self) -> Any:
            return credentials

    signed, expiry_ms = MSKAuthTokenProvider.generate_auth_token_from_credentials_provider(region, Given())
    identity = Identity(region, credentials.access_key, role_arn)
    with _identities_lock:
        _identities[oauthbearer_config] = identity
    return signed, expiry_ms / 1000, role_arn or credentials.access_key


def _credentials(settings: Mapping[str, str]) -> tuple[Any, str | None]:
    """Frozen botocore credentials: the profile's or the default chain's, or a role's assumed with them."""
    import botocore.exceptions
    import botocore.session

    profile = settings.get("awsProfileName")
    try:
        session = botocore.session.Session(profile=profile)
        found = session.get_credentials()
    except botocore.exceptions.ProfileNotFound:
        raise KafkaCredentialsError(
            f"The AWS profile {profile!r} (awsProfileName) is not in this worker's AWS config or credentials file."
        ) from None
    if found is None:
        where = f"the AWS profile {profile!r}" if profile else _DEFAULT_CHAIN
        raise KafkaCredentialsError(
            f"No AWS credentials found for Amazon MSK IAM authentication: looked in {where}. Give the workers (and "
            "the API server, for the Connections Test) an AWS identity allowed kafka-cluster:Connect."
        )
    credentials = found.get_frozen_credentials()
    role_arn = settings.get("awsRoleArn")
    if role_arn is None:
        return credentials, None
    return _assumed_role(session, credentials, role_arn, settings), role_arn


def _assumed_role(session: Any, credentials: Any, role_arn: str, settings: Mapping[str, str]) -> Any:
    from botocore.credentials import Credentials
    from botocore.exceptions import BotoCoreError, ClientError

    region = settings.get("awsStsRegion") or settings[REGION]
    sts = session.create_client(
        "sts",
        region_name=region,
        aws_access_key_id=credentials.access_key,
        aws_secret_access_key=credentials.secret_key,
        aws_session_token=credentials.token,
    )
    request = {"RoleArn": role_arn, "RoleSessionName": settings.get("awsRoleSessionName", _DEFAULT_SESSION_NAME)}
    if settings.get("awsRoleExternalId"):
        request["ExternalId"] = settings["awsRoleExternalId"]
    try:
        answer = sts.assume_role(**request)["Credentials"]
    except (ClientError, BotoCoreError) as error:
        raise KafkaCredentialsError(
            f"Could not assume the role {role_arn} (awsRoleArn) with access key id {credentials.access_key} through "
            f"STS in {region}: {error}. Check the role's trust policy and that this identity may call "
            "sts:AssumeRole on it."
        ) from None
    return Credentials(answer["AccessKeyId"], answer["SecretAccessKey"], answer["SessionToken"])
