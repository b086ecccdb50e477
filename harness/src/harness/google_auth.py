"""A stand-in for Google's OAuth 2.0 token service, for tests of Google Cloud Managed Service for Apache Kafka: a small
HTTP server in a thread of this process that issues access tokens to service accounts it created, exactly as
google-auth's service-account credentials ask for them (the JWT-bearer grant: an RS256 assertion signed with the
account's key), and tells the broker's GOOGLE listener (harness.kafka_broker, google_kafka/GoogleKafkaValidator.java)
whose an access token is and until when, as the managed service asks Google. Clients get their tokens with real
Google code (google-auth) from the JSON key files this stand-in writes, whose token_uri points here.

Endpoints (on 127.0.0.1, a port the OS picks):
    POST /token      form grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer&assertion=JWT; 200 JSON
                     {"access_token", "expires_in", "token_type": "Bearer"}, or 400 JSON {"error", "error_description"}
                     as Google answers (invalid_grant for a bad signature, an unknown account, a stale assertion)
    GET /tokeninfo   ?access_token=TOKEN; 200 JSON as Google's tokeninfo answers it (email, exp, expires_in, scope,
                     azp, aud: all strings), or 400 JSON {"error": "invalid_token", "error_description": why}

Known limits: no IAM policy (any account may use any cluster: the broker checks who a client is, as the managed
service's authentication does, not what it may do), no user accounts, no metadata server, no impersonation.

Usage:
    with running_google_auth() as google:
        account = google.create_service_account("producer")
        key_file = google.key_file(account)  # google.oauth2.service_account.Credentials.from_service_account_file
        env = google.environment(account)  # for a subprocess whose google.auth.default() finds only that account
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import math
import os
import secrets
import threading
import time
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from harness.ports import LOOPBACK
from harness.services import running

PROJECT = "harness-project"
#: The scope the provider's credentials ask for (google.auth.default(scopes=[CLOUD_PLATFORM_SCOPE])), as Google's
#: quickstart for Managed Kafka does.
CLOUD_PLATFORM_SCOPE = "https://www.googleapis.com/auth/cloud-platform"
#: The audience google-auth puts into every service-account assertion, whatever the key file's token_uri
#: (google/oauth2/service_account.py, _GOOGLE_OAUTH2_TOKEN_ENDPOINT): Google's own token endpoint.
GOOGLE_TOKEN_URI = "https://oauth2.googleapis.com/token"
JWT_BEARER_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
DEFAULT_TOKEN_LIFETIME = 3600
#: Google refuses an assertion that lives longer than an hour, or whose iat is further than this in the future.
MAX_ASSERTION_LIFETIME = 3600
CLOCK_SKEW = 300
#: Where environment() points google-auth's metadata server: a closed port, so that nothing ever answers there.
NO_METADATA_SERVER = "127.0.0.1:1"


@dataclass(frozen=True)
class ServiceAccount:
    email: str
    project_id: str
    #: The numeric id Google gives an account: the key file's client_id, tokeninfo's azp and aud.
    client_id: str
    #: The key's id: the key file's private_key_id, which google-auth sends as the assertion's kid.
    private_key_id: str
    private_key_pem: str = field(repr=False)
    #: How long this account's access tokens live, in seconds (None: the stand-in's token_lifetime).
    token_lifetime: int | None = None

    @property
    def name(self) -> str:
        return self.email.split("@", 1)[0]

    def public_key(self) -> rsa.RSAPublicKey:
        key = serialization.load_pem_private_key(self.private_key_pem.encode(), password=None)
        assert isinstance(key, rsa.RSAPrivateKey)
        return key.public_key()

    def with_another_key(self) -> ServiceAccount:
        """The same account (e-mail, key id) with a key Google never saw: its assertions are refused."""
        return replace(self, private_key_pem=_new_private_key_pem())


@dataclass(frozen=True)
class _AccessToken:
    email: str
    client_id: str
    scope: str
    #: Whole seconds since the epoch, as Google's tokeninfo tells it (exp), so that every side agrees.
    expiry: int


@dataclass
class GoogleAuth:
    #: This server's root, http://127.0.0.1:PORT.
    url: str
    work_dir: Path
    #: How long access tokens live, in seconds, unless the account says otherwise.
    token_lifetime: int = DEFAULT_TOKEN_LIFETIME
    project_id: str = PROJECT
    _server: ThreadingHTTPServer | None = field(default=None, repr=False)
    _accounts: dict[str, ServiceAccount] = field(default_factory=dict, repr=False)
    _tokens: dict[str, _AccessToken] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def token_uri(self) -> str:
        """The OAuth 2.0 token endpoint: the key files' token_uri."""
        return f"{self.url}/token"

    @property
    def token_info_url(self) -> str:
        """The broker's access-token lookup (harness.kafka_broker.GoogleTokenInfo)."""
        return f"{self.url}/tokeninfo"

    @property
    def cloudsdk_config(self) -> Path:
        """The empty gcloud configuration directory that environment() points at (CLOUDSDK_CONFIG), so that the
        machine's gcloud login is never used."""
        return self.work_dir / "gcloud"

    def create_service_account(self, name: str, token_lifetime: int | None = None) -> ServiceAccount:
        """A new service account name@PROJECT.iam.gserviceaccount.com with a new RSA key; its access tokens live
        token_lifetime seconds (else the stand-in's token_lifetime)."""
        account = ServiceAccount(
            email=f"{name}@{self.project_id}.iam.gserviceaccount.com",
            project_id=self.project_id,
            client_id=str(secrets.randbelow(10**20) + 10**20),
            private_key_id=secrets.token_hex(20),
            private_key_pem=_new_private_key_pem(),
            token_lifetime=token_lifetime,
        )
        with self._lock:
            if account.email in self._accounts:
                raise ValueError(f"the service account {account.email} exists already")
            self._accounts[account.email] = account
        return account

    def key_file(self, account: ServiceAccount) -> Path:
        """The account's JSON key file, as the Cloud console downloads it (readable by its owner only), except that
        token_uri is this stand-in's token endpoint. Any ServiceAccount, also one with_another_key."""
        info = {
            "type": "service_account",
            "project_id": account.project_id,
            "private_key_id": account.private_key_id,
            "private_key": account.private_key_pem,
            "client_email": account.email,
            "client_id": account.client_id,
            "auth_uri": "https://accounts.google.com/o/oauth2/auth",
            "token_uri": self.token_uri,
            "auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs",
            "client_x509_cert_url": "https://www.googleapis.com/robot/v1/metadata/x509/"
            + urllib.parse.quote(account.email),
            "universe_domain": "googleapis.com",
        }
        digest = hashlib.sha256(account.private_key_pem.encode()).hexdigest()[:8]
        path = self.work_dir / "keys" / f"{account.name}-{digest}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_text(json.dumps(info, indent=2) + "\n")
        return path

    def environment(
        self, account: ServiceAccount | None = None, base: Mapping[str, str] | None = None
    ) -> dict[str, str]:
        """A subprocess's whole environment: base (os.environ by default; {} for only these variables) without any
        GOOGLE_*, CLOUDSDK_* or GCE_* variable or NO_GCE_CHECK of its own, so that nothing of the machine's Google
        setup (a key file, gcloud's login, a metadata server) is used; then account's key file
        (GOOGLE_APPLICATION_CREDENTIALS; without an account google.auth.default() finds no credentials), an empty
        gcloud configuration, and no metadata server (NO_GCE_CHECK, and its address a closed port)."""
        prefixes = ("GOOGLE_", "CLOUDSDK_", "GCE_")
        env = {
            key: value
            for key, value in (os.environ if base is None else base).items()
            if not key.startswith(prefixes) and key != "NO_GCE_CHECK"
        }
        env.update(
            {
                "CLOUDSDK_CONFIG": str(self.cloudsdk_config),
                "NO_GCE_CHECK": "true",  # google-auth compares with "true" exactly
                "GCE_METADATA_HOST": NO_METADATA_SERVER,
                "GCE_METADATA_IP": NO_METADATA_SERVER,
            }
        )
        if account is not None:
            env["GOOGLE_APPLICATION_CREDENTIALS"] = str(self.key_file(account))
        return env

    def issue(self, assertion: str, grant_type: str) -> tuple[HTTPStatus, dict[str, Any]]:
        """The token endpoint's answer to a JWT-bearer grant: a new access token of the assertion's account, or the
        error Google answers."""
        if grant_type != JWT_BEARER_GRANT:
            return _oauth_error("unsupported_grant_type", f"Invalid grant_type: {grant_type}")
        try:
            header, claims, signed, signature = _split_jwt(assertion)
        except ValueError as error:
            return _oauth_error("invalid_grant", f"Invalid JWT: {error}")
        if header.get("alg") != "RS256":
            return _oauth_error("invalid_grant", f"Invalid JWT: the algorithm {header.get('alg')!r} is not RS256")
        with self._lock:
            account = self._accounts.get(str(claims.get("iss")))
        if account is None:
            return _oauth_error("invalid_grant", "Invalid grant: account not found")
        if "kid" in header and header["kid"] != account.private_key_id:
            return _oauth_error("invalid_grant", "Invalid JWT Signature.")
        try:
            account.public_key().verify(signature, signed, padding.PKCS1v15(), hashes.SHA256())
        except InvalidSignature:
            return _oauth_error("invalid_grant", "Invalid JWT Signature.")
        if claims.get("aud") not in (GOOGLE_TOKEN_URI, self.token_uri):
            return _oauth_error(
                "invalid_grant", f"Invalid JWT: Failed audience check. The right audience is {GOOGLE_TOKEN_URI}"
            )
        now = time.time()
        issued_at, expires_at = claims.get("iat"), claims.get("exp")
        if (
            not isinstance(issued_at, (int, float))
            or not isinstance(expires_at, (int, float))
            or issued_at > now + CLOCK_SKEW
            or expires_at <= now
            or expires_at - issued_at > MAX_ASSERTION_LIFETIME
        ):
            return _oauth_error(
                "invalid_grant",
                "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. "
                "Check your iat and exp values in the JWT claim.",
            )
        scope = str(claims.get("scope") or "")
        if not scope.strip():
            # What Google answers google-auth's credentials made without scopes.
            return _oauth_error("invalid_scope", "Invalid OAuth scope or ID token audience provided.")
        lifetime = account.token_lifetime if account.token_lifetime is not None else self.token_lifetime
        access_token = "ya29.harness-" + secrets.token_urlsafe(48)
        with self._lock:
            self._tokens[access_token] = _AccessToken(account.email, account.client_id, scope, int(now) + lifetime)
        return HTTPStatus.OK, {"access_token": access_token, "expires_in": lifetime, "token_type": "Bearer"}

    def token_info(self, access_token: str) -> tuple[HTTPStatus, dict[str, Any]]:
        """What Google's tokeninfo answers of an access token: whose it is and until when; or why it is invalid."""
        with self._lock:
            token = self._tokens.get(access_token)
        if token is None:
            return HTTPStatus.BAD_REQUEST, {
                "error": "invalid_token",
                "error_description": "unknown access token: this token service never issued it",
            }
        left = token.expiry - time.time()
        if left <= 0:
            expired = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(token.expiry))
            return HTTPStatus.BAD_REQUEST, {
                "error": "invalid_token",
                "error_description": f"the access token of {token.email} expired at {expired}",
            }
        return HTTPStatus.OK, {
            "azp": token.client_id,
            "aud": token.client_id,
            "scope": token.scope,
            "exp": str(token.expiry),
            "expires_in": str(math.floor(left)),
            "email": token.email,
            "email_verified": "true",
            "access_type": "online",
        }

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


