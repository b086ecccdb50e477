"""Benchmark bodies. bench/run.py runs each in a fresh worker process: ``python bench/cases.py CASE PARAMS_JSON``.

A worker's stdout goes to /dev/null (Airflow's log lines, including the official operator's one INFO line per
message, are formatted as in a task and then dropped); its result is written as JSON to ``params["out"]``.
Only the standard library is imported at module level, so the ``import`` case starts from a clean interpreter.
"""

from __future__ import annotations

import functools
import importlib
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from typing import Any

OURS_CONN = "kafka_bench"  # defined by run.py as AIRFLOW_CONN_KAFKA_BENCH
# The three-node cluster (run.py --only cluster): all nodes, and a dead server first in the bootstrap list.
CLUSTER_CONN = "kafka_bench_cluster"
CLUSTER_DEAD_FIRST_CONN = "kafka_bench_cluster_dead_first"
OFFICIAL_CONN = "kafka_official"  # defined here, from the same effective producer configuration
# Token logins (run.py --only tokens): Amazon MSK IAM, and OIDC client credentials (librdkafka fetches the token).
MSK_CONN = "kafka_bench_msk"
OIDC_CONN = "kafka_bench_oidc"
PAYLOAD = b"x" * 100


class TaskInstance:
    """Just enough of a task instance for ``execute``: it keeps what is pushed to XCom."""

    def __init__(self) -> None:
        self.xcom: dict[str, Any] = {}

    def xcom_push(self, key: str, value: Any) -> None:
        self.xcom[key] = value


def run_task(operator: Any, ti: TaskInstance | None = None, **context_extra: Any) -> tuple[float, TaskInstance]:
    """Time ``operator.execute`` called as the task runner calls it (with its sentinel, so Airflow does not warn).

    The context has what the operators use: ``ti`` (for XCom) and Airflow's own ``outlet_events`` (for lineage).
    """
    from airflow.sdk.bases.operator import ExecutorSafeguard
    from airflow.sdk.execution_time.context import OutletEventAccessors

    ti = ti or TaskInstance()
    context = {"ti": ti, "outlet_events": OutletEventAccessors(), **context_extra}
    sentinel = {f"{type(operator).__name__}__sentinel": ExecutorSafeguard.sentinel_value}
    start = time.perf_counter()
    operator.execute(context, **sentinel)
    return time.perf_counter() - start, ti


def producer_config(properties: dict[str, str] | None = None, conn_id: str = OURS_CONN) -> dict[str, str]:
    """The effective configuration our operator uses, so the bare client runs with exactly the same one."""
    from airflow_provider_kafka_connector.hooks.kafka_producer import KafkaProducerHook

    return dict(KafkaProducerHook(conn_id).producer_config(properties))


def first_reports() -> list[float]:
    """The times (perf_counter) at which our delivery tallies receive a report, recorded by a wrapper of
    DeliveryTally.on_delivery installed here, in the bench's worker only: when execute() got its acknowledgement."""
    from airflow_provider_kafka_connector.producer import DeliveryTally

    if not hasattr(DeliveryTally, "report_times"):
        on_delivery, times = DeliveryTally.on_delivery, []

        def timed(self: Any, error: Any, message: Any) -> None:
            times.append(time.perf_counter())
            on_delivery(self, error, message)

        DeliveryTally.on_delivery = timed  # type: ignore[method-assign]
        DeliveryTally.report_times = times  # type: ignore[attr-defined]
    return DeliveryTally.report_times  # type: ignore[attr-defined,no-any-return]


