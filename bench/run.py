"""The benchmarks, against one real Kafka broker, with ratios measured side by side in one run.

    .venv/bin/python bench/run.py [--only one,startup,cluster,batch,official,import,memory]

The broker is the harness's own (started for this run) unless KAFKA_BOOTSTRAP_SERVERS names one. Every benchmark
runs in fresh worker processes (bench/cases.py). The official provider is installed only in .cache/bench-venv,
which this script creates and keeps up to date itself. Prints a table and writes bench/results/latest.json.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from harness.airflow_dag_run import AirflowHome
from harness.kafka_broker import (
    KAFKA_VERSION,
    BrokerError,
    KafkaBroker,
    existing_broker_from_env,
    fetch_jars,
    running_broker,
)
from harness.kafka_cluster import running_cluster
from harness.locations import cache_dir
from harness.ports import free_port
from harness.schema_registry import running_schema_registry

REPO = Path(__file__).resolve().parent.parent

CASES = Path(__file__).with_name("cases.py")
RESULTS = Path(__file__).with_name("results") / "latest.json"
BENCH_VENV = REPO / ".cache" / "bench-venv"
OFFICIAL_PROVIDER = "apache-airflow-providers-apache-kafka==2.1.0"
OFFICIAL_MODULE = "airflow.providers.apache.kafka.operators.produce"
OURS_MODULE = "airflow_provider_kafka_connector.operators.kafka_producer"
BENCHMARKS = (
    "one",
    "startup",
    "cluster",
    "java",
    "batch",
    "avro",
    "official",
    "airflow",
    "import",
    "memory",
    "exactly_once",
    "tokens",
)
PARTITIONS = 3
# The rows that time a fresh producer's first acknowledgement, which a cold broker slows (see warm_broker).
FIRST_ACK_BENCHMARKS = {"one", "startup", "cluster", "java"}
JAVA_SOURCE = Path(__file__).with_name("java") / "FirstAck.java"
# kafka-clients and its runtime dependencies (its pom), taken from the broker's jars that the harness downloads
JAVA_CLIENT_JARS = [f"kafka-clients-{KAFKA_VERSION}.jar", "zstd-jni-*.jar", "lz4-java-*.jar", "snappy-java-*.jar"]
JAVA_CLIENT_JARS += ["slf4j-api-*.jar"]
BENCH_DAGS = Path(__file__).with_name("dags")
SAMPLES: dict[str, Any] = {}  # every worker's raw measurements, for the JSON report


@dataclass
class Row:
    benchmark: str
    measured: float
    unit: str
    target: str
    passed: bool | None  # None: for information, no target
    detail: str

    @property
    def result(self) -> str:
        return "info" if self.passed is None else "PASS" if self.passed else "MISS"


# --- the bench venv ---------------------------------------------------------------------------------------------


def _bench_venv_digest() -> tuple[str, str]:
    """The constraints (this environment's exact versions) and a digest of everything the bench venv is made of."""
    freeze = subprocess.run(
        [sys.executable, "-m", "pip", "freeze", "--exclude-editable"], check=True, capture_output=True, text=True
    ).stdout
    freeze = "".join(line + "\n" for line in freeze.splitlines() if "==" in line)  # pins only, no URLs
    spec = freeze + OFFICIAL_PROVIDER + (REPO / "pyproject.toml").read_text()
    return freeze, hashlib.sha256(spec.encode()).hexdigest()


def bench_venv_ready() -> bool:
    stamp = BENCH_VENV / ".bench-stamp"
    return stamp.exists() and stamp.read_text() == _bench_venv_digest()[1]


def ensure_bench_venv() -> Path:
    """.cache/bench-venv: this environment's exact package versions plus the official provider; made once."""
    python = BENCH_VENV / "bin" / "python"
    stamp = BENCH_VENV / ".bench-stamp"
    freeze, digest = _bench_venv_digest()
    if stamp.exists() and stamp.read_text() == digest:
        print(f"bench venv: {BENCH_VENV} is up to date ({OFFICIAL_PROVIDER})")
        return python
    print(f"bench venv: installing {OFFICIAL_PROVIDER} and -e {REPO} into {BENCH_VENV}, pinned to the")
    print("            versions of this environment (pip freeze); about a minute the first time")
    started = time.monotonic()
    subprocess.run([sys.executable, "-m", "venv", str(BENCH_VENV)], check=True)  # kept and updated if it exists
    constraints = BENCH_VENV / "constraints.txt"
    constraints.write_text(freeze)
    pip = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    subprocess.run([*pip, "-c", str(constraints), OFFICIAL_PROVIDER, "-e", str(REPO)], check=True)
    stamp.write_text(digest)
    print(f"bench venv: ready in {time.monotonic() - started:.0f} s")
    return python


# --- running the workers ----------------------------------------------------------------------------------------


class BenchError(RuntimeError):
    pass


@contextlib.contextmanager
def bench_broker() -> Iterator[tuple[KafkaBroker, str]]:
    existing = existing_broker_from_env()
    if existing is not None:
        yield existing, f"external broker at {existing.plaintext} (KAFKA_BOOTSTRAP_SERVERS)"
        return
    started = time.monotonic()
    with running_broker() as broker:
        yield (
            broker,
            f"harness Kafka {KAFKA_VERSION} at {broker.plaintext}, started in {time.monotonic() - started:.1f} s",
        )


def compile_provider() -> None:
    """Write the provider's bytecode, as installing a wheel does. The official provider in the bench venv has its
    bytecode from pip; without ours (PYTHONDONTWRITEBYTECODE set, as it may be in a shell or CI), each task compiled
    the modules it imports while it runs (producer, client_watch, errors: about 10 ms of the Airflow row)."""
    package = REPO / "airflow_provider_kafka_connector"
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(package)], check=True)


