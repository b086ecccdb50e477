"""Runs a DAG from example_dags/ through real Airflow (`airflow dags test`) and reads back its XComs."""

from __future__ import annotations

import fcntl
import hashlib
import itertools
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from harness.locations import cache_dir, source_checkout

# The provider's example_dags/ in a source checkout; elsewhere ./example_dags (pass dags_folder instead).
EXAMPLE_DAGS = (source_checkout() or Path.cwd()) / "example_dags"

_READ_XCOMS = """
import json, sys
from airflow.models.xcom import XComModel
from airflow.utils.session import create_session
dag_id, run_id = sys.argv[1:]
with create_session() as session:
    rows = session.query(XComModel).filter_by(dag_id=dag_id, run_id=run_id).all()
    print(json.dumps([[row.task_id, row.key, XComModel.deserialize_value(row)] for row in rows]))
"""

_READ_RENDERED_FIELDS = """
import json, sys
from airflow.models.renderedtifields import RenderedTaskInstanceFields as RTIF
from airflow.utils.session import create_session
dag_id, run_id, *task_ids = sys.argv[1:]
with create_session() as session:
    rows = session.query(RTIF).filter(RTIF.dag_id == dag_id, RTIF.run_id == run_id, RTIF.task_id.in_(task_ids)).all()
    if sorted(row.task_id for row in rows) != sorted(task_ids):
        raise SystemExit(f"expected one row of rendered fields for each of {task_ids}, found {len(rows)}")
    print(json.dumps({row.task_id: row.rendered_fields for row in rows}))
"""

_READ_ASSET_EVENTS = """
import json, sys
from airflow.models.asset import AssetDagRunQueue, AssetEvent, AssetModel
from airflow.utils.session import create_session
dag_id, run_id = sys.argv[1:]
with create_session() as session:
    rows = (
        session.query(AssetEvent, AssetModel)
        .join(AssetModel, AssetEvent.asset_id == AssetModel.id)
        .filter(AssetEvent.source_dag_id == dag_id, AssetEvent.source_run_id == run_id)
        .all()
    )
    events = []
    for event, asset in rows:
        queued = session.query(AssetDagRunQueue.target_dag_id).filter_by(asset_id=asset.id).all()
        events.append(
            {"uri": asset.uri, "task_id": event.source_task_id, "extra": event.extra,
             "queued_dag_ids": sorted(dag for (dag,) in queued)}
        )
    print(json.dumps(events))
"""

# `airflow dags test`, then the run's state, its tasks' states and XComs, in one interpreter: each Airflow start
# costs seconds here.
_TEST_DAG = """
import json, sys, traceback
from airflow.__main__ import main
outcome_file, dag_id, conf, warm_api = sys.argv[1:]
if warm_api == "1":  # one request builds the in-process Execution API's routes (cached: `dags test` uses it)
    import httpx
    from airflow.sdk.execution_time.supervisor import in_process_api_server
    httpx.Client(transport=in_process_api_server().transport, base_url="http://in-process.invalid").get("/")
sys.argv = ["airflow", "dags", "test", dag_id, "-c", conf]
try:
    main()
except BaseException:
    traceback.print_exc()
from airflow.models.dagrun import DagRun
from airflow.models.taskinstance import TaskInstance
from airflow.models.xcom import XComModel
from airflow.utils.session import create_session
with create_session() as session:
    run = session.query(DagRun).filter_by(dag_id=dag_id).order_by(DagRun.id.desc()).first()
    rows = session.query(XComModel).filter_by(dag_id=dag_id, run_id=run.run_id).all()
    xcoms = [[row.task_id, row.map_index, row.key, XComModel.deserialize_value(row)] for row in rows]
    ti = TaskInstance
    columns = ti.task_id, ti.map_index, ti.state, ti.start_date, ti.end_date
    tasks = session.query(*columns).filter_by(dag_id=dag_id, run_id=run.run_id).all()
    outcome = {"run_id": run.run_id, "state": run.state, "xcoms": xcoms}
    outcome["tasks"] = [
        [task_id, index, state, (end - start).total_seconds() if start and end else None]
        for task_id, index, state, start, end in tasks
    ]
    with open(outcome_file, "w") as file:
        json.dump(outcome, file)
"""


