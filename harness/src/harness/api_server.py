"""A real `airflow api-server` on its own, in a throwaway AIRFLOW_HOME, with the Connections Test enabled and the
simple auth manager's admin user: what the Connections UI and its Test talk to (the full deployment with a
scheduler is harness.airflow_deployment)."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.airflow_dag_run import migrated_database
from harness.ports import LOOPBACK, free_port

START_TIMEOUT = 90.0
STOP_TIMEOUT = 15.0


class ApiServerError(RuntimeError):
    pass


@dataclass
class ApiServer:
    url: str
    password: str
    log: Path

    def token(self) -> str:
        body = json.dumps({"username": "admin", "password": self.password}).encode()
        request = urllib.request.Request(
            f"{self.url}/auth/token", data=body, headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            return str(json.load(response)["access_token"])

    def get(self, path: str) -> Any:
        request = urllib.request.Request(f"{self.url}{path}", headers={"Authorization": f"Bearer {self.token()}"})
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.load(response)

    def post(self, path: str, body: object) -> Any:
        headers = {"Authorization": f"Bearer {self.token()}", "Content-Type": "application/json"}
        request = urllib.request.Request(f"{self.url}{path}", data=json.dumps(body).encode(), headers=headers)
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.load(response)

    def test_connection(self, conn_id: str, **fields: Any) -> tuple[bool, str]:
        """The Connections Test (`POST /api/v2/connections/test`) of an unsaved connection of our type: (ok, message).
        A dict extra is sent as its JSON text, as the UI sends it."""
        if isinstance(fields.get("extra"), Mapping):
            fields["extra"] = json.dumps(fields["extra"])
        answer = self.post(
            "/api/v2/connections/test", {"connection_id": conn_id, "conn_type": "kafka_producer", **fields}
        )
        return bool(answer["status"]), str(answer["message"])


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/api/v2/monitor/health", timeout=2) as response:
            return bool(response.status == 200)
    except OSError:
        return False


def _stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the server's own process group (it has worker processes), SIGKILL if it does not go."""
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=5)


@contextlib.contextmanager
def running_api_server(home: Path, env: Mapping[str, str] | None = None) -> Iterator[ApiServer]:
    """An API server in ``home`` (its output in home/api-server.log), with extra environment ``env`` on top of this
    process's; stopped with its workers at the end."""
    (home / "dags").mkdir(parents=True, exist_ok=True)
    environment = {
        **os.environ,
        **(env or {}),
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(home / "dags"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__TEST_CONNECTION": "Enabled",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "admin:admin",
        "AIRFLOW__DATABASE__CHECK_MIGRATIONS": "False",
    }
    (home / "airflow.db").write_bytes(migrated_database().read_bytes())
    port = free_port()
    url = f"http://{LOOPBACK}:{port}"
    log = home / "api-server.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "airflow", "api-server", "--host", LOOPBACK, "--port", str(port)],
            env=environment,
            cwd=home,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while not _healthy(url):
            if process.poll() is not None or time.monotonic() > deadline:
                raise ApiServerError(f"airflow api-server did not start:\n{log.read_text()[-5000:]}")
            time.sleep(0.5)
        passwords = json.loads((home / "simple_auth_manager_passwords.json.generated").read_text())
        yield ApiServer(url=url, password=passwords["admin"], log=log)
    finally:
        _stop(process)