def ours(
    topic: str,
    count: int | None,
    properties: dict[str, str] | None = None,
    conn_id: str = OURS_CONN,
    plugin: bool = True,
    first_acks: list[float] | None = None,
) -> Callable[[], float]:
    """Our operator: one message (count None) or ``messages=`` a callable returning a generator of dicts.

    ``plugin=False``: a batch counts its delivery reports in Python, as where the C plugin is not built.
    ``first_acks``: one message; each run also appends its seconds from execute() to the acknowledgement.
    """
    from airflow_provider_kafka_connector import native_tally
    from airflow_provider_kafka_connector.operators.kafka_producer import KafkaProducerOperator

    reports = first_reports() if first_acks is not None else []
    if count is None:
        operator = KafkaProducerOperator(
            task_id="one", topic=topic, value=PAYLOAD, kafka_conn_id=conn_id, additional_properties=properties
        )
    else:
        operator = KafkaProducerOperator(
            task_id="batch",
            topic=topic,
            messages=lambda: ({"value": PAYLOAD} for _ in range(count)),
            kafka_conn_id=OURS_CONN,
            additional_properties=properties,
        )

    def run() -> float:
        if not plugin:
            native_tally._unusable.set()
        reports.clear()
        started = time.perf_counter()
        try:
            elapsed, ti = run_task(operator)
        finally:
            native_tally._unusable.clear()
        acknowledged = 1 if count is None else ti.xcom["response"]["count"]
        if acknowledged != (count or 1):
            raise RuntimeError(f"our operator acknowledged {acknowledged} of {count or 1} messages")
        if first_acks is not None:
            first_acks.append(reports[0] - started)
        return elapsed

    return run


def bare(
    topic: str, count: int, config: dict[str, Any], reports: bool = False, first_acks: list[float] | None = None
) -> Callable[[], float]:
    """A bare confluent-kafka script: Producer(conf), produce each message, poll(0) every 1000, one flush.

    With ``reports`` each message has the smallest delivery callback that tells a failed message from an
    acknowledged one (without it, flush() returning 0 also counts failed messages as done). ``first_acks``: with
    reports; each run also appends its seconds from Producer() to the first delivery report.
    """
    from confluent_kafka import KafkaError, Message, Producer

    reports = reports or first_acks is not None

    def run() -> float:
        failed: list[KafkaError] = []
        reported: list[float] = []

        def on_delivery(error: KafkaError | None, _: Message) -> None:
            if error is not None:
                failed.append(error)

        def on_timed_delivery(error: KafkaError | None, message: Message) -> None:
            reported.append(time.perf_counter())
            on_delivery(error, message)

        callback = on_delivery if first_acks is None else on_timed_delivery
        start = time.perf_counter()
        producer = Producer(config)
        produce = functools.partial(producer.produce, on_delivery=callback) if reports else producer.produce
        for i in range(count):
            while True:
                try:
                    produce(topic, PAYLOAD)
                    break
                except BufferError:  # the local queue is full (only past 100,000 messages): let librdkafka send
                    producer.poll(0.05)
            if i % 1000 == 0:
                producer.poll(0)
        remaining = producer.flush()
        # Destroys the client, as our operator does before execute() returns: `produce` (a bound method) holds it too.
        del produce, producer
        elapsed = time.perf_counter() - start
        if remaining or failed:
            raise RuntimeError(f"the bare producer: {remaining} messages queued after flush(), {len(failed)} failed")
        if first_acks is not None:
            first_acks.append(reported[0] - start)
        return elapsed

    return run


AVRO_SCHEMA = (
    '{"type": "record", "name": "Reading", "fields": [{"name": "sensor", "type": "string"}, '
    '{"name": "seq", "type": "long"}, {"name": "value", "type": "double"}]}'
)


def readings(count: int) -> Any:
    return ({"sensor": "s-17", "seq": i, "value": i * 0.5} for i in range(count))


def ours_avro(topic: str, count: int, registry: dict[str, str]) -> Callable[[], float]:
    """Our operator with ``messages=`` and ``value_schema`` through the Schema Registry."""
    from airflow_provider_kafka_connector.operators.kafka_producer import KafkaProducerOperator

    operator = KafkaProducerOperator(
        task_id="avro",
        topic=topic,
        messages=lambda: ({"value": value} for value in readings(count)),
        value_schema=AVRO_SCHEMA,
        kafka_conn_id=OURS_CONN,
        additional_properties=registry,
    )

    def run() -> float:
        elapsed, ti = run_task(operator)
        if ti.xcom["response"]["count"] != count:
            raise RuntimeError(f"our operator acknowledged {ti.xcom['response']['count']} of {count} messages")
        return elapsed

    return run


