"""A real Airflow deployment: scheduler, DAG processor and API server with the LocalExecutor, in a throwaway
AIRFLOW_HOME on SQLite. Unlike `airflow dags test` (harness.airflow_dag_run) it retries tasks, detects tasks whose
heartbeat stopped, and clears, as production does. Its timers are short so that all of it happens in seconds.

Used as a context manager (``running_airflow``), it always stops every process it started, with their children
(executor workers, task processes), even ones a test left paused with SIGSTOP.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from harness.airflow_dag_run import migrated_database
from harness.ports import LOOPBACK, free_port

START_TIMEOUT = 180
# A throwaway deployment: a few seconds to stop on SIGTERM, then SIGKILL.
STOP_TIMEOUT = 3
# The scheduler declares a try dead when its heartbeat is older than this (production default: 300 s).
HEARTBEAT_TIMEOUT_SECONDS = 6
FINISHED = frozenset({"success", "failed"})


class AirflowDeploymentError(RuntimeError):
    pass


class AirflowDeployment:
    """The running deployment: its REST API (``api``), task logs, and its processes' output files."""

    def __init__(self, home: Path, dags_folder: Path, env: Mapping[str, str] | None = None) -> None:
        self.home = home
        self.port = free_port()
        self.url = f"http://{LOOPBACK}:{self.port}"
        self.env = {
            **os.environ,
            **(env or {}),
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(dags_folder),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
            "AIRFLOW__CORE__PARALLELISM": "4",
            "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{self.url}/execution/",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
            "AIRFLOW__API__SECRET_KEY": secrets.token_hex(16),
            "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_hex(32),
            "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "1",
            "AIRFLOW__SCHEDULER__JOB_HEARTBEAT_SEC": "1",
            "AIRFLOW__SCHEDULER__SCHEDULER_IDLE_SLEEP_TIME": "0.2",
            "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_SEC": "1",
            "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT": str(HEARTBEAT_TIMEOUT_SECONDS),
            "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT_DETECTION_INTERVAL": "1",
            "AIRFLOW__WORKERS__MIN_HEARTBEAT_INTERVAL": "1",
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
            "AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": "5",
            "AIRFLOW__DAG_PROCESSOR__PARSING_PROCESSES": "1",
            "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
        }
        self._processes: dict[str, subprocess.Popen[bytes]] = {}

    # --- processes ------------------------------------------------------------------------------

    def start(self) -> None:
        self.home.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(migrated_database(), self.home / "airflow.db")
        self._launch("api-server", "api-server", "--host", LOOPBACK, "--port", str(self.port))
        self._launch("scheduler", "scheduler")
        self._launch("dag-processor", "dag-processor")
        deadline = time.monotonic() + START_TIMEOUT
        while not self._healthy():
            self._check_alive()
            if time.monotonic() > deadline:
                raise AirflowDeploymentError(f"Airflow was not healthy after {START_TIMEOUT} s:\n{self.output_tail()}")
            time.sleep(0.5)
        # The first request to the execution API builds its versioned app (seconds on a busy machine): let it
        # happen here, not inside the first task's first call, whose client times out and retries.
        self.api("GET", "/execution/health", timeout=START_TIMEOUT)

    def stop(self) -> None:
        """Stop every process group, paused ones included; SIGKILL what is left after STOP_TIMEOUT."""
        for process in self._processes.values():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
                os.killpg(process.pid, signal.SIGCONT)
        deadline = time.monotonic() + STOP_TIMEOUT
        for process in self._processes.values():
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(max(0.1, deadline - time.monotonic()))
            # Executor workers and task processes are in the same group and may outlive their parent.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            if process.poll() is None:
                process.wait()
        self._processes.clear()

    def _launch(self, name: str, *command: str) -> None:
        output = (self.home / f"{name}.out").open("wb")
        self._processes[name] = subprocess.Popen(
            [sys.executable, "-m", "airflow", *command],
            env={**self.env, "AIRFLOW__DATABASE__CHECK_MIGRATIONS": "False"},
            cwd=self.home,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def _check_alive(self) -> None:
        for name, process in self._processes.items():
            if process.poll() is not None:
                raise AirflowDeploymentError(f"airflow {name} exited ({process.returncode}):\n{self.output_tail()}")

    def _healthy(self) -> bool:
        try:
            health = self.api("GET", "/api/v2/monitor/health")
        except (OSError, AirflowDeploymentError):
            return False
        return bool(health.get("scheduler", {}).get("status") == "healthy")

    def output_tail(self, lines: int = 30) -> str:
        tails = []
        for name in self._processes:
            path = self.home / f"{name}.out"
            text = path.read_text(errors="replace").splitlines()[-lines:] if path.exists() else []
            tails.append(f"--- {name} ---\n" + "\n".join(text))
        return "\n".join(tails)

    # --- REST API --------------------------------------------------------------------------------

    def api(self, method: str, path: str, body: Any = None, timeout: float = 30) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            self.url + path, data=data, method=method, headers={"Content-Type": "application/json"}
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return json.loads(response.read() or b"null")
        except urllib.error.HTTPError as error:
            raise AirflowDeploymentError(f"{method} {path}: {error.code} {error.read().decode()[:500]}") from None

    def wait_for_dag(self, dag_id: str, timeout: float = 120) -> None:
        """Until the DAG processor has parsed the DAG and the API knows it."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.api("GET", f"/api/v2/dags/{dag_id}")
                return
            except AirflowDeploymentError:
                if time.monotonic() > deadline:
                    raise AirflowDeploymentError(f"DAG {dag_id!r} never appeared:\n{self.output_tail()}") from None
                self._check_alive()
                time.sleep(0.5)

    def trigger(self, dag_id: str, conf: Mapping[str, Any] | None = None) -> str:
        run = self.api("POST", f"/api/v2/dags/{dag_id}/dagRuns", {"logical_date": None, "conf": dict(conf or {})})
        return str(run["dag_run_id"])

    def dag_run(self, dag_id: str, run_id: str) -> dict[str, Any]:
        run: dict[str, Any] = self.api("GET", f"/api/v2/dags/{dag_id}/dagRuns/{run_id}")
        return run

    def wait_for_run(self, dag_id: str, run_id: str, timeout: float = 120) -> str:
        """The run's final state."""
        deadline = time.monotonic() + timeout
        while (state := self.dag_run(dag_id, run_id)["state"]) not in FINISHED:
            if time.monotonic() > deadline:
                raise AirflowDeploymentError(f"run {run_id} of {dag_id} still {state} after {timeout} s")
            self._check_alive()
            time.sleep(0.5)
        return str(state)

    def task_instance(self, dag_id: str, run_id: str, task_id: str) -> dict[str, Any]:
        ti: dict[str, Any] = self.api("GET", f"/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}")
        return ti

    def tries(self, dag_id: str, run_id: str, task_id: str) -> list[dict[str, Any]]:
        """Every try of the task instance, oldest first, the current one included."""
        listed = self.api("GET", f"/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}/tries")
        return sorted(listed["task_instances"], key=lambda ti: ti["try_number"])

    def xcom(self, dag_id: str, run_id: str, task_id: str, key: str = "return_value") -> Any:
        path = f"/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}/xcomEntries/{key}?deserialize=true"
        return self.api("GET", path)["value"]

    def clear(self, dag_id: str, run_id: str, task_id: str) -> None:
        """The UI's Clear of one task instance (its DAG run is reset too, Airflow's default)."""
        body = {"dag_run_id": run_id, "task_ids": [task_id], "dry_run": False, "only_failed": False}
        self.api("POST", f"/api/v2/dags/{dag_id}/clearTaskInstances", body)

    def task_log(self, dag_id: str, run_id: str, task_id: str, try_number: int) -> str:
        """The task's log file for that try, as the task wrote it."""
        folder = self.home / "logs" / f"dag_id={dag_id}" / f"run_id={run_id}" / f"task_id={task_id}"
        return "\n".join(path.read_text(errors="replace") for path in folder.glob(f"attempt={try_number}*.log"))


@contextlib.contextmanager
def running_airflow(home: Path, dags_folder: Path, env: Mapping[str, str] | None = None) -> Iterator[AirflowDeployment]:
    deployment = AirflowDeployment(home, dags_folder, env)
    try:
        deployment.start()
        yield deployment
    finally:
        deployment.stop()
