"""A real OAuth 2.0 / OIDC token endpoint for tests: NAV's mock-oauth2-server from Maven Central.

It serves the client-credentials grant (`POST /<issuer>/token`), the signing keys (`GET /<issuer>/jwks`) and the
discovery document, and signs real RS256 JWTs that a Kafka broker's OAuthBearerValidatorCallbackHandler verifies
against those keys. What each token says is configured here: the scope a client asks for picks the claims, so one
server issues a good token (scope `kafka`), one for another audience (scope `wrong-audience`) and one from another
issuer, signed with the same key (scope `wrong-issuer`).

Known limit: the server authenticates no client. It issues a token for any client id and secret, so a wrong client
secret cannot be shown failing against it; harness.identity_provider (Spring Authorization Server, the broker's
IDP_OAUTH listener) authenticates its clients and shows that case.

The jars are fetched with Maven once into harness.locations.cache_dir(), as the broker's are.

Usage:
    python -m harness.oidc_server fetch     # only download the jars
"""

from __future__ import annotations

import contextlib
import json
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from harness.kafka_broker import _spawn, _terminate, fetch_maven_jars
from harness.locations import PACKAGE_DIR, cache_dir
from harness.ports import LOOPBACK, free_port
from harness.services import running, wait_until_answers

VERSION = "2.1.10"
POM = PACKAGE_DIR / "oidc-server-pom.xml"
LIB_DIR = cache_dir() / f"mock-oauth2-server-{VERSION}" / "lib"
MAIN_CLASS = "no.nav.security.mock.oauth2.StandaloneMockOAuth2ServerKt"
JVM_OPTS = ("-XX:+UseSerialGC", "-Xmx96m", "-XX:TieredStopAtLevel=1", "-Djava.awt.headless=true")
READY_TIMEOUT = 60.0
ISSUER_ID = "kafka"
AUDIENCE = "kafka-broker"
SUBJECT = "airflow-producer"
SCOPE = "kafka"
WRONG_AUDIENCE_SCOPE = "wrong-audience"
WRONG_ISSUER_SCOPE = "wrong-issuer"
WRONG_ISSUER = "https://impostor.example.com/kafka"
CLIENT_ID = "airflow-kafka-client"
TOKEN_REQUEST_LOG = "handle token request"
# The server's own logging, plus the line its request handler writes for each token request (counted by tests).
_LOGBACK = """\
<configuration>
  <appender name="out" class="ch.qos.logback.core.ConsoleAppender">
    <encoder><pattern>%d [%thread] %-5level %logger{40} - %msg%n</pattern></encoder>
  </appender>
  <logger name="no.nav.security.mock.oauth2.http.OAuth2HttpRequestHandler" level="debug"/>
  <root level="info"><appender-ref ref="out"/></root>
</configuration>
"""
CLIENT_SECRET = "0idc-Cl1ent-s3cret;pw"  # any secret is accepted (see the module's note)


@dataclass
class OidcServer:
    base_url: str
    log_file: Path
    token_lifetime: int
    _process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def issuer(self) -> str:
        return f"{self.base_url}/{ISSUER_ID}"

    @property
    def token_endpoint(self) -> str:
        return f"{self.issuer}/token"

    @property
    def jwks_endpoint(self) -> str:
        return f"{self.issuer}/jwks"

    def token_requests(self, label: str = "") -> int:
        """How many token requests the server has answered (from its request log); with label, only those whose
        scope was "kafka <label>"."""
        text = self.log_file.read_text(errors="replace") if self.log_file.exists() else ""
        return sum(1 for request in text.split(TOKEN_REQUEST_LOG)[1:] if label in request.split("\n20", 1)[0])

    def stop(self) -> None:
        if self._process is not None:
            _terminate(self._process)
            self._process = None


def fetch_jars() -> Path:
    return fetch_maven_jars(POM, LIB_DIR, f"mock-oauth2-server-{VERSION}.jar", "mock-oauth2-server")


def server_config(token_lifetime: int) -> dict[str, object]:
    """mock-oauth2-server's JSON_CONFIG: one issuer whose tokens' claims are picked by the requested scope."""

    def mapping(requested: str, **claims: object) -> dict[str, object]:
        claims = {"sub": SUBJECT, "aud": [AUDIENCE], "scope": requested, **claims}
        return {"requestParam": "scope", "match": requested, "claims": claims}

    return {
        "interactiveLogin": False,
        "tokenCallbacks": [
            {
                "issuerId": ISSUER_ID,
                "tokenExpiry": token_lifetime,
                "requestMappings": [
                    # "kafka" and "kafka <label>": a test can tell its own token requests by the label.
                    {**mapping(SCOPE), "match": f"{SCOPE}( .+)?"},
                    mapping(WRONG_AUDIENCE_SCOPE, aud=["another-service"]),
                    mapping(WRONG_ISSUER_SCOPE, iss=WRONG_ISSUER),
                ],
            }
        ],
    }


def _command() -> list[str]:
    java = shutil.which("java")
    if java is None:
        raise RuntimeError("java (17+) is needed to run the OIDC server")
    return [java, *JVM_OPTS, "-cp", str(LIB_DIR / "*"), MAIN_CLASS]


def start_oidc_server(work_dir: Path, token_lifetime: int = 3600) -> OidcServer:
    """Start the server on a free loopback port; tokens live token_lifetime seconds; its log is work_dir/oidc.log."""
    fetch_jars()
    work_dir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    server = OidcServer(f"http://{LOOPBACK}:{port}", work_dir / "oidc.log", token_lifetime)
    logback = work_dir / "logback.xml"
    logback.write_text(_LOGBACK)
    env = {
        "PATH": "/usr/bin:/bin",
        "LOGBACK_CONFIG": str(logback),
        "SERVER_HOSTNAME": LOOPBACK,
        "SERVER_PORT": str(port),
        "JSON_CONFIG": json.dumps(server_config(token_lifetime)),
    }
    with server.log_file.open("wb") as log:
        server._process = _spawn(_command(), cwd=work_dir, stdout=log, stderr=log, env=env)
    try:
        discovery = f"{server.issuer}/.well-known/openid-configuration"
        wait_until_answers(server._process, discovery, server.log_file, "the OIDC server", READY_TIMEOUT)
    except BaseException:
        server.stop()
        raise
    return server


def running_oidc_server(
    work_dir: Path | None = None, token_lifetime: int = 3600
) -> contextlib.AbstractContextManager[OidcServer]:
    """Start a server, yield it, always stop it; a temporary work_dir is removed afterwards."""
    return running(lambda directory: start_oidc_server(directory, token_lifetime), work_dir, "oidc-server-")


if __name__ == "__main__":
    if sys.argv[1:] != ["fetch"]:
        sys.exit(__doc__)
    print(fetch_jars())