def bare_avro(topic: str, count: int, config: dict[str, str], registry: dict[str, str]) -> Callable[[], float]:
    """A bare confluent-kafka script with the same AvroSerializer: client and serializer made per run, as a task
    makes them."""
    from confluent_kafka import Producer
    from confluent_kafka.schema_registry import SchemaRegistryClient
    from confluent_kafka.schema_registry.avro import AvroSerializer
    from confluent_kafka.serialization import MessageField, SerializationContext

    client_conf = {"url": registry["schema.registry.url"], "basic.auth.user.info": registry["basic.auth.user.info"]}

    def run() -> float:
        start = time.perf_counter()
        serializer = AvroSerializer(SchemaRegistryClient(client_conf), AVRO_SCHEMA)
        context = SerializationContext(topic, MessageField.VALUE)
        producer = Producer(config)
        for i, value in enumerate(readings(count)):
            payload = serializer(value, context)
            while True:
                try:
                    producer.produce(topic, payload)
                    break
                except BufferError:
                    producer.poll(0.05)
            if i % 1000 == 0:
                producer.poll(0)
        remaining = producer.flush()
        del producer
        elapsed = time.perf_counter() - start
        if remaining:
            raise RuntimeError(f"the bare producer still had {remaining} messages queued after flush()")
        return elapsed

    return run


def official(topic: str, count: int, synchronous: bool) -> Callable[[], float]:
    """The official provider's ProduceToTopicOperator, defaults except ``synchronous``."""
    from airflow.providers.apache.kafka.operators.produce import ProduceToTopicOperator

    operator = ProduceToTopicOperator(
        task_id="official",
        topic=topic,
        producer_function=lambda: ((None, PAYLOAD) for _ in range(count)),
        kafka_config_id=OFFICIAL_CONN,
        synchronous=synchronous,
    )
    return lambda: run_task(operator)[0]


def interleaved(runners: dict[str, tuple[Callable[[], float], int, int]]) -> dict[str, list[float]]:
    """Run each runner in turn, so that drift hits all alike: (run, reps, uncounted warm-ups).

    Each round runs them in a new order (shuffled, the same in every bench run): a run right after one that
    mostly sleeps (a bare idempotent producer waits 500 ms) can meet an idle CPU (with one in the series, ours and
    the bare producer took 1.4x as long as without it), which a fixed order, or a rotated one, would always
    charge to the runner that follows it.
    """
    samples: dict[str, list[float]] = {name: [] for name in runners}
    order, shuffle = list(runners), random.Random(0).shuffle
    for round_ in range(max(warmup + reps for _, reps, warmup in runners.values())):
        shuffle(order)
        for name in order:
            run, reps, warmup = runners[name]
            if round_ < warmup + reps:
                elapsed = run()
                if round_ >= warmup:
                    samples[name].append(elapsed)
    return samples


def delivered(topic: str) -> int:
    """How many messages the topic holds: a check that every run really delivered what it was asked to."""
    from confluent_kafka import Consumer, TopicPartition

    consumer = Consumer({"bootstrap.servers": os.environ["KAFKA_BOOTSTRAP_SERVERS"], "group.id": "bench-check"})
    try:
        partitions = consumer.list_topics(topic, timeout=10).topics[topic].partitions
        return sum(consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1] for p in partitions)
    finally:
        consumer.close()


def case_one(p: dict[str, Any]) -> dict[str, Any]:
    config = producer_config(p.get("properties"))
    runners = {
        "ours": (ours(p["topic"], None, p.get("properties")), p["reps"], p["warmup"]),
        "bare": (bare(p["topic"], 1, config), p["reps"], p["warmup"]),
    }
    return {"seconds": interleaved(runners), "delivered": delivered(p["topic"])}