@dataclass(frozen=True)
class DagRunResult:
    run_id: str
    state: str
    output: str
    xcoms: dict[tuple[str, str], Any] = field(default_factory=dict)
    #: Each task's final state ('success', 'failed', ...), by task_id.
    task_states: dict[str, str] = field(default_factory=dict)
    #: Each mapped task instance's final state, by (task_id, map_index).
    mapped_states: dict[tuple[str, int], str] = field(default_factory=dict)
    #: Each mapped task instance's XComs, by (task_id, map_index, key).
    mapped_xcoms: dict[tuple[str, int, str], Any] = field(default_factory=dict)
    #: Seconds from each finished (unmapped) task instance's start_date to its end_date, by task_id.
    task_durations: dict[str, float] = field(default_factory=dict)

    def delivered_record(self, task_id: str, records: Iterable[Any]) -> Any:
        """Of the records read back from the topic, the one the task's XCom response names: the task succeeded and
        its response's partition, offset and timestamp are that record's."""
        if self.task_states.get(task_id) != "success":
            raise AssertionError(f"task {task_id} ended {self.task_states.get(task_id)}:\n{self.output[-3000:]}")
        response = self.xcoms[(task_id, "response")]
        named = [r for r in records if (r.partition(), r.offset()) == (response["partition"], response["offset"])]
        if len(named) != 1 or named[0].timestamp()[1] != response["timestamp"]:
            raise AssertionError(f"no record read back matches the response of {task_id}: {response}")
        return named[0]