def worker_env(broker: KafkaBroker, airflow_home: str) -> dict[str, str]:
    connection = {"conn_type": "kafka_producer", "host": broker.plaintext}
    pythonpath = os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))
    return {
        **os.environ,
        "PYTHONPATH": pythonpath,
        "AIRFLOW_HOME": airflow_home,
        "AIRFLOW_CONN_KAFKA_BENCH": json.dumps(connection),
        "KAFKA_BOOTSTRAP_SERVERS": broker.plaintext,
    }


def run_case(python: Path | str, case: str, params: dict[str, Any], env: dict[str, str]) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        out = Path(tmp) / "result.json"
        command = [str(python), str(CASES), case, json.dumps({**params, "out": str(out)})]
        done = subprocess.run(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        if done.returncode != 0:
            raise BenchError(f"benchmark {case!r} failed (exit {done.returncode}):\n{done.stderr[-5000:]}")
        result: dict[str, Any] = json.loads(out.read_text())
    SAMPLES.setdefault(case, []).append(result)
    return result


def new_topic(broker: KafkaBroker, name: str) -> str:
    topic = f"bench-{name}-{uuid.uuid4().hex[:8]}"
    broker.create_topic(topic, partitions=PARTITIONS)
    return topic


def check_delivered(result: dict[str, Any], expected: int, what: str) -> None:
    if result["delivered"] != expected:
        raise BenchError(f"{what}: the topic holds {result['delivered']} messages, {expected} were sent")


# --- the benchmarks ---------------------------------------------------------------------------------------------


def median(values: list[float]) -> float:
    return statistics.median(values)


def warm_broker(args: argparse.Namespace, broker: KafkaBroker, env: dict[str, str]) -> None:
    """--broker-warmup fresh producers of ours and of the bare client, uncounted, before the first-acknowledgement
    rows: a broker just started answers ApiVersions, Metadata, InitProducerId and Produce several times slower
    than once its JVM has compiled them, as no long-running cluster does. Measured over 2,000 (medians of 100 back
    to back): ours 10.4 ms and bare 6.3 ms at the start, 5.7 to 7.3 ms and 2.6 to 3.5 ms from the 400th on."""
    started = time.monotonic()
    params = {"topic": new_topic(broker, "warm-up"), "rounds": args.broker_warmup}
    result = run_case(sys.executable, "warm_broker", params, env)
    check_delivered(result, 2 * args.broker_warmup, "broker warm-up")
    seconds, tenth = result["seconds"], max(1, args.broker_warmup // 10)
    first, last = (
        {name: median(seconds[name][part]) * 1000 for name in seconds} for part in (slice(tenth), slice(-tenth, None))
    )
    print(
        f"broker: warmed up by {args.broker_warmup} fresh producers of ours and of the bare client in "
        f"{time.monotonic() - started:.1f} s (medians of the first and last {tenth}: ours {first['ours']:.1f} and "
        f"{last['ours']:.1f} ms, bare {first['bare']:.1f} and {last['bare']:.1f} ms)"
    )


def bench_one(args: argparse.Namespace, broker: KafkaBroker, env: dict[str, str]) -> list[Row]:
    """The target's case, then the same without idempotence: librdkafka's idempotent start-up waits a fixed
    500 ms timer for its producer id, which hides everything else; without it the provider's own cost shows."""
    rows = []
    for label, properties, target in [
        ("1 message: execute / bare script", None, "<= 1.10x"),
        ("... the same, enable.idempotence=false", {"enable.idempotence": "false"}, ""),
    ]:
        topic = new_topic(broker, "one")
        params = {"topic": topic, "reps": args.one_reps, "warmup": args.warmup, "properties": properties}
        result = run_case(sys.executable, "one", params, env)
        check_delivered(result, 2 * (args.one_reps + args.warmup), label)
        ours, bare = median(result["seconds"]["ours"]), median(result["seconds"]["bare"])
        ratio = ours / bare
        detail = f"ours {ours * 1000:.1f} ms, bare {bare * 1000:.1f} ms (+{(ours - bare) * 1000:.1f} ms)"
        rows.append(Row(label, ratio, "x", target, ratio <= 1.10 if target else None, detail))
    return rows


def bench_startup(args: argparse.Namespace, broker: KafkaBroker, env: dict[str, str]) -> list[Row]:
    """A fresh idempotent producer to its first acknowledgement (execute, one message) against bare clients: from
    execute() and from Producer() to the delivery report; the whole runs (the client destroyed, and ours' XCom, asset
    event and log line) are shown beside. See case_startup for its two series."""
    topic = new_topic(broker, "startup")
    params = {"topic": topic, "reps": args.startup_reps, "warmup": args.warmup}
    result = run_case(sys.executable, "startup", params, env)
    check_delivered(result, 2 * (args.startup_reps + args.warmup) + 2 * args.startup_reps, "startup")
    ack = {name: median(values) * 1000 for name, values in result["first_ack"].items()}
    whole = {name: median(values) * 1000 for name, values in result["seconds"].items()}
    ratio, faster, sparse = (
        ack["ours"] / ack["bare"],
        ack["bare_idempotent"] / ack["ours"],
        ack["ours_sparse"] / ack["bare"],
    )
    return [
        Row(
            "fresh idempotent 1st ack: ours / bare",
            ratio,
            "x",
            "<= 2.0x",
            ratio <= 2.0,
            f"to the acknowledgement: ours {ack['ours']:.1f} ms, bare {ack['bare']:.1f} ms; whole runs: ours "
            f"{whole['ours']:.1f} ms, bare {whole['bare']:.1f} ms ({whole['ours'] / whole['bare']:.2f}x)",
        ),
        Row(
            "... bare idempotent / ours",
            faster,
            "x",
            ">= 50x",
            faster >= 50,
            f"bare idempotent {ack['bare_idempotent']:.1f} ms to the acknowledgement (whole runs "
            f"{whole['bare_idempotent']:.1f} ms), in a series after ours and bare; median of {args.startup_reps}",
        ),
        Row(
            "... ours, sparse connections on / bare",
            sparse,
            "x",
            "",
            None,
            f"ours with enable.sparse.connections=true (kept over TLS) {ack['ours_sparse']:.1f} ms to the "
            "acknowledgement, in the series with the bare idempotent producer",
        ),
    ]


def bench_cluster(args: argparse.Namespace, broker: KafkaBroker, env: dict[str, str]) -> list[Row]:
    """A fresh idempotent producer's first acknowledgement (execute, one message) on a three-node cluster (the
    harness's: RF 3, min.insync.replicas 2) next to the single broker, and with a dead server (a free loopback
    port) first in the cluster's bootstrap list."""
    started = time.monotonic()
    with running_cluster() as cluster:
        print(f"cluster: 3 nodes started in {time.monotonic() - started:.1f} s")
        cluster_topic = f"bench-cluster-{uuid.uuid4().hex[:8]}"
        cluster.create_topic(cluster_topic, partitions=PARTITIONS)
        cluster.wait_in_sync(cluster_topic)
        connections = {
            "AIRFLOW_CONN_KAFKA_BENCH_CLUSTER": cluster.plaintext,
            "AIRFLOW_CONN_KAFKA_BENCH_CLUSTER_DEAD_FIRST": f"127.0.0.1:{free_port()},{cluster.plaintext}",
        }
        cluster_env = env | {
            name: json.dumps({"conn_type": "kafka_producer", "host": host}) for name, host in connections.items()
        }
        params = {
            "topic": new_topic(broker, "cluster-single"),
            "cluster_topic": cluster_topic,
            "reps": args.cluster_reps,
            "warmup": args.warmup,
        }
        result = run_case(sys.executable, "cluster", params, cluster_env)
    check_delivered(result, args.cluster_reps + args.warmup, "cluster (single broker side)")
    ms = {name: median(values) * 1000 for name, values in result["seconds"].items()}
    slowest = {name: max(values) * 1000 for name, values in result["seconds"].items()}
    dead_first = ms["cluster_dead_first"] / ms["cluster"]
    return [
        Row(
            "fresh idempotent 1st ack: cluster / single broker",
            ms["cluster"] / ms["single"],
            "x",
            "",
            None,
            f"cluster {ms['cluster']:.1f} ms, single broker {ms['single']:.1f} ms (median of {args.cluster_reps}); "
            f"slowest {slowest['cluster']:.0f} ms and {slowest['single']:.0f} ms",
        ),
        Row(
            "... cluster, dead server first / all live",
            dead_first,
            "x",
            "<= 2.0x",
            dead_first <= 2.0,
            f"dead first {ms['cluster_dead_first']:.1f} ms; slowest {slowest['cluster_dead_first']:.0f} ms",
        ),
    ]


def first_ack_program() -> tuple[list[str] | None, str]:
    """The command that runs bench/java/FirstAck.java on the harness's kafka-clients jars, compiled once into
    .cache/bench-java (keyed by the source, the javac version and the jars); or None and why it cannot run."""
    javac, java = shutil.which("javac"), shutil.which("java")
    if javac is None or java is None:
        return None, "not measured: no javac/java on PATH (install a JDK 17+)"
    try:
        lib = fetch_jars()
    except BrokerError as error:
        return None, f"not measured: the Kafka jars are missing ({error})"
    jars = []
    for pattern in JAVA_CLIENT_JARS:
        found = sorted(lib.glob(pattern))
        if not found:
            return None, f"not measured: no {pattern} in {lib}"
        jars.append(str(found[-1]))
    classpath = os.pathsep.join(jars)
    version = subprocess.run([javac, "-version"], capture_output=True, text=True, check=True).stdout
    digest = hashlib.sha256((JAVA_SOURCE.read_text() + version + classpath).encode()).hexdigest()[:16]
    classes = cache_dir() / "bench-java" / digest
    if not (classes / "FirstAck.class").exists():
        classes.parent.mkdir(parents=True, exist_ok=True)
        building = Path(tempfile.mkdtemp(dir=classes.parent))
        compiled = subprocess.run(
            [javac, "-d", str(building), "-cp", classpath, str(JAVA_SOURCE)], capture_output=True, text=True
        )
        if compiled.returncode != 0:
            raise BenchError(f"javac {JAVA_SOURCE.name} failed:\n{compiled.stdout}{compiled.stderr}")
        with contextlib.suppress(OSError):  # another run compiled it meanwhile
            building.rename(classes)
        shutil.rmtree(building, ignore_errors=True)
    return [java, "-cp", os.pathsep.join([str(classes), classpath]), "FirstAck"], version.strip()


def bench_java(args: argparse.Namespace, broker: KafkaBroker, env: dict[str, str]) -> list[Row]:
    """A fresh idempotent producer to its first acknowledgement: ours (the startup row's, from execute()) against Java's
    kafka-clients (bench/java/FirstAck.java), in a new JVM per run (cold) and in one warmed-up JVM."""
    command, about = first_ack_program()
    if command is None:
        return [Row("fresh idempotent 1st ack: ours / Java kafka-clients", 0, "x", "< 1.0x", None, about)]
    topic = new_topic(broker, "java")
    reps, warmup, java_warmup = args.java_reps, args.warmup, args.java_warmup
    params = {"topic": topic, "reps": reps, "warmup": warmup, "java_warmup": java_warmup, "command": command}
    result = run_case(sys.executable, "java", params, env)
    check_delivered(result, 2 * (reps + warmup) + reps + java_warmup, "java")
    ms = {name: median(values) * 1000 for name, values in result["seconds"].items()}
    ours = f"ours {ms['ours_to_ack']:.1f} ms to the acknowledgement (whole execute {ms['ours']:.1f} ms)"
    warm, cold = ms["ours_to_ack"] / ms["java_warm"], ms["ours_to_ack"] / ms["java_cold_in_process"]
    return [
        Row(
            "fresh idempotent 1st ack: ours / Java, warm JVM",
            warm,
            "x",
            "< 1.0x",
            warm < 1.0,
            f"{ours}; Java {ms['java_warm']:.1f} ms (new KafkaProducer to ack, {java_warmup} warm-ups before; "
            f"close() {ms['java_warm_close']:.1f} ms more); median of {reps}; {about}",
        ),
        Row(
            "... ours / Java, cold JVM",
            cold,
            "x",
            "< 1.0x",
            cold < 1.0,
            f"{ours}; Java {ms['java_cold_in_process']:.1f} ms from new KafkaProducer to ack in a new JVM",
        ),
        Row(
            "... Java, cold JVM: java launch to ack",
            ms["java_cold"],
            "ms",
            "",
            None,
            f"a new `java` process per run, median of {reps}; ours needs no new process",
        ),
    ]


def bench_batch(args: argparse.Namespace, broker: KafkaBroker, env: dict[str, str]) -> list[Row]:
    rows = []
    for n, reps in [(args.batch_messages, args.batch_reps), (args.big_batch_messages, args.big_batch_reps)]:
        if not n:
            continue
        topic = new_topic(broker, "batch")
        result = run_case(
            sys.executable, "batch", {"topic": topic, "messages": n, "reps": reps, "warmup": args.warmup}, env
        )
        check_delivered(result, 5 * n * (reps + args.warmup), "batch")
        names = ("ours", "ours_python", "bare", "bare_reported", "ours_metrics")
        ours, python, bare, reported, metrics = (n / median(result["seconds"][name]) for name in names)
        detail = f"ours {ours:,.0f} msg/s, bare {bare:,.0f} msg/s, median of {reps}"
        ratio = ours / bare
        rows.append(Row(f"{n:,} x 100 B: throughput ours / bare", ratio, "x", ">= 0.90x", ratio >= 0.90, detail))
        rows.append(
            Row(
                "... ours / a bare loop with a delivery callback",
                ours / reported,
                "x",
                "",
                None,
                f"bare with on_delivery (tells a failed message from an acknowledged one) {reported:,.0f} msg/s",
            )
        )
        rows.append(
            Row(
                "... ours counting in Python (no C plugin) / bare",
                python / bare,
                "x",
                "",
                None,
                f"a delivery callback per message instead of the plugin's count: {python:,.0f} msg/s",
            )
        )
        rows.append(
            Row(
                "... ours with StatsD metrics on / ours (metrics off)",
                metrics / ours,
                "x",
                "",
                None,
                f"metrics on counts each message's bytes and sends 8 StatsD lines per task: {metrics:,.0f} msg/s",
            )
        )
    return rows


def bench_avro(args: argparse.Namespace, broker: KafkaBroker, env: dict[str, str]) -> list[Row]:
    """``messages=`` with an Avro value schema through a real Schema Registry (the harness's Apicurio) against a
    bare loop with the same AvroSerializer."""
    n = args.avro_messages
    topic = new_topic(broker, "avro")
    with running_schema_registry() as registry:
        properties = {"schema.registry.url": registry.url, "basic.auth.user.info": registry.user_info}
        params = {"topic": topic, "messages": n, "reps": args.avro_reps, "warmup": args.warmup, "registry": properties}
        result = run_case(sys.executable, "avro", params, env)
    check_delivered(result, 2 * n * (args.avro_reps + args.warmup), "avro")
    ours, bare = n / median(result["seconds"]["ours"]), n / median(result["seconds"]["bare"])
    detail = f"ours {ours:,.0f} msg/s, bare {bare:,.0f} msg/s (same AvroSerializer)"
    ratio = ours / bare
    return [Row(f"{n:,} Avro via registry: throughput ours / bare", ratio, "x", ">= 0.85x", ratio >= 0.85, detail)]


def bench_official(args: argparse.Namespace, broker: KafkaBroker, env: dict[str, str], python: Path) -> list[Row]:
    n, n_sync = args.batch_messages, args.official_sync_messages or args.batch_messages
    topic = new_topic(broker, "official")
    params = {
        "topic": topic,
        "messages": n,
        "reps": args.official_reps,
        "sync_messages": n_sync,
        "sync_reps": args.official_sync_reps,
        "warmup": args.warmup,
    }
    result = run_case(python, "official", params, env)
    expected = 3 * n * (args.official_reps + args.warmup) + n_sync * args.official_sync_reps
    check_delivered(result, expected, "official")
    seconds = result["seconds"]
    ours, bare = n / median(seconds["ours"]), n / median(seconds["bare"])
    rows = []
    for name, label, count, expected_ratio in [
        ("official_sync", "defaults (synchronous=True)", n_sync, 100),
        ("official_async", "synchronous=False", n, 10),
    ]:
        theirs = count / median(seconds[name])
        ratio = ours / theirs
        detail = (
            f"ours {ours:,.0f} msg/s, official {theirs:,.0f} msg/s ({count:,} messages); "
            f"bare {bare:,.0f} msg/s = {bare / theirs:.2f}x official"
        )
        rows.append(
            Row(f"ours / official, {label}", ratio, "x", f">= {expected_ratio}x", ratio >= expected_ratio, detail)
        )
    return rows


def bench_airflow(args: argparse.Namespace, broker: KafkaBroker, env: dict[str, str], python: Path) -> list[Row]:
    """One message through real Airflow (`airflow dags test`, the bench venv's Airflow for both): the task
    instance's start_date to end_date, ours against ProduceToTopicOperator with our operator's effective producer
    configuration and with librdkafka's defaults. Each DAG folder holds one operator's DAGs only, so that parsing
    one does not import what the other imports. The in-process Execution API is built before each run (warm_api):
    `dags test` stamps start_date before building it, which a deployed task's API server does not cost."""
    config = run_case(sys.executable, "producer_config", {}, env)["config"]
    with tempfile.TemporaryDirectory(prefix="bench-airflow-dags-") as tmp:
        ours_home = AirflowHome(
            Path(tmp) / "ours",
            {"kafka_bench": {"conn_type": "kafka_producer", "host": broker.plaintext}},
            dags_folder=BENCH_DAGS / "ours",
            python=python,
        )
        official_home = AirflowHome(
            Path(tmp) / "official",
            {
                "kafka_official": {"conn_type": "kafka", "extra": json.dumps(config)},
                "kafka_official_defaults": {
                    "conn_type": "kafka",
                    "extra": json.dumps({"bootstrap.servers": broker.plaintext}),
                },
            },
            dags_folder=BENCH_DAGS / "official",
            python=python,
        )
        runs = {
            "ours": (ours_home, "bench_produce_ours"),
            "official": (official_home, "bench_produce_official"),
            "official_defaults": (official_home, "bench_produce_official_defaults"),
        }
        topic = new_topic(broker, "airflow")
        seconds: dict[str, list[float]] = {name: [] for name in runs}
        wall: dict[str, list[float]] = {name: [] for name in runs}
        for round_ in range(args.warmup + args.airflow_reps):
            for name, (home, dag_id) in runs.items():
                started = time.monotonic()
                run = home.test_dag(dag_id, conf={"topic": topic}, warm_api=True)
                elapsed = time.monotonic() - started
                if run.task_states.get("produce") != "success":
                    raise BenchError(f"{dag_id}: the task ended {run.task_states}:\n{run.output[-5000:]}")
                if round_ >= args.warmup:
                    seconds[name].append(run.task_durations["produce"])
                    wall[name].append(elapsed)
    SAMPLES["airflow"] = {"task_seconds": seconds, "dags_test_seconds": wall}
    delivered = len(broker.read_all(topic))
    if delivered != len(runs) * (args.warmup + args.airflow_reps):
        raise BenchError(
            f"airflow: the topic holds {delivered} messages, {len(runs) * (args.warmup + args.airflow_reps)} were sent"
        )
    ms = {name: median(values) * 1000 for name, values in seconds.items()}
    whole = {name: median(values) for name, values in wall.items()}
    ratio, defaults = ms["ours"] / ms["official"], ms["ours"] / ms["official_defaults"]
    return [
        Row(
            "produce task in real Airflow: ours / official",
            ratio,
            "x",
            "< 1.0x",
            ratio < 1.0,
            f"task instance start to end: ours {ms['ours']:.0f} ms, ProduceToTopicOperator {ms['official']:.0f} ms "
            f"(same producer configuration as ours); median of {args.airflow_reps} `airflow dags test` runs "
            f"({whole['ours']:.1f} s and {whole['official']:.1f} s each)",
        ),
        Row(
            "... ours / official with librdkafka defaults",
            defaults,
            "x",
            "",
            None,
            f"ProduceToTopicOperator {ms['official_defaults']:.0f} ms with only bootstrap.servers (not idempotent)",
        ),
    ]


def bench_import(args: argparse.Namespace, env: dict[str, str], python: Path | None) -> list[Row]:
    modules = {"ours": OURS_MODULE} | ({"official": OFFICIAL_MODULE} if python else {})
    samples: dict[str, list[dict[str, Any]]] = {name: [] for name in modules}
    for _ in range(args.import_reps):
        for name, module in modules.items():
            samples[name].append(run_case(python or sys.executable, "import", {"module": module}, env))
    ours = median([s["ms"] for s in samples["ours"]])
    detail = f"median of {args.import_reps} fresh interpreters"
    if python:
        official = median([s["ms"] for s in samples["official"]])
        detail = f"official adds {official:.1f} ms; {detail}"
    loaded = sum(s["confluent_kafka_loaded"] for s in samples["ours"])
    return [
        Row("import ours after airflow.sdk: added", ours, "ms", "<= 5 ms", ours <= 5, detail),
        Row("... confluent_kafka imported by ours", loaded, "runs", "0 runs", loaded == 0, "in sys.modules after it?"),
    ]


def bench_memory(args: argparse.Namespace, broker: KafkaBroker, env: dict[str, str]) -> list[Row]:
    n = args.memory_messages
    results = {}
    for mode in ("ours", "bare"):
        topic = new_topic(broker, f"memory-{mode}")
        results[mode] = run_case(sys.executable, "memory", {"topic": topic, "messages": n, "mode": mode}, env)
    growth = {mode: r["peak_after_mb"] - r["peak_before_mb"] for mode, r in results.items()}
    rate = {mode: n / r["seconds"] for mode, r in results.items()}
    peaks = {mode: f"peak RSS {r['peak_before_mb']:.0f} -> {r['peak_after_mb']:.0f} MB" for mode, r in results.items()}
    return [
        Row(
            f"{n:,} messages, ours: peak RSS growth",
            growth["ours"],
            "MB",
            "<= 64 MB",
            growth["ours"] <= 64,
            peaks["ours"],
        ),
        Row("... the same, bare confluent-kafka loop", growth["bare"], "MB", "", None, peaks["bare"]),
        Row(
            "... their throughput ours / bare",
            rate["ours"] / rate["bare"],
            "x",
            "",
            None,
            f"ours {rate['ours']:,.0f} msg/s, bare {rate['bare']:,.0f} msg/s (one run each; start-up amortized)",
        ),
    ]


def bench_exactly_once(args: argparse.Namespace, broker: KafkaBroker, env: dict[str, str]) -> list[Row]:
    """exactly_once=True against the default path, side by side: one message's added latency, a batch's rate.

    The 1-message series runs twice: as the broker's first transactions, and after --eos-broker-warmup more (the
    target's; see case_exactly_once). The batch runs in between, on the broker as the first series left it.
    """

    def one_message(name: str, broker_warmup: int) -> dict[str, float]:
        params = {"reps": args.one_reps, "warmup": args.warmup, "broker_warmup": broker_warmup}
        one = run_case(sys.executable, "exactly_once", {"topic": new_topic(broker, name), **params}, env)["seconds"]
        return {key: median(samples) * 1000 for key, samples in one.items()}

    first = one_message("eos-first", 0)
    n = args.batch_messages
    batch = run_case(
        sys.executable,
        "exactly_once",
        {"topic": new_topic(broker, "eos-batch"), "messages": n, "reps": args.eos_batch_reps, "warmup": args.warmup},
        env,
    )["seconds"]
    rate = {name: n / median(batch[name]) for name in ("default", "exactly_once")}
    ratio = rate["exactly_once"] / rate["default"]
    warm = one_message("eos-one", args.eos_broker_warmup) if args.eos_broker_warmup else first
    default, eos, eos_try_2 = (warm[name] for name in ("default", "exactly_once", "exactly_once_try_2"))
    after = f", after {args.eos_broker_warmup} uncounted exactly_once tasks" if args.eos_broker_warmup else ""
    rows = [
        Row(
            "1 message: exactly_once added latency",
            eos - default,
            "ms",
            "<= 15 ms",
            eos - default <= 15,
            f"default {default:.1f} ms, exactly_once {eos:.1f} ms (median of {args.one_reps}{after})",
        ),
        Row(
            "... a retry's try (reads the marker) added",
            eos_try_2 - default,
            "ms",
            "",
            None,
            f"exactly_once, try 2 of a new task instance {eos_try_2:.1f} ms",
        ),
    ]
    if args.eos_broker_warmup:
        rows.append(
            Row(
                "... the same two, as the broker's first transactions",
                first["exactly_once"] - first["default"],
                "ms",
                "",
                None,
                f"default {first['default']:.1f} ms, exactly_once {first['exactly_once']:.1f} ms, try 2 "
                f"{first['exactly_once_try_2']:.1f} ms (a fresh broker runs transactions slower)",
            )
        )
    return [
        *rows,
        Row(
            f"{n:,} x 100 B: exactly_once / default",
            ratio,
            "x",
            ">= 0.80x",
            ratio >= 0.80,
            f"default {rate['default']:,.0f} msg/s, exactly_once {rate['exactly_once']:,.0f} msg/s",
        ),
    ]


# --- the report -------------------------------------------------------------------------------------------------


def bench_tokens(args: argparse.Namespace, env: dict[str, str]) -> list[Row]:
    """A fresh producer's first acknowledgement with Amazon MSK IAM against OIDC and against the bare client's
    oauth_cb, on a broker of its own with both listeners (harness.aws_iam and the OIDC token server)."""
    from airflow_provider_kafka_connector import aws_msk_iam
    from harness.aws_iam import running_aws_iam
    from harness.kafka_broker import MSK_REGION
    from harness.oidc_server import CLIENT_ID, CLIENT_SECRET, SCOPE, running_oidc_server

    with running_oidc_server() as oidc, running_aws_iam() as iam, running_broker(oidc=oidc, aws_iam=iam) as broker:
        assert broker.msk_iam and broker.oauth
        tls = {"security.protocol": "SASL_SSL", "ssl.ca.location": str(broker.ca_file)}
        msk = {
            **tls,
            "sasl.mechanism": "AWS_MSK_IAM",
            "sasl.jaas.config": "software.amazon.msk.auth.iam.IAMLoginModule required;",
            "sasl.oauthbearer.config": f"region={MSK_REGION}",
        }
        oidc_login = {
            **tls,
            "sasl.mechanism": "OAUTHBEARER",
            "sasl.oauthbearer.method": "oidc",
            "sasl.oauthbearer.token.endpoint.url": oidc.token_endpoint,
            "sasl.oauthbearer.client.id": CLIENT_ID,
            "sasl.oauthbearer.client.secret": CLIENT_SECRET,
            "sasl.oauthbearer.scope": SCOPE,
        }
        worker = iam.environment(MSK_REGION, credentials=iam.create_user("bench"), base=env)
        worker |= {
            "KAFKA_BOOTSTRAP_SERVERS": broker.plaintext,
            "AIRFLOW_CONN_KAFKA_BENCH_MSK": json.dumps(
                {"conn_type": "kafka_producer", "host": broker.msk_iam, "extra": msk}
            ),
            "AIRFLOW_CONN_KAFKA_BENCH_OIDC": json.dumps(
                {"conn_type": "kafka_producer", "host": broker.oauth, "extra": oidc_login}
            ),
            "AIRFLOW__KAFKA_CONNECTOR__CALLBACK_ALLOWLIST": aws_msk_iam.CALLBACK,
            "AIRFLOW__KAFKA_CONNECTOR__ALLOWED_URLS": oidc.token_endpoint,
        }
        topic = new_topic(broker, "tokens")
        result = run_case(sys.executable, "tokens", {"topic": topic, "reps": args.token_reps, "warmup": 2}, worker)
        check_delivered(result, 3 * args.token_reps + 2 * 2, "tokens")
    ack = {name: median(values) * 1000 for name, values in result["first_ack"].items()}
    against_oidc, against_bare = ack["msk"] / ack["oidc"], ack["msk"] / ack["bare_msk"]
    return [
        Row(
            "fresh MSK IAM 1st ack: ours / ours with OIDC",
            against_oidc,
            "x",
            "<= 1.5x",
            against_oidc <= 1.5,
            f"MSK IAM {ack['msk']:.1f} ms, OIDC client credentials {ack['oidc']:.1f} ms (execute() to the delivery "
            "report, medians)",
        ),
        Row(
            "... ours / bare client, the same token as oauth_cb",
            against_bare,
            "x",
            "<= 0.5x",
            against_bare <= 0.5,
            f"ours {ack['msk']:.1f} ms, bare {ack['bare_msk']:.1f} ms: confluent-kafka's constructor waits for an "
            "oauth_cb's first token in steps of 1 s; ours hands librdkafka the token through its plugin",
        ),
    ]


def format_table(rows: list[Row]) -> str:
    def measured(row: Row) -> str:
        if row.unit == "x":
            return f"{row.measured:.2f}x"
        return f"{row.measured:.0f} {row.unit}" if row.unit == "runs" else f"{row.measured:.1f} {row.unit}"

    table = [("benchmark", "measured", "target", "result", "detail")]
    table += [(r.benchmark, measured(r), r.target, r.result, r.detail) for r in rows]
    widths = [max(len(line[i]) for line in table) for i in range(4)]
    lines = ["  ".join(line[i].ljust(widths[i]) for i in range(4)) + "  " + line[4] for line in table]
    lines.insert(1, "-" * len(lines[0]))
    return "\n".join(lines)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", default=",".join(BENCHMARKS), help="comma-separated: %(default)s")
    parser.add_argument("--one-reps", type=int, default=20, help="1-message runs of each side (default %(default)s)")
    parser.add_argument("--startup-reps", type=int, default=21, help="fresh producers of each (default %(default)s)")
    parser.add_argument("--cluster-reps", type=int, default=30, help="fresh producers on each (default %(default)s)")
    parser.add_argument("--java-reps", type=int, default=9, help="fresh Java producers of each (default %(default)s)")
    parser.add_argument("--java-warmup", type=int, default=10, help="uncounted warm JVM runs (default %(default)s)")
    parser.add_argument("--airflow-reps", type=int, default=5, help="`airflow dags test` of each (default %(default)s)")
    parser.add_argument("--batch-messages", type=int, default=100_000, help="default %(default)s")
    parser.add_argument("--batch-reps", type=int, default=15, help="default %(default)s")
    parser.add_argument("--big-batch-messages", type=int, default=1_000_000, help="0: none (default %(default)s)")
    parser.add_argument("--big-batch-reps", type=int, default=5, help="default %(default)s")
    parser.add_argument("--avro-messages", type=int, default=100_000, help="default %(default)s")
    parser.add_argument("--avro-reps", type=int, default=5, help="default %(default)s")
    parser.add_argument("--official-reps", type=int, default=5, help="default %(default)s")
    parser.add_argument("--official-sync-reps", type=int, default=3, help="default %(default)s")
    parser.add_argument("--official-sync-messages", type=int, default=0, help="default: --batch-messages")
    parser.add_argument("--import-reps", type=int, default=15, help="default %(default)s")
    parser.add_argument("--memory-messages", type=int, default=1_000_000, help="default %(default)s")
    parser.add_argument("--eos-batch-reps", type=int, default=5, help="exactly_once batches (default %(default)s)")
    parser.add_argument(
        "--eos-broker-warmup",
        type=int,
        default=300,
        help="exactly_once: uncounted transactions before the 1-message series is timed again (default "
        "%(default)s; 0: one series only)",
    )
    parser.add_argument(
        "--token-reps", type=int, default=7, help="fresh producers with each login (default %(default)s)"
    )
    parser.add_argument("--warmup", type=int, default=1, help="uncounted rounds before each timed series")
    parser.add_argument(
        "--broker-warmup",
        type=int,
        default=500,
        help="uncounted fresh producers (ours and bare, each) before the first-acknowledgement rows (default "
        "%(default)s; 0: none)",
    )
    parser.add_argument("--no-official", action="store_true", help="skip the official provider (and its venv)")
    parser.add_argument("--setup-only", action="store_true", help="only create or update the bench venv")
    parser.add_argument("--results", type=Path, default=RESULTS, help="JSON output (default %(default)s)")
    args = parser.parse_args(argv)
    args.only = set(args.only.split(","))
    if args.only - set(BENCHMARKS):
        parser.error(f"unknown benchmark(s) {sorted(args.only - set(BENCHMARKS))}; choose from {BENCHMARKS}")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    wants_official = not args.no_official and bool(args.only & {"official", "airflow", "import"})
    python = ensure_bench_venv() if wants_official or args.setup_only else None
    if args.setup_only:
        return 0
    started = time.monotonic()
    compile_provider()
    rows: list[Row] = []
    failed = []
    with bench_broker() as (broker, origin), tempfile.TemporaryDirectory(prefix="bench-airflow-") as airflow_home:
        print(f"broker: {origin}")
        env = worker_env(broker, airflow_home)
        if args.broker_warmup and args.only & FIRST_ACK_BENCHMARKS:
            warm_broker(args, broker, env)
        benchmarks: dict[str, Callable[[], list[Row]]] = {
            "one": lambda: bench_one(args, broker, env),
            "startup": lambda: bench_startup(args, broker, env),
            "cluster": lambda: bench_cluster(args, broker, env),
            "java": lambda: bench_java(args, broker, env),
            "batch": lambda: bench_batch(args, broker, env),
            "avro": lambda: bench_avro(args, broker, env),
            "official": lambda: bench_official(args, broker, env, python) if python else [],
            "airflow": lambda: bench_airflow(args, broker, env, python) if python else [],
            "import": lambda: bench_import(args, env, python),
            "memory": lambda: bench_memory(args, broker, env),
            "exactly_once": lambda: bench_exactly_once(args, broker, env),
            "tokens": lambda: bench_tokens(args, env),
        }
        for name, bench in benchmarks.items():
            if name in args.only:
                try:
                    rows += bench()
                except BenchError as error:  # report it, and go on with the others
                    print(error, file=sys.stderr)
                    failed.append(name)
    print(format_table(rows))
    import confluent_kafka

    report = {
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "finished": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "seconds": round(time.monotonic() - started, 1),
        "broker": origin,
        "python": platform.python_version(),
        "confluent_kafka": confluent_kafka.version(),
        "librdkafka": confluent_kafka.libversion()[0],
        "official_provider": SAMPLES.get("official", [{}])[0].get("official_version"),
        "failed": failed,
        "params": {
            key: sorted(value) if isinstance(value, set) else str(value) if isinstance(value, Path) else value
            for key, value in vars(args).items()
        },
        "rows": [asdict(row) | {"result": row.result} for row in rows],
        "samples": SAMPLES,
    }
    args.results.parent.mkdir(parents=True, exist_ok=True)
    args.results.write_text(json.dumps(report, indent=2) + "\n")
    print(f"results: {args.results} ({report['seconds']} s)")
    if failed:
        print(f"FAILED: {', '.join(failed)} (see above)", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