def librdkafka_defaults() -> dict[str, str]:
    """The first-acknowledgement rows' bare producer: librdkafka's defaults (not idempotent), with acks=all."""
    return {"bootstrap.servers": os.environ["KAFKA_BOOTSTRAP_SERVERS"], "acks": "all"}


def case_startup(p: dict[str, Any]) -> dict[str, Any]:
    """A fresh producer to its first acknowledgement: ours (idempotent) against bare clients with librdkafka's
    defaults, without and with idempotence, and ours with ``enable.sparse.connections=true`` (kept over TLS).

    Ours and the bare non-idempotent producer run in a series of their own; the two that mostly wait (the bare
    idempotent producer its 500 ms timer, ours with sparse connections librdkafka's sparse-connection interval) in
    a second one after it. Waiting leaves the CPU idle, and the run after it is slow, more so the more CPU work it
    does (the same Python code took 0.26 ms back to back and 0.71 ms after sleeping 3 ms; ours took 9.2 ms in a
    series with the bare idempotent producer, 6.1 ms in one without). A task's execute() comes right after its
    process started, not after idling; the waiting clients' own times are their timers.
    """
    bare_config = librdkafka_defaults()
    idempotent_config = {**bare_config, "enable.idempotence": "true"}
    reps, warmup = p["reps"], p["warmup"]
    acks: dict[str, list[float]] = {name: [] for name in ("ours", "bare", "ours_sparse", "bare_idempotent")}
    seconds = interleaved(
        {
            "ours": (ours(p["topic"], None, first_acks=acks["ours"]), reps, warmup),
            "bare": (bare(p["topic"], 1, bare_config, first_acks=acks["bare"]), reps, warmup),
        }
    )
    sparse = {"enable.sparse.connections": "true"}
    seconds |= interleaved(
        {
            "ours_sparse": (ours(p["topic"], None, sparse, first_acks=acks["ours_sparse"]), reps, 0),
            "bare_idempotent": (bare(p["topic"], 1, idempotent_config, first_acks=acks["bare_idempotent"]), reps, 0),
        }
    )
    first_ack = {name: times[-reps:] for name, times in acks.items()}
    return {"seconds": seconds, "first_ack": first_ack, "delivered": delivered(p["topic"])}


def case_warm_broker(p: dict[str, Any]) -> dict[str, Any]:
    """Uncounted fresh producers, ours and bare alternately, so the timed series meet a broker past its JVM's warm-up
    (a broker a few seconds old answers each request about twice as slowly as it will later)."""
    runners = {
        "ours": (ours(p["topic"], None), p["rounds"], 0),
        "bare": (bare(p["topic"], 1, librdkafka_defaults()), p["rounds"], 0),
    }
    return {"seconds": interleaved(runners), "delivered": delivered(p["topic"])}


def case_cluster(p: dict[str, Any]) -> dict[str, Any]:
    """One message from a fresh idempotent producer (the producer-id path): the single broker, the three-node
    cluster, and the cluster with a dead server first in the bootstrap list."""
    reps, warmup = p["reps"], p["warmup"]
    runners = {
        "single": (ours(p["topic"], None), reps, warmup),
        "cluster": (ours(p["cluster_topic"], None, conn_id=CLUSTER_CONN), reps, warmup),
        "cluster_dead_first": (ours(p["cluster_topic"], None, conn_id=CLUSTER_DEAD_FIRST_CONN), reps, warmup),
    }
    return {"seconds": interleaved(runners), "delivered": delivered(p["topic"])}


def with_statsd(run: Callable[[], float]) -> Callable[[], float]:
    """The run with Airflow's StatsD metrics on, sent to a UDP port of this worker that reads nothing: Airflow's own
    StatsD client, set up as a task process sets it up (Airflow 3.2+)."""
    import socket

    from airflow.sdk._shared.observability.metrics import stats
    from airflow.sdk.observability.metrics import stats_utils

    sink = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sink.bind(("127.0.0.1", 0))
    switches = {
        "AIRFLOW__METRICS__STATSD_ON": "True",
        "AIRFLOW__METRICS__STATSD_HOST": "127.0.0.1",
        "AIRFLOW__METRICS__STATSD_PORT": str(sink.getsockname()[1]),
    }
    os.environ.update(switches)
    stats.initialize(factory=stats_utils.get_stats_factory(), export_legacy_names=True)
    for name in switches:
        del os.environ[name]

    def run_with_metrics() -> float:
        os.environ.update(switches)
        try:
            return run()
        finally:
            for name in switches:
                del os.environ[name]

    return run_with_metrics


