"""What ./scripts/build makes, installed as a user would: each artifact into a fresh virtual environment with Airflow,
from a PATH that has no C compiler, then (for the wheels) a batch through a real Airflow task.

- The Linux x86_64 wheel carries the delivery-tally plugin: the batch counts in C, and nothing warns.
- The pure wheel has none: the batch counts in Python, and the task log says so once, with how to get the plugin.
- The sdist, installed without a compiler, installs without the plugin and says so.
- The aarch64 wheel cannot run here: its plugin's ELF header and glibc symbol versions are checked.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from harness.airflow_dag_run import AirflowHome

pytestmark = pytest.mark.broker

REPO = Path(__file__).resolve().parent.parent
UV_CANDIDATES = [REPO / ".cache" / "uv" / "bin" / "uv"]
MESSAGES = 1000
WARNING_START = "This installation has no delivery-tally plugin"
ELF_MACHINES = {"x86_64": 62, "aarch64": 183}


def uv() -> str:
    found = shutil.which("uv") or next((str(path) for path in UV_CANDIDATES if path.is_file()), None)
    assert found, "uv is needed (scripts/setup-env.sh installs it into .cache/uv)"
    return found


@pytest.fixture(scope="module")
def dist(tmp_path_factory) -> Path:
    """./scripts/build's artifacts, built into a directory of the test's."""
    out = tmp_path_factory.mktemp("dist")
    completed = subprocess.run(
        ["./scripts/build"], cwd=REPO, env={**os.environ, "DIST_DIR": str(out)}, capture_output=True, text=True
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    print(completed.stdout)
    return out


def only(dist: Path, pattern: str) -> Path:
    [found] = dist.glob(pattern)
    return found


@pytest.fixture(scope="module")
def constraints(tmp_path_factory) -> Path:
    """This environment's versions of everything, so each fresh environment gets the same Airflow (and installs
    from uv's cache in seconds)."""
    frozen = subprocess.run(
        [uv(), "pip", "freeze", "--python", sys.executable], capture_output=True, text=True, check=True
    ).stdout
    pins = [
        line
        for line in frozen.splitlines()
        if "==" in line and not line.startswith(("airflow-provider-kafka-connector", "kafka-connector-harness"))
    ]
    path = tmp_path_factory.mktemp("constraints") / "constraints.txt"
    path.write_text("\n".join(pins) + "\n")
    return path


def install(artifact: Path, directory: Path, constraints: Path) -> Path:
    """A fresh environment with Airflow and the artifact, installed from a PATH that has no C compiler."""
    bare_path = directory / "bin-without-compiler"
    bare_path.mkdir(parents=True)
    env = {
        **{name: value for name, value in os.environ.items() if name not in ("CC", "CXX", "LDSHARED")},
        "PATH": str(bare_path),
        "UV_PYTHON_DOWNLOADS": "never",
    }
    for compiler in ("cc", "gcc", "clang"):
        assert subprocess.run(["/bin/sh", "-c", f"command -v {compiler}"], env=env, capture_output=True).returncode != 0
    venv = directory / "venv"
    subprocess.run([uv(), "venv", "--quiet", "--python", sys.executable, str(venv)], env=env, check=True)
    python = venv / "bin" / "python"
    command = [uv(), "pip", "install", "--quiet", "--python", str(python), "--constraint", str(constraints)]
    subprocess.run([*command, "apache-airflow", str(artifact)], env=env, check=True)
    return python


def diagnostics(python: Path) -> str:
    """What `python -m airflow_provider_kafka_connector` prints, run away from this checkout (`-m` would import the
    package from the working directory)."""
    completed = subprocess.run(
        [str(python), "-m", "airflow_provider_kafka_connector"],
        cwd=python.parent,
        capture_output=True,
        text=True,
        check=True,
    )
    return completed.stdout


def run_batch(python: Path, broker, topic: str, home: Path):
    airflow = AirflowHome(
        home,
        {"kafka_producer_default": {"conn_type": "kafka_producer", "host": broker.plaintext}},
        dags_folder=REPO / "tests" / "dags" / "installed",
        python=python,
    )
    run = airflow.test_dag("installed_batch", {"topic": topic})
    assert run.task_states == {"batch": "success"}, run.output[-3000:]
    response = run.xcoms[("batch", "response")]
    assert response["count"] == MESSAGES
    stored = sum(ends["last_offset"] - ends["first_offset"] + 1 for ends in response["partitions"].values())
    assert stored == MESSAGES
    return run


def test_the_platform_wheel_counts_in_c_without_a_compiler_or_a_warning(dist, constraints, broker, new_topic, tmp_path):
    wheel = only(dist, "*-py3-none-manylinux*_x86_64.whl")
    python = install(wheel, tmp_path, constraints)
    report = diagnostics(python)
    assert "delivery-tally plugin: available (" in report and "site-packages" in report, report
    run = run_batch(python, broker, new_topic(), tmp_path / "airflow")
    assert WARNING_START not in run.output


def test_the_pure_wheel_counts_in_python_and_says_so_once(dist, constraints, broker, new_topic, tmp_path):
    wheel = only(dist, "*-py3-none-any.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
    assert not [name for name in names if name.endswith((".so", ".c"))]
    python = install(wheel, tmp_path, constraints)
    report = diagnostics(python)
    assert f"delivery-tally plugin: not in use: {WARNING_START[0].lower()}{WARNING_START[1:]}" in report
    assert "aws extra (Amazon MSK IAM): aws-msk-iam-sasl-signer-python not installed" in report  # installed bare
    run = run_batch(python, broker, new_topic(), tmp_path / "airflow")
    assert run.output.count(WARNING_START) == 1, run.output[-3000:]
    assert "pip install --force-reinstall --no-deps --only-binary :all: airflow-provider-kafka-connector" in run.output


def test_the_sdist_installs_without_a_compiler_and_says_the_plugin_is_missing(dist, constraints, tmp_path):
    python = install(only(dist, "*.tar.gz"), tmp_path, constraints)
    assert "delivery-tally plugin: not in use: this installation has no delivery-tally plugin" in diagnostics(python)


def test_both_platform_wheels_carry_a_plugin_for_their_machine_and_glibc_2_17(dist):
    for machine, code in ELF_MACHINES.items():
        wheel = only(dist, f"*-py3-none-manylinux2014_{machine}.manylinux_2_17_{machine}.whl")
        with zipfile.ZipFile(wheel) as archive:
            plugin = archive.read("airflow_provider_kafka_connector/_delivery_tally.so")
            licence = [name for name in archive.namelist() if name.endswith("licenses/LICENSE")]
            assert "airflow_provider_kafka_connector/py.typed" in archive.namelist() and licence
        assert plugin[:4] == b"\x7fELF" and plugin[4] == 2  # 64-bit
        assert int.from_bytes(plugin[18:20], "little") == code, machine
        versions = {tuple(int(part) for part in version.split(".")) for version in _glibc_versions(plugin)}
        assert versions and max(versions) <= (2, 17), (machine, versions)


def _glibc_versions(elf: bytes) -> set[str]:
    """The GLIBC_x.y version names an ELF file requires (its .dynstr holds them as text)."""
    return {match.decode() for match in re.findall(rb"GLIBC_(\d+\.\d+(?:\.\d+)?)\x00", elf)}
