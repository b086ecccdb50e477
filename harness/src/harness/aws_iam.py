"""A stand-in for AWS IAM and STS for tests of Amazon MSK's IAM authentication: moto's server (in a thread of this
process) answers the IAM and STS API, and a small HTTP endpoint next to it tells the broker's MSK_IAM listener
(harness.kafka_broker, msk_iam/MskIamValidator.java) the secret, session token and ARN of an access key id, read from
moto's backends, as MSK asks IAM. Clients sign their tokens with real AWS code (aws-msk-iam-sasl-signer-python,
botocore) using credentials that moto issued: an IAM user's access key, or the temporary credentials of a role the
user assumed through STS.

Known limits: moto checks no signature and no policy on its own API (any caller may assume any role), and the broker
checks no authorization (kafka-cluster:* actions): only who a client is, as MSK's authentication does.

Usage:
    with running_aws_iam() as iam:
        user = iam.create_user("producer")
        role_arn = iam.create_role("kafka-producer", trusted=user)
        env = iam.environment("eu-west-1", user)  # for a subprocess that signs as the user
"""

from __future__ import annotations

import configparser
import contextlib
import json
import logging
import os
import threading
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import boto3
from moto.core.utils import utcnow
from moto.iam.models import iam_backends
from moto.server import ThreadedMotoServer
from moto.sts.models import sts_backends

from harness.ports import LOOPBACK
from harness.services import running

PARTITION = "aws"
# The key the harness's own calls sign with: moto serves a key it did not issue as its default account (123456789012).
ADMIN_KEY = "testing"
API_REGION = "us-east-1"  # IAM is global, and moto's STS answers in any region


@dataclass(frozen=True)
class AwsCredentials:
    access_key_id: str
    secret_access_key: str = field(repr=False)
    #: The IAM user's ARN, or the assumed role's (arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION): the principal
    #: that the MSK_IAM listener authenticates.
    arn: str
    #: Only temporary credentials (from STS) have one.
    session_token: str | None = field(default=None, repr=False)


@dataclass
class AwsIam:
    #: moto's server: the IAM and STS API (AWS_ENDPOINT_URL_STS in environment()).
    endpoint_url: str
    #: The broker's credential lookup (harness.kafka_broker.AwsCredentialSource).
    credentials_url: str
    work_dir: Path
    _moto: ThreadedMotoServer | None = field(default=None, repr=False)
    _lookup: ThreadingHTTPServer | None = field(default=None, repr=False)

    @property
    def config_file(self) -> Path:
        """The AWS config file that environment() points at (AWS_CONFIG_FILE): write_profile's regions."""
        return self.work_dir / "config"

    @property
    def credentials_file(self) -> Path:
        """The shared credentials file that environment() points at (AWS_SHARED_CREDENTIALS_FILE)."""
        return self.work_dir / "credentials"

    def client(self, service: str, credentials: AwsCredentials | None = None) -> Any:
        """A boto3 client of moto's service, as credentials (else moto's default account's administrator)."""
        return boto3.client(
            service,
            endpoint_url=self.endpoint_url,
            region_name=API_REGION,
            aws_access_key_id=credentials.access_key_id if credentials else ADMIN_KEY,
            aws_secret_access_key=credentials.secret_access_key if credentials else ADMIN_KEY,
            aws_session_token=credentials.session_token if credentials else None,
        )

    def create_user(self, name: str) -> AwsCredentials:
        """A new IAM user with an access key."""
        iam = self.client("iam")
        arn = iam.create_user(UserName=name)["User"]["Arn"]
        key = iam.create_access_key(UserName=name)["AccessKey"]
        return AwsCredentials(key["AccessKeyId"], key["SecretAccessKey"], arn)

    def create_role(self, name: str, trusted: AwsCredentials) -> str:
        """A new IAM role whose trust policy lets the trusted user assume it; returns the role's ARN."""
        policy = {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Principal": {"AWS": trusted.arn}, "Action": "sts:AssumeRole"}],
        }
        role = self.client("iam").create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(policy))
        return str(role["Role"]["Arn"])

    def assume_role(self, credentials: AwsCredentials, role_arn: str, session_name: str = "harness") -> AwsCredentials:
        """Temporary credentials (with a session token) of role_arn, from STS's AssumeRole called as credentials."""
        answer = self.client("sts", credentials).assume_role(RoleArn=role_arn, RoleSessionName=session_name)
        issued = answer["Credentials"]
        return AwsCredentials(
            issued["AccessKeyId"], issued["SecretAccessKey"], answer["AssumedRoleUser"]["Arn"], issued["SessionToken"]
        )

    def sessions(self) -> list[AwsCredentials]:
        """Every set of temporary credentials STS has issued (AssumeRole), also to the tasks: for leak checks."""
        return [
            AwsCredentials(role.access_key_id, role.secret_access_key, role.arn, role.session_token)
            for account_id in list(sts_backends.keys())
            for role in list(sts_backends[account_id][PARTITION].assumed_roles)
        ]

    def write_profile(self, name: str, credentials: AwsCredentials, region: str) -> None:
        """A named profile (AWS_PROFILE, the signer's aws_profile) in the files that environment() points at."""
        secrets = {
            "aws_access_key_id": credentials.access_key_id,
            "aws_secret_access_key": credentials.secret_access_key,
        }
        if credentials.session_token is not None:
            secrets["aws_session_token"] = credentials.session_token
        _set_section(self.credentials_file, name, secrets)
        _set_section(self.config_file, f"profile {name}", {"region": region})

    def environment(
        self,
        region: str,
        credentials: AwsCredentials | None = None,
        profile: str | None = None,
        base: Mapping[str, str] | None = None,
    ) -> dict[str, str]:
        """A subprocess's whole environment: base (os.environ by default; {} for only the AWS variables) without any
        AWS_* variable of its own, so that nothing of the machine's AWS setup (profiles, instance metadata, real
        credentials) is used; then STS at moto's server, the region, this stand-in's config and credentials files, and
        credentials (AWS_ACCESS_KEY_ID, ...) or profile (AWS_PROFILE, see write_profile)."""
        env = {
            key: value for key, value in (os.environ if base is None else base).items() if not key.startswith("AWS_")
        }
        env.update(
            {
                "AWS_ENDPOINT_URL_STS": self.endpoint_url,
                "AWS_ENDPOINT_URL_IAM": self.endpoint_url,
                "AWS_REGION": region,
                "AWS_DEFAULT_REGION": region,  # what boto3 reads
                "AWS_EC2_METADATA_DISABLED": "true",
                "AWS_CONFIG_FILE": str(self.config_file),
                "AWS_SHARED_CREDENTIALS_FILE": str(self.credentials_file),
            }
        )
        if credentials is not None:
            env["AWS_ACCESS_KEY_ID"] = credentials.access_key_id
            env["AWS_SECRET_ACCESS_KEY"] = credentials.secret_access_key
            if credentials.session_token is not None:
                env["AWS_SESSION_TOKEN"] = credentials.session_token
        if profile is not None:
            env["AWS_PROFILE"] = profile
        return env

    def stop(self) -> None:
        if self._lookup is not None:
            self._lookup.shutdown()
            self._lookup.server_close()
            self._lookup = None
        if self._moto is not None:
            self._moto.stop()
            self._moto = None