def case_batch(p: dict[str, Any]) -> dict[str, Any]:
    n = p["messages"]
    runners = {
        "ours": (ours(p["topic"], n), p["reps"], p["warmup"]),
        "ours_metrics": (with_statsd(ours(p["topic"], n)), p["reps"], p["warmup"]),
        "ours_python": (ours(p["topic"], n, plugin=False), p["reps"], p["warmup"]),
        "bare": (bare(p["topic"], n, producer_config()), p["reps"], p["warmup"]),
        "bare_reported": (bare(p["topic"], n, producer_config(), reports=True), p["reps"], p["warmup"]),
    }
    return {"seconds": interleaved(runners), "delivered": delivered(p["topic"])}


def case_avro(p: dict[str, Any]) -> dict[str, Any]:
    n, registry = p["messages"], p["registry"]
    runners = {
        "ours": (ours_avro(p["topic"], n, registry), p["reps"], p["warmup"]),
        "bare": (bare_avro(p["topic"], n, producer_config(registry), registry), p["reps"], p["warmup"]),
    }
    return {"seconds": interleaved(runners), "delivered": delivered(p["topic"])}


def case_official(p: dict[str, Any]) -> dict[str, Any]:
    from importlib.metadata import version

    # The official connection type "kafka" takes the whole librdkafka configuration as its extra.
    extra = json.dumps(producer_config())
    os.environ[f"AIRFLOW_CONN_{OFFICIAL_CONN.upper()}"] = json.dumps({"conn_type": "kafka", "extra": extra})
    n, n_sync = p["messages"], p["sync_messages"]
    runners = {  # no warm-up for the slow synchronous runs: the others have warmed the process up
        "ours": (ours(p["topic"], n), p["reps"], p["warmup"]),
        "bare": (bare(p["topic"], n, producer_config()), p["reps"], p["warmup"]),
        "official_async": (official(p["topic"], n, synchronous=False), p["reps"], p["warmup"]),
        "official_sync": (official(p["topic"], n_sync, synchronous=True), p["sync_reps"], 0),
    }
    samples = interleaved(runners)
    return {
        "seconds": samples,
        "delivered": delivered(p["topic"]),
        "official_version": version("apache-airflow-providers-apache-kafka"),
    }


def case_import(p: dict[str, Any]) -> dict[str, Any]:
    import airflow.sdk  # noqa: F401  (what every DAG file has paid already)

    start = time.perf_counter()
    importlib.import_module(p["module"])
    elapsed = time.perf_counter() - start
    return {"ms": elapsed * 1000, "confluent_kafka_loaded": "confluent_kafka" in sys.modules}


def case_memory(p: dict[str, Any]) -> dict[str, Any]:
    run = ours(p["topic"], p["messages"]) if p["mode"] == "ours" else bare(p["topic"], p["messages"], producer_config())
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux: the peak so far
    elapsed = run()
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"seconds": elapsed, "peak_before_mb": before / 1024, "peak_after_mb": after / 1024}


def java_cold(command: list[str], in_process: list[float]) -> Callable[[], float]:
    """bench/java/FirstAck.java in a new JVM each run: seconds from launching ``java`` to the acknowledgement's
    line; what the program measured itself (``new KafkaProducer`` to the acknowledgement) goes to ``in_process``."""

    def run() -> float:
        with tempfile.TemporaryFile("w+") as stderr:
            start = time.perf_counter()
            process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=stderr, text=True)
            assert process.stdin is not None and process.stdout is not None
            process.stdin.write("go\n")
            process.stdin.close()  # one measurement, then the program ends
            ack = process.stdout.readline()
            elapsed = time.perf_counter() - start
            process.stdout.read()
            process.wait(timeout=60)  # its close() and exit stay out of the time, but not under the next run
            stderr.seek(0)
            in_process.append(first_ack_seconds(ack, process.returncode, stderr.read()))
        return elapsed

    return run


