"""A real identity provider for tests: Spring Authorization Server, which authenticates the clients of the OAuth 2.0
client-credentials grant (a wrong client secret gets HTTP 401 {"error":"invalid_client"}) and signs RS256 JWTs for
the broker's audience (harness.oidc_server.AUDIENCE) that a broker's OAuthBearerValidatorCallbackHandler verifies
against its JWKS. It has one confidential client, CLIENT_ID with CLIENT_SECRET, allowed the scope SCOPE.

harness.oidc_server's mock server issues a token for any secret; this one is here to show a wrong secret failing.
Keycloak was measured first (26.7.3 on this 2-core machine, shared with other work): a 168 MiB download (28 s), a
`kc.sh build` of 92 s, then 89 s to start with the realm imported; this server starts in about 7 s.

The server is a Spring Boot application of ours (identity-provider/: its pom and one class); Maven builds it and
downloads its jars once into harness.locations.cache_dir(), as the broker's jars are.

Usage:
    python -m harness.identity_provider fetch     # only build it and download its jars
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from harness.kafka_broker import _spawn, _terminate, fetch_maven_jars
from harness.locations import PACKAGE_DIR, cache_dir
from harness.oidc_server import AUDIENCE, CLIENT_ID, READY_TIMEOUT, SCOPE
from harness.ports import LOOPBACK, free_port
from harness.services import running, wait_until_answers

PROJECT_DIR = PACKAGE_DIR / "identity-provider"
POM = PROJECT_DIR / "pom.xml"
SOURCES = (POM, PROJECT_DIR / "src" / "main" / "java" / "harness" / "idp" / "IdentityProvider.java")
MAIN_CLASS = "harness.idp.IdentityProvider"
MAIN_JAR = "identity-provider.jar"
JVM_OPTS = ("-XX:+UseSerialGC", "-Xmx128m", "-XX:TieredStopAtLevel=1", "-Djava.awt.headless=true")
CLIENT_SECRET = "1dp-Cl1ent-s3cret;pw"
TOKEN_LIFETIME = 300


def build_dir() -> Path:
    """The cache directory of this build of the server: a change to its sources makes a new one."""
    digest = hashlib.sha256(b"".join(path.read_bytes() for path in SOURCES)).hexdigest()[:12]
    return cache_dir() / f"identity-provider-{digest}"


@dataclass
class IdentityProvider:
    base_url: str
    log_file: Path
    _process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def issuer(self) -> str:
        return self.base_url

    @property
    def token_endpoint(self) -> str:
        return f"{self.base_url}/oauth2/token"

    @property
    def jwks_endpoint(self) -> str:
        return f"{self.base_url}/oauth2/jwks"

    def stop(self) -> None:
        if self._process is not None:
            _terminate(self._process)
            self._process = None


def fetch_jars() -> Path:
    lib_dir = build_dir() / "lib"
    build = ("package", f"-Didp.build={lib_dir.parent / 'build'}", f"-Didp.lib={lib_dir}")
    return fetch_maven_jars(POM, lib_dir, MAIN_JAR, "identity provider (Spring Authorization Server)", build)


def server_properties(port: int) -> dict[str, object]:
    """Spring Boot's properties (given as SPRING_APPLICATION_JSON, so the client secret is on no command line)."""
    client = {
        "registration": {
            "client-id": CLIENT_ID,
            "client-secret": "{noop}" + CLIENT_SECRET,
            "client-authentication-methods": ["client_secret_basic", "client_secret_post"],
            "authorization-grant-types": ["client_credentials"],
            "scopes": [SCOPE],
        },
        "token": {"access-token-time-to-live": f"{TOKEN_LIFETIME}s"},
    }
    server = {"issuer": f"http://{LOOPBACK}:{port}", "client": {"kafka": client}}
    return {
        "server": {"address": LOOPBACK, "port": port},
        "harness": {"audience": AUDIENCE},
        "spring": {"main": {"banner-mode": "off"}, "security": {"oauth2": {"authorizationserver": server}}},
    }


def start_identity_provider(work_dir: Path) -> IdentityProvider:
    """Start the server on a free loopback port; its log is work_dir/identity-provider.log."""
    lib_dir = fetch_jars()
    java = shutil.which("java")
    if java is None:
        raise RuntimeError("java (17+) is needed to run the identity provider")
    work_dir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    provider = IdentityProvider(f"http://{LOOPBACK}:{port}", work_dir / "identity-provider.log")
    env = {"PATH": "/usr/bin:/bin", "SPRING_APPLICATION_JSON": json.dumps(server_properties(port))}
    command = [java, *JVM_OPTS, "-cp", str(lib_dir / "*"), MAIN_CLASS]
    with provider.log_file.open("wb") as log:
        provider._process = _spawn(command, cwd=work_dir, stdout=log, stderr=log, env=env)
    try:
        wait_until_answers(
            provider._process, provider.jwks_endpoint, provider.log_file, "the identity provider", READY_TIMEOUT
        )
    except BaseException:
        provider.stop()
        raise
    return provider


def running_identity_provider(work_dir: Path | None = None) -> contextlib.AbstractContextManager[IdentityProvider]:
    """Start a server, yield it, always stop it; a temporary work_dir is removed afterwards."""
    return running(start_identity_provider, work_dir, "identity-provider-")


if __name__ == "__main__":
    if sys.argv[1:] != ["fetch"]:
        sys.exit(__doc__)
    print(fetch_jars())