def _new_private_key_pem() -> str:
    """A 2048-bit RSA key in PKCS #8 PEM, as Google's key files hold it."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    return pem.decode()


def _b64url_decode(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def _split_jwt(jwt: str) -> tuple[dict[str, Any], dict[str, Any], bytes, bytes]:
    """A compact JWS's header and claims, the bytes it signs and its signature; ValueError when it is not one."""
    parts = jwt.split(".")
    if len(parts) != 3:
        raise ValueError("not three dot-separated parts")
    try:
        header, claims = json.loads(_b64url_decode(parts[0])), json.loads(_b64url_decode(parts[1]))
        signature = _b64url_decode(parts[2])
    except ValueError as error:  # binascii.Error, JSONDecodeError and UnicodeDecodeError are ValueErrors
        raise ValueError(f"malformed: {error}") from None
    if not isinstance(header, dict) or not isinstance(claims, dict):
        raise ValueError("the header or the claims are not JSON objects")
    return header, claims, f"{parts[0]}.{parts[1]}".encode("ascii"), signature


def _oauth_error(error: str, description: str) -> tuple[HTTPStatus, dict[str, Any]]:
    return HTTPStatus.BAD_REQUEST, {"error": error, "error_description": description}


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_POST(self) -> None:
        path = urllib.parse.urlsplit(self.path).path
        if path != "/token":
            self._answer(HTTPStatus.NOT_FOUND, {"error": "not_found", "error_description": f"no endpoint {path}"})
            return
        content_type = self.headers.get("Content-Type", "").split(";")[0].strip()
        body = self.rfile.read(int(self.headers.get("Content-Length", "0"))).decode("utf-8", "replace")
        if content_type != "application/x-www-form-urlencoded":
            self._answer(*_oauth_error("invalid_request", f"unsupported Content-Type {content_type!r}"))
            return
        form = urllib.parse.parse_qs(body)
        self._answer(*self.server.google.issue(form.get("assertion", [""])[0], form.get("grant_type", [""])[0]))

    def do_GET(self) -> None:
        parts = urllib.parse.urlsplit(self.path)
        if parts.path != "/tokeninfo":
            self._answer(HTTPStatus.NOT_FOUND, {"error": "not_found", "error_description": f"no endpoint {parts.path}"})
            return
        query = urllib.parse.parse_qs(parts.query)
        self._answer(*self.server.google.token_info(query.get("access_token", [""])[0]))

    def _answer(self, status: HTTPStatus, answer: dict[str, Any]) -> None:
        body = json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Cache-Control", "no-store")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        """Silent: google-auth's errors and the broker's log tell which requests failed and why."""


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    google: GoogleAuth


def start_google_auth(work_dir: Path, token_lifetime: int = DEFAULT_TOKEN_LIFETIME) -> GoogleAuth:
    """The token service on a loopback port the OS picks; key files and the empty gcloud configuration live in
    work_dir."""
    work_dir.mkdir(parents=True, exist_ok=True)
    server = _Server((LOOPBACK, 0), _Handler)
    url = f"http://{LOOPBACK}:{server.server_address[1]}"
    google = GoogleAuth(url=url, work_dir=work_dir, token_lifetime=token_lifetime, _server=server)
    google.cloudsdk_config.mkdir(exist_ok=True)
    server.google = google
    threading.Thread(target=server.serve_forever, name="google-auth", daemon=True).start()
    return google


def running_google_auth(
    work_dir: Path | None = None, token_lifetime: int = DEFAULT_TOKEN_LIFETIME
) -> contextlib.AbstractContextManager[GoogleAuth]:
    """Start the stand-in, yield it, always stop it; a temporary work_dir is removed afterwards."""
    return running(lambda directory: start_google_auth(directory, token_lifetime), work_dir, "google-auth-")