class JavaWarm:
    """One JVM running bench/java/FirstAck.java for all runs: each run makes a fresh KafkaProducer in it and
    returns what the program measured (``new KafkaProducer`` to the acknowledgement); its close() time goes to
    ``closes``. The first run includes the JVM's start: give it uncounted warm-up runs."""

    def __init__(self, command: list[str]) -> None:
        self.command = command
        self.process: subprocess.Popen[str] | None = None
        self.stderr = tempfile.TemporaryFile("w+")
        self.closes: list[float] = []

    def __call__(self) -> float:
        if self.process is None:
            self.process = subprocess.Popen(
                self.command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.stderr, text=True
            )
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write("go\n")
        self.process.stdin.flush()
        ack, closed = self.process.stdout.readline(), self.process.stdout.readline()
        self.stderr.seek(0)
        seconds = first_ack_seconds(ack, self.process.poll(), self.stderr.read())
        self.closes.append(int(closed.split()[1]) / 1e9)
        return seconds

    def close(self) -> None:
        if self.process is not None:
            assert self.process.stdin is not None
            self.process.stdin.close()
            self.process.wait(timeout=60)
        self.stderr.close()


def first_ack_seconds(line: str, returncode: int | None, stderr: str) -> float:
    """The seconds in FirstAck's ``ack <ns> <partition> <offset>`` line; a failure shows the program's stderr."""
    if not line.startswith("ack "):
        raise RuntimeError(f"FirstAck gave no acknowledgement (exit code {returncode}):\n{stderr[-5000:]}")
    return int(line.split()[1]) / 1e9


def case_java(p: dict[str, Any]) -> dict[str, Any]:
    """A fresh idempotent producer to its first acknowledgement: ours (as in case_startup) against Java's
    kafka-clients, in a new JVM each run (cold) and in one JVM after ``java_warmup`` runs (warm)."""
    command = [*p["command"], os.environ["KAFKA_BOOTSTRAP_SERVERS"], p["topic"]]
    cold_in_process: list[float] = []
    ours_acks: list[float] = []
    warm = JavaWarm(command)
    runners: dict[str, tuple[Callable[[], float], int, int]] = {
        "ours": (ours(p["topic"], None, first_acks=ours_acks), p["reps"], p["warmup"]),
        "java_cold": (java_cold(command, cold_in_process), p["reps"], p["warmup"]),
        "java_warm": (warm, p["reps"], p["java_warmup"]),
    }
    try:
        samples = interleaved(runners)
    finally:
        warm.close()
    samples["java_cold_in_process"] = cold_in_process[p["warmup"] :]
    samples["java_warm_close"] = warm.closes[p["java_warmup"] :]
    samples["ours_to_ack"] = ours_acks[p["warmup"] :]
    return {"seconds": samples, "delivered": delivered(p["topic"])}


def case_producer_config(p: dict[str, Any]) -> dict[str, Any]:
    """Our operator's effective producer configuration (for the official operator's connection)."""
    return {"config": producer_config()}


class TryOfTaskInstance(TaskInstance):
    """What exactly_once reads of a task instance: its identity (a new DAG run each time) and its try number."""

    def __init__(self, try_number: int) -> None:
        super().__init__()
        self.dag_id, self.task_id, self.map_index = "bench", "exactly_once", -1
        self.run_id, self.try_number = f"bench-{time.time_ns()}", try_number


