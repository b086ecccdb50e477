"""A real Schema Registry for tests: Apicurio Registry from Maven Central, Confluent-compatible API, basic auth.

Apicurio Registry 3.0.9 ships as one ready-to-run bundle (runner jar and lib/) on Maven Central; it runs on JDK 17
with in-memory storage and serves Confluent's Schema Registry API at /apis/ccompat/v7, which confluent-kafka's
SchemaRegistryClient and serializers speak. (3.3.x needs Java 21.) Quarkus's embedded user realm, which the bundle
includes, puts HTTP basic authentication in front of every /apis/ path: one user, the harness's.

The bundle is fetched once into harness.locations.cache_dir() and unpacked there.

Usage:
    python -m harness.schema_registry fetch     # only download and unpack the bundle
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import shutil
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

# One process launcher and one way to stop for every JVM the harness starts (they die with the test process).
from harness.kafka_broker import _spawn, _terminate
from harness.locations import cache_dir
from harness.ports import LOOPBACK, free_ports
from harness.services import running, wait_until_answers

APICURIO_VERSION = "3.0.9"
ARTIFACT = f"io.apicurio:apicurio-registry-app:{APICURIO_VERSION}:tar.gz:all"
CACHE_DIR = cache_dir() / f"apicurio-registry-{APICURIO_VERSION}"
RUNNER = CACHE_DIR / f"apicurio-registry-app-{APICURIO_VERSION}-runner.jar"
MARKER = CACHE_DIR / "unpacked.complete"
API_PATH = "/apis/ccompat/v7"
# ~190 MB resident instead of ~260 MB, and a quicker start on a small machine.
JVM_OPTS = ("-XX:+UseSerialGC", "-Xmx160m", "-XX:TieredStopAtLevel=1", "-Djava.awt.headless=true")
READY_TIMEOUT = 120.0
USER = "registry-user"
PASSWORD = "Reg1stry-s3cret-pw"


class SchemaRegistryError(RuntimeError):
    pass


@dataclass
class SchemaRegistry:
    """A running registry: its Confluent-compatible API URL and the one user it accepts."""

    url: str
    user: str
    password: str
    log_file: Path
    _process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def user_info(self) -> str:
        return f"{self.user}:{self.password}"

    def client_config(self) -> dict[str, str]:
        """confluent-kafka's SchemaRegistryClient configuration for this registry."""
        return {"url": self.url, "basic.auth.user.info": self.user_info}

    def stop(self) -> None:
        if self._process is not None:
            _terminate(self._process)
            self._process = None


def fetch_bundle() -> Path:
    """Download and unpack the registry bundle into the cache once; returns the runner jar."""
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    with (CACHE_DIR / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not MARKER.exists():
            _download_bundle()
    return RUNNER


def _download_bundle() -> None:
    if shutil.which("mvn") is None:
        raise SchemaRegistryError("Maven (mvn) is needed to download the Apicurio Registry bundle")
    with tempfile.TemporaryDirectory(dir=CACHE_DIR) as download:
        command = ["mvn", "-q", "-B", "dependency:copy", f"-Dartifact={ARTIFACT}", f"-DoutputDirectory={download}"]
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        bundles = list(Path(download).glob("*.tar.gz"))
        if result.returncode != 0 or not bundles:
            raise SchemaRegistryError(f"downloading {ARTIFACT} failed:\n{result.stdout}\n{result.stderr}")
        with tarfile.open(bundles[0]) as bundle:
            bundle.extractall(CACHE_DIR, filter="data")
    if not RUNNER.is_file():
        raise SchemaRegistryError(f"the bundle {ARTIFACT} has no {RUNNER.name}")
    MARKER.write_text(f"{APICURIO_VERSION}\n")


def _command(http_port: int, management_port: int) -> list[str]:
    java = shutil.which("java")
    if java is None:
        raise SchemaRegistryError("java (17+) is needed to run the schema registry")
    settings = {
        "quarkus.http.host": LOOPBACK,
        "quarkus.http.port": http_port,
        "quarkus.management.host": LOOPBACK,
        "quarkus.management.port": management_port,
        "quarkus.http.auth.basic": "true",
        "quarkus.security.users.embedded.plain-text": "true",
        f"quarkus.security.users.embedded.users.{USER}": PASSWORD,
        "quarkus.http.auth.permission.registry.paths": "/apis/*",
        "quarkus.http.auth.permission.registry.policy": "authenticated",
    }
    return [java, *JVM_OPTS, *(f"-D{name}={value}" for name, value in settings.items()), "-jar", str(RUNNER)]


def start_schema_registry(work_dir: Path) -> SchemaRegistry:
    """Start a registry on free loopback ports; its log is work_dir/registry.log."""
    fetch_bundle()
    work_dir.mkdir(parents=True, exist_ok=True)
    http_port, management_port = free_ports(2)
    registry = SchemaRegistry(
        url=f"http://{LOOPBACK}:{http_port}{API_PATH}", user=USER, password=PASSWORD, log_file=work_dir / "registry.log"
    )
    authorization = "Basic " + base64.b64encode(registry.user_info.encode()).decode()
    with registry.log_file.open("wb") as log:
        registry._process = _spawn(_command(http_port, management_port), cwd=CACHE_DIR, stdout=log, stderr=log)
    try:
        wait_until_answers(
            registry._process,
            f"{registry.url}/subjects",
            registry.log_file,
            "the registry",
            READY_TIMEOUT,
            headers={"Authorization": authorization},
            error=SchemaRegistryError,
        )
    except BaseException:
        registry.stop()
        raise
    return registry


def running_schema_registry(work_dir: Path | None = None) -> contextlib.AbstractContextManager[SchemaRegistry]:
    """Start a registry, yield it, always stop it; a temporary work_dir is removed afterwards."""
    return running(start_schema_registry, work_dir, "schema-registry-")


if __name__ == "__main__":
    if sys.argv[1:] != ["fetch"]:
        sys.exit(__doc__)
    print(fetch_bundle())
