"""bench/run.py end to end with tiny sizes, so the benchmarks cannot rot. The figures mean nothing at these sizes."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bench.run import bench_venv_ready

REPO = Path(__file__).resolve().parent.parent
TINY = [
    *("--one-reps", "1", "--batch-messages", "300", "--batch-reps", "1", "--import-reps", "1"),
    *("--big-batch-messages", "0"),  # the same case as --batch-messages, at 1,000,000 by default
    *("--official-reps", "1", "--official-sync-reps", "1", "--memory-messages", "3000", "--warmup", "0"),
    *("--broker-warmup", "2"),
]


def run_bench(broker: Any, tmp_path: Path, *args: str, timeout: float = 60) -> dict[str, dict[str, Any]]:
    results = tmp_path / "latest.json"
    env = {**os.environ, "KAFKA_BOOTSTRAP_SERVERS": broker.plaintext}
    command = [sys.executable, str(REPO / "bench" / "run.py"), *TINY, "--results", str(results), *args]
    done = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "benchmark" in done.stdout and "result" in done.stdout  # the table
    rows = {row["benchmark"]: row for row in json.loads(results.read_text())["rows"]}
    assert all(row["result"] in ("PASS", "MISS", "info") for row in rows.values())
    return rows


@pytest.mark.broker
def test_benchmarks_of_our_operator_run(broker, tmp_path):
    rows = run_bench(broker, tmp_path, "--only", "one,batch,import,memory", "--no-official")
    assert len(rows) == 11
    assert rows["... ours / a bare loop with a delivery callback"]["result"] == "info"
    assert rows["... ours with StatsD metrics on / ours (metrics off)"]["result"] == "info"
    assert rows["... ours counting in Python (no C plugin) / bare"]["result"] == "info"
    assert all(row["measured"] > 0 for name, row in rows.items() if "confluent_kafka" not in name)
    assert rows["... confluent_kafka imported by ours"]["result"] == "PASS"


@pytest.mark.broker
def test_startup_benchmark_runs(broker, tmp_path):
    rows = run_bench(broker, tmp_path, "--only", "startup", "--startup-reps", "1")
    assert [row["target"] for row in rows.values()] == ["<= 2.0x", ">= 50x", ""]
    assert all(row["measured"] > 0 for row in rows.values())


def test_benchmarks_against_the_official_provider_run(broker, tmp_path):
    # Its venv takes about a minute to make, once; CI (where a skip fails) makes it, elsewhere run
    # `.venv/bin/python bench/run.py --setup-only` first.
    if os.environ.get("CI", "").lower() != "true" and not bench_venv_ready():
        pytest.skip("the bench venv is not made yet: run `.venv/bin/python bench/run.py --setup-only`")
    rows = run_bench(broker, tmp_path, "--only", "official,import", timeout=600)
    assert [name for name in rows if name.startswith("ours / official")] == [
        "ours / official, defaults (synchronous=True)",
        "ours / official, synchronous=False",
    ]
    assert "official adds" in rows["import ours after airflow.sdk: added"]["detail"]


@pytest.mark.broker
def test_java_client_benchmark_runs(broker, tmp_path):
    if shutil.which("javac") is None:  # the row says so instead of measuring
        pytest.skip("no javac: the Java kafka-clients row is not measured")
    rows = run_bench(broker, tmp_path, "--only", "java", "--java-reps", "1", "--java-warmup", "1")
    assert [row["target"] for row in rows.values()] == ["< 1.0x", "< 1.0x", ""]
    assert all(row["measured"] > 0 for row in rows.values())


@pytest.mark.broker
def test_token_login_benchmark_runs(broker, tmp_path):
    rows = run_bench(broker, tmp_path, "--only", "tokens", "--token-reps", "1", timeout=120)
    assert [row["target"] for row in rows.values()] == ["<= 1.5x", "<= 0.5x"]
    assert all(row["measured"] > 0 for row in rows.values())