def ours_exactly_once(topic: str, count: int | None, try_number: int = 1) -> Callable[[], float]:
    """Our operator with exactly_once=True, each run a new task instance's try ``try_number`` (2 reads the marker)."""
    from types import SimpleNamespace

    from airflow_provider_kafka_connector.operators.kafka_producer import KafkaProducerOperator

    if count is None:
        operator = KafkaProducerOperator(
            task_id="eos", topic=topic, value=PAYLOAD, kafka_conn_id=OURS_CONN, exactly_once=True
        )
    else:
        operator = KafkaProducerOperator(
            task_id="eos",
            topic=topic,
            messages=lambda: ({"value": PAYLOAD} for _ in range(count)),
            kafka_conn_id=OURS_CONN,
            exactly_once=True,
        )

    def run() -> float:
        ti = TryOfTaskInstance(try_number)
        elapsed, _ = run_task(operator, ti, dag_run=SimpleNamespace(clear_number=0))
        acknowledged = 1 if count is None else ti.xcom["response"]["count"]
        if acknowledged != (count or 1):
            raise RuntimeError(f"exactly_once acknowledged {acknowledged} of {count or 1} messages")
        return elapsed

    return run


def case_exactly_once(p: dict[str, Any]) -> dict[str, Any]:
    """One message, or a batch of ``messages``: the default path against exactly_once (try 1, and try 2 for one).

    ``broker_warmup`` first runs that many uncounted exactly_once tasks. A broker JVM runs its transaction code
    interpreted until it has served a few hundred transactions (on a fresh one, a first try's transaction took ~60 ms
    at first and ~30 ms after 300; the default path 22 and 17 ms): after them, the series is what a long-running
    broker answers.
    """
    n, reps, warmup = p.get("messages"), p["reps"], p["warmup"]
    runners = {
        "default": (ours(p["topic"], n), reps, warmup),
        "exactly_once": (ours_exactly_once(p["topic"], n), reps, warmup),
    }
    if n is None:
        runners["exactly_once_try_2"] = (ours_exactly_once(p["topic"], n, try_number=2), reps, warmup)
    warm_up = ours_exactly_once(p["topic"], n)
    for _ in range(p.get("broker_warmup", 0)):
        warm_up()
    return {"seconds": interleaved(runners)}


def case_tokens(p: dict[str, Any]) -> dict[str, Any]:
    """A fresh producer's first acknowledgement with a token login: ours with MSK IAM (the provider's token callback,
    through its plugin), ours with OIDC (librdkafka's own token request), and a bare client with the same MSK token
    callback as confluent-kafka's oauth_cb, whose constructor waits for the first token in steps of one second. The
    bare one mostly waits, so it runs in a series of its own after the others (see case_startup)."""
    from airflow_provider_kafka_connector import aws_msk_iam

    reps, warmup = p["reps"], p["warmup"]
    acks: dict[str, list[float]] = {name: [] for name in ("msk", "oidc", "bare_msk")}
    seconds = interleaved(
        {
            "msk": (ours(p["topic"], None, conn_id=MSK_CONN, first_acks=acks["msk"]), reps, warmup),
            "oidc": (ours(p["topic"], None, conn_id=OIDC_CONN, first_acks=acks["oidc"]), reps, warmup),
        }
    )
    bare_config: dict[str, Any] = {**producer_config(conn_id=MSK_CONN), "oauth_cb": aws_msk_iam.token}
    seconds |= interleaved({"bare_msk": (bare(p["topic"], 1, bare_config, first_acks=acks["bare_msk"]), reps, 0)})
    first_ack = {name: times[-reps:] for name, times in acks.items()}
    return {"seconds": seconds, "first_ack": first_ack, "delivered": delivered(p["topic"])}


CASES: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "tokens": case_tokens,
    "exactly_once": case_exactly_once,
    "one": case_one,
    "startup": case_startup,
    "warm_broker": case_warm_broker,
    "cluster": case_cluster,
    "batch": case_batch,
    "avro": case_avro,
    "official": case_official,
    "import": case_import,
    "memory": case_memory,
    "java": case_java,
    "producer_config": case_producer_config,
}

if __name__ == "__main__":
    case, params = sys.argv[1], json.loads(sys.argv[2])
    result = CASES[case](params)
    with open(params["out"], "w") as out:
        json.dump(result, out)