class AirflowHome:
    """An isolated AIRFLOW_HOME with a migrated SQLite database and connections given as environment variables."""

    def __init__(
        self,
        path: Path,
        connections: dict[str, dict[str, Any]],
        dags_folder: Path = EXAMPLE_DAGS,
        python: Path | str = sys.executable,
    ) -> None:
        """``python``: the interpreter that runs Airflow (another environment with this one's Airflow version)."""
        self.path = path
        self.python = str(python)
        self.env = {
            **os.environ,
            "AIRFLOW_HOME": str(path),
            "AIRFLOW__CORE__DAGS_FOLDER": str(dags_folder),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            **{f"AIRFLOW_CONN_{conn_id.upper()}": json.dumps(conn) for conn_id, conn in connections.items()},
        }
        path.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(migrated_database(), path / "airflow.db")
        self._finished_runs: dict[tuple[str, str], DagRunResult] = {}
        self._runs = itertools.count()

    def airflow(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return self._python("-m", "airflow", *args, check=check)

    def test_dag(self, dag_id: str, conf: dict[str, Any] | None = None, warm_api: bool = False) -> DagRunResult:
        """Run the DAG once; a failed task gives state 'failed', not an exception.

        ``warm_api``: build Airflow's in-process Execution API before the run. `airflow dags test` stamps the first
        task's start_date and only then builds it (seconds on a loaded machine, nothing a deployed task pays), so
        task_durations measure the tasks themselves only with it (Airflow 3.1+).
        """
        # The outcome goes to a file: listeners (OpenLineage's) log on stdout from other threads, even mid-line.
        outcome_file = self.path / f"outcome-{os.getpid()}-{next(self._runs)}.json"
        arguments = (str(outcome_file), dag_id, json.dumps(conf or {}), "1" if warm_api else "0")
        completed = self._python("-c", _TEST_DAG, *arguments, check=False)
        if not outcome_file.exists():
            output = "\n".join(completed.stdout.splitlines()[-60:]) + completed.stderr[-5000:]
            raise RuntimeError(f"`airflow dags test {dag_id}` ended without a DAG run:\n{output}")
        outcome = json.loads(outcome_file.read_text())
        outcome_file.unlink()
        xcoms, tasks = outcome["xcoms"], outcome["tasks"]
        result = DagRunResult(
            run_id=outcome["run_id"],
            state=outcome["state"],
            output=completed.stdout + completed.stderr,
            xcoms={(task_id, key): value for task_id, index, key, value in xcoms if index < 0},
            task_states={task_id: state for task_id, index, state, _ in tasks if index < 0},
            mapped_states={(task_id, index): state for task_id, index, state, _ in tasks if index >= 0},
            mapped_xcoms={(task_id, index, key): value for task_id, index, key, value in xcoms if index >= 0},
            task_durations={task_id: took for task_id, index, _, took in tasks if index < 0 and took is not None},
        )
        self._finished_runs[(dag_id, result.run_id)] = result
        return result

    def xcoms(self, dag_id: str, run_id: str) -> dict[tuple[str, str], Any]:
        """Every XCom of the run, by (task_id, key); a run that test_dag finished needs no second Airflow start."""
        if (dag_id, run_id) in self._finished_runs:
            return self._finished_runs[(dag_id, run_id)].xcoms
        rows = json.loads(self.query(_READ_XCOMS, dag_id, run_id))
        return {(task_id, key): value for task_id, key, value in rows}

    def rendered_fields(self, dag_id: str, run_id: str, task_id: str) -> dict[str, Any]:
        """The rendered template fields that Airflow stored for the task (what its UI shows)."""
        return self.tasks_rendered_fields(dag_id, run_id, task_id)[task_id]

    def tasks_rendered_fields(self, dag_id: str, run_id: str, *task_ids: str) -> dict[str, dict[str, Any]]:
        """The rendered template fields of several tasks, by task id, from one Airflow start."""
        fields: dict[str, dict[str, Any]] = json.loads(self.query(_READ_RENDERED_FIELDS, dag_id, run_id, *task_ids))
        return fields

    def asset_events(self, dag_id: str, run_id: str) -> list[dict[str, Any]]:
        """The asset events the run recorded: uri, task_id, extra, and the DAGs queued to run on that asset."""
        events: list[dict[str, Any]] = json.loads(self.query(_READ_ASSET_EVENTS, dag_id, run_id))
        return events

    def xcom(self, dag_id: str, run_id: str, task_id: str, key: str = "return_value") -> Any:
        return self.xcoms(dag_id, run_id)[(task_id, key)]

    def query(self, script: str, *args: str) -> str:
        """What a query script printed last: Airflow may print log lines to stdout before it."""
        return self._python("-c", script, *args).stdout.splitlines()[-1]

    def _python(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        completed = subprocess.run(
            [self.python, *args], env=self.env, cwd=self.path, capture_output=True, text=True, timeout=300
        )
        if check and completed.returncode != 0:
            raise RuntimeError(f"{args[:3]} failed ({completed.returncode}):\n{completed.stdout}\n{completed.stderr}")
        return completed


def migrated_database() -> Path:
    """A SQLite database that `airflow db migrate` made for this environment's Airflow, made once (under a lock, so
    a process preparing it in the background and one needing it share the work) and copied into each home:
    migrating costs 7 s or more here, and the database holds nothing specific to one AIRFLOW_HOME."""
    environment = hashlib.sha256(sys.prefix.encode()).hexdigest()[:12]
    template = cache_dir() / "airflow-db" / f"airflow-{metadata.version('apache-airflow')}-{environment}.db"
    template.parent.mkdir(parents=True, exist_ok=True)
    with open(template.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not template.exists():
            with tempfile.TemporaryDirectory(dir=template.parent) as home:
                env = {**os.environ, "AIRFLOW_HOME": home, "AIRFLOW__CORE__LOAD_EXAMPLES": "False"}
                completed = subprocess.run(
                    [sys.executable, "-m", "airflow", "db", "migrate"],
                    env=env,
                    cwd=home,
                    capture_output=True,
                    text=True,
                    timeout=300,
                )
                if completed.returncode != 0:
                    raise RuntimeError(f"airflow db migrate failed:\n{completed.stdout}\n{completed.stderr}")
                os.replace(Path(home) / "airflow.db", template)
    return template


if __name__ == "__main__":
    # `python -m harness.airflow_dag_run prepare`: make the migrated database ahead of time (scripts/demo does it
    # while the broker starts).
    if sys.argv[1:] != ["prepare"]:
        sys.exit("usage: python -m harness.airflow_dag_run prepare")
    migrated_database()
