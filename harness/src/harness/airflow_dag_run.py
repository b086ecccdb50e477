"""Runs a DAG from example_dags/ through real Airflow (`airflow dags test`) and reads back its XComs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.locations import source_checkout

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
dag_id, run_id, task_id = sys.argv[1:]
with create_session() as session:
    row = session.query(RTIF).filter_by(dag_id=dag_id, run_id=run_id, task_id=task_id).one()
    print(json.dumps(row.rendered_fields))
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

_TASK_STATES = """
import json, sys
from airflow.models.taskinstance import TaskInstance
from airflow.utils.session import create_session
dag_id, run_id = sys.argv[1:]
with create_session() as session:
    rows = session.query(TaskInstance.task_id, TaskInstance.state).filter_by(dag_id=dag_id, run_id=run_id).all()
    print(json.dumps({task_id: state for task_id, state in rows}))
"""

_LATEST_RUN = """
import sys
from airflow.models.dagrun import DagRun
from airflow.utils.session import create_session
with create_session() as session:
    run = session.query(DagRun).filter_by(dag_id=sys.argv[1]).order_by(DagRun.id.desc()).first()
    print(run.run_id, run.state)
"""


@dataclass(frozen=True)
class DagRunResult:
    run_id: str
    state: str
    output: str


class AirflowHome:
    """An isolated AIRFLOW_HOME with a migrated SQLite database and connections given as environment variables."""

    def __init__(self, path: Path, connections: dict[str, dict[str, Any]], dags_folder: Path = EXAMPLE_DAGS) -> None:
        self.path = path
        self.env = {
            **os.environ,
            "AIRFLOW_HOME": str(path),
            "AIRFLOW__CORE__DAGS_FOLDER": str(dags_folder),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            **{f"AIRFLOW_CONN_{conn_id.upper()}": json.dumps(conn) for conn_id, conn in connections.items()},
        }
        path.mkdir(parents=True, exist_ok=True)
        self.airflow("db", "migrate")

    def airflow(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return self._python("-m", "airflow", *args, check=check)

    def test_dag(self, dag_id: str, conf: dict[str, Any] | None = None) -> DagRunResult:
        """Run the DAG once; a failed task gives state 'failed', not an exception."""
        completed = self.airflow("dags", "test", dag_id, "-c", json.dumps(conf or {}), check=False)
        run_id, state = self.query(_LATEST_RUN, dag_id).split()
        return DagRunResult(run_id=run_id, state=state, output=completed.stdout + completed.stderr)

    def xcoms(self, dag_id: str, run_id: str) -> dict[tuple[str, str], Any]:
        """Every XCom of the run, by (task_id, key)."""
        rows = json.loads(self.query(_READ_XCOMS, dag_id, run_id))
        return {(task_id, key): value for task_id, key, value in rows}

    def rendered_fields(self, dag_id: str, run_id: str, task_id: str) -> dict[str, Any]:
        """The rendered template fields that Airflow stored for the task (what its UI shows)."""
        fields: dict[str, Any] = json.loads(self.query(_READ_RENDERED_FIELDS, dag_id, run_id, task_id))
        return fields

    def task_states(self, dag_id: str, run_id: str) -> dict[str, str]:
        """Each task's final state in the run ('success', 'failed', ...), by task_id."""
        states: dict[str, str] = json.loads(self.query(_TASK_STATES, dag_id, run_id))
        return states

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
            [sys.executable, *args], env=self.env, cwd=self.path, capture_output=True, text=True, timeout=300
        )
        if check and completed.returncode != 0:
            raise RuntimeError(f"{args[:3]} failed ({completed.returncode}):\n{completed.stdout}\n{completed.stderr}")
        return completed