def _set_section(path: Path, section: str, values: dict[str, str]) -> None:
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(path)
    parser[section] = values
    with path.open("w") as out:
        parser.write(out)


def lookup(access_key_id: str) -> dict[str, str] | str:
    """What IAM knows of an access key id, from moto's backends: its secret, session token (temporary credentials
    only) and principal's ARN; or why it authenticates no one (unknown, inactive, expired)."""
    for account_id in list(iam_backends.keys()):
        iam = iam_backends[account_id][PARTITION]
        for user in list(iam.users.values()):
            for key in list(user.access_keys):
                if key.access_key_id == access_key_id:
                    if key.status != "Active":
                        return f"inactive access key id {access_key_id} ({user.arn})"
                    return {"secret_access_key": key.secret_access_key, "arn": user.arn}
    for account_id in list(sts_backends.keys()):
        sts = sts_backends[account_id][PARTITION]
        for role in list(sts.assumed_roles):
            if role.access_key_id == access_key_id:
                if role.expiration <= utcnow():
                    return (
                        f"expired access key id {access_key_id} ({role.arn}, at {role.expiration:%Y-%m-%dT%H:%M:%SZ})"
                    )
                return {
                    "secret_access_key": role.secret_access_key,
                    "session_token": role.session_token,
                    "arn": role.arn,
                }
    return f"unknown access key id {access_key_id}: no IAM user or STS session has it"


class _LookupHandler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)
        found = lookup(query.get("access_key_id", [""])[0])
        if isinstance(found, str):
            self._answer(HTTPStatus.NOT_FOUND, found)
        else:
            self._answer(HTTPStatus.OK, "".join(f"{name}={value}\n" for name, value in found.items()))

    def _answer(self, status: HTTPStatus, text: str) -> None:
        body = text.encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        """Silent: the broker's log tells which lookups failed and why."""


def start_aws_iam(work_dir: Path) -> AwsIam:
    """moto's server and the credential lookup, each on a loopback port the OS picks; the profile files live in
    work_dir."""
    work_dir.mkdir(parents=True, exist_ok=True)
    # werkzeug, under moto's server, would print every request to stderr.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    moto = ThreadedMotoServer(ip_address=LOOPBACK, port=0, verbose=False)
    moto.start()
    host, port = moto.get_host_and_port()
    lookup_server = ThreadingHTTPServer((LOOPBACK, 0), _LookupHandler)
    lookup_server.daemon_threads = True
    threading.Thread(target=lookup_server.serve_forever, name="aws-iam-credentials", daemon=True).start()
    iam = AwsIam(
        endpoint_url=f"http://{host}:{port}",
        credentials_url=f"http://{LOOPBACK}:{lookup_server.server_address[1]}/credentials",
        work_dir=work_dir,
        _moto=moto,
        _lookup=lookup_server,
    )
    for path in (iam.config_file, iam.credentials_file):
        path.touch()
    return iam


def running_aws_iam(work_dir: Path | None = None) -> contextlib.AbstractContextManager[AwsIam]:
    """Start the stand-in, yield it, always stop it; a temporary work_dir is removed afterwards."""
    return running(start_aws_iam, work_dir, "aws-iam-")
