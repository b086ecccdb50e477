"""A real single-node Apache Kafka broker (KRaft) for tests and demos, run from Maven Central jars.

The jars are cached in harness.locations.cache_dir() (the repository's .cache/ in a source checkout).

Usage:
    python -m harness.kafka_broker fetch               # only download the broker's jars
    python -m harness.kafka_broker -- <command> [args]  # run <command> against a fresh broker
"""

from __future__ import annotations

import atexit
import base64
import contextlib
import ctypes
import fcntl
import functools
import hashlib
import logging
import os
import queue
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Protocol

from confluent_kafka import Consumer, KafkaException, Message
from confluent_kafka.admin import (
    AdminClient,
    NewTopic,
    ScramCredentialInfo,
    ScramMechanism,
    UserScramCredentialAlteration,
    UserScramCredentialUpsertion,
)

from harness.certificates import Certificate, ClientCertificates
from harness.certificates import make_ca as make_ca  # kept importable from here for existing tests
from harness.locations import PACKAGE_DIR, cache_dir
from harness.ports import free_ports
from harness.services import running

KAFKA_VERSION = "4.4.0"
POM = PACKAGE_DIR / "pom.xml"
CACHE_DIR = cache_dir() / f"kafka-{KAFKA_VERSION}"
LIB_DIR = CACHE_DIR / "lib"

HOST = "127.0.0.1"
JVM_OPTS = ("-Xms256m", "-Xmx512m", "-XX:TieredStopAtLevel=1", "-Djava.awt.headless=true")
READY_TIMEOUT = 60.0
STOP_TIMEOUT = 10.0
SCRAM_MECHANISMS = ("SCRAM-SHA-256", "SCRAM-SHA-512")
SCRAM_ITERATIONS = 4096
PLAIN_MODULE = "org.apache.kafka.common.security.plain.PlainLoginModule"
OAUTHBEARER_MODULE = "org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule"
OAUTHBEARER_VALIDATOR = "org.apache.kafka.common.security.oauthbearer.OAuthBearerValidatorCallbackHandler"
SCRAM_MODULE = "org.apache.kafka.common.security.scram.ScramLoginModule"
# Amazon MSK's IAM authentication, as the MSK_IAM listener checks it: msk_iam/MskIamValidator.java, compiled once.
MSK_IAM_SOURCE = PACKAGE_DIR / "msk_iam" / "MskIamValidator.java"
MSK_IAM_VALIDATOR = "harness.mskiam.MskIamValidator"
MSK_REGION = "eu-west-1"
# Google Cloud Managed Service for Apache Kafka's authentication, as the GOOGLE listener checks it:
# google_kafka/GoogleKafkaValidator.java, compiled once.
GOOGLE_KAFKA_SOURCE = PACKAGE_DIR / "google_kafka" / "GoogleKafkaValidator.java"
GOOGLE_KAFKA_VALIDATOR = "harness.googlekafka.GoogleKafkaValidator"
# Both validators' handling of Kafka's callbacks: token_validation/TokenValidator.java, compiled with each.
TOKEN_VALIDATOR_SOURCE = PACKAGE_DIR / "token_validation" / "TokenValidator.java"
TRICKY_PASSWORD = "p\"a\\ss w;o=rd'é€"

_rdkafka_log = logging.getLogger("harness.librdkafka")
_rdkafka_log.addHandler(logging.NullHandler())
_rdkafka_log.propagate = False


@dataclass(frozen=True)
class User:
    name: str
    password: str


PLAIN_USER = User("plain-user", "plain-secret")
SCRAM_USER = User("scram-user", "scram-secret")
# Kafka's SCRAM server only accepts ASCII user names (saslname [\x01-\x7F]), so the user that must pass
# PLAIN and SCRAM has an ASCII name full of SCRAM/JAAS/properties specials, and a second, PLAIN-only
# user carries the non-ASCII name.
TRICKY_USER = User('tricky "us\\er" a=b,c', TRICKY_PASSWORD)
UNICODE_USER = User("ünïcødé-üser-€", TRICKY_PASSWORD)
# Managed services' PLAIN users, as their clients present them. Azure Event Hubs: the user name is literally
# "$ConnectionString" and the password the namespace's connection string (';' and '=' in it). Confluent Cloud: an API
# key and its secret.
EVENT_HUBS_USER = User(
    "$ConnectionString",
    "Endpoint=sb://harness-namespace.servicebus.windows.net/;SharedAccessKeyName=RootManageSharedAccessKey;"
    "SharedAccessKey=Hx7pQ2vLr9TmWc4Ys8KbNd3Fg6Jh1Ak5Zu0Ie+Ro/Vt=",
)
CONFLUENT_CLOUD_USER = User("HRNSAPIKEY7Q4ZXW", "cflt9Xk2Lm7Pq4Rs8Tv1Wy5Za3Bc6Df0Gh2Jk4Lm6Np8Qr0St2Uv4Wx6Yz8Ab0Cd2Ef")


class TokenIssuer(Protocol):
    """An OAuth 2.0 identity provider whose tokens a broker's OAUTH listener accepts (harness.oidc_server,
    harness.identity_provider): the tokens' issuer and the URL of its signing keys."""

    @property
    def issuer(self) -> str: ...

    @property
    def jwks_endpoint(self) -> str: ...


class AwsCredentialSource(Protocol):
    """Where the MSK_IAM listener looks up the secret, session token and ARN of an access key id (harness.aws_iam):
    GET credentials_url?access_key_id=ID answers lines name=value, or 404 with the reason."""

    @property
    def credentials_url(self) -> str: ...


class GoogleTokenInfo(Protocol):
    """Where the GOOGLE listener asks whose an OAuth 2.0 access token is and until when (harness.google_auth):
    GET token_info_url?access_token=TOKEN answers Google's tokeninfo JSON (email, exp), or 400 with the reason."""

    @property
    def token_info_url(self) -> str: ...


class BrokerError(RuntimeError):
    pass


@dataclass
class KafkaBroker:
    plaintext: str
    sasl_plaintext: str | None = None
    sasl_ssl: str | None = None
    #: An SSL listener that requires a client certificate (mutual TLS) signed by ca_file's CA.
    ssl: str | None = None
    ca_file: Path | None = None
    #: Client certificates for the ssl listener, trusted and not.
    client_certificates: ClientCertificates | None = None
    #: A SASL_SSL listener whose only mechanism is OAUTHBEARER: tokens of the OIDC server the broker was started with.
    oauth: str | None = None
    #: Another such listener, for the tokens of the identity provider the broker was started with.
    idp_oauth: str | None = None
    #: A SASL_SSL listener that authenticates clients as Amazon MSK with IAM authentication does: OAUTHBEARER tokens
    #: that are SigV4 presigned URLs for msk_iam_region, signed with credentials of the AwsCredentialSource the broker
    #: was started with. The principal is the caller's ARN.
    msk_iam: str | None = None
    msk_iam_region: str | None = None
    #: A SASL_SSL listener that authenticates clients as Google Cloud Managed Service for Apache Kafka does:
    #: OAUTHBEARER tokens that wrap an OAuth 2.0 access token of the GoogleTokenInfo the broker was started with
    #: (harness.google_auth). The principal is the service account's e-mail.
    google: str | None = None
    plain_user: User | None = None
    scram_user: User | None = None
    tricky_user: User | None = None
    unicode_user: User | None = None
    event_hubs_user: User | None = None
    confluent_cloud_user: User | None = None
    work_dir: Path | None = None
    _command: list[str] = field(default_factory=list, repr=False)
    _process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def log_file(self) -> Path | None:
        return self.work_dir / "broker.log" if self.work_dir else None

    def admin(self) -> AdminClient:
        return AdminClient(quiet({"bootstrap.servers": self.plaintext}))

    def create_topic(self, name: str, partitions: int = 1, config: dict[str, str] | None = None) -> None:
        """A topic with the broker's default.replication.factor, once every partition has a leader."""
        admin = self.admin()
        futures = admin.create_topics([NewTopic(name, num_partitions=partitions, config=config or {})])
        futures[name].result(timeout=30)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            topic = admin.list_topics(name, timeout=5).topics.get(name)
            if topic and topic.error is None and len(topic.partitions) == partitions:
                if all(p.leader >= 0 for p in topic.partitions.values()):
                    return
            time.sleep(0.05)
        raise BrokerError(f"topic {name!r} was created but has no leader after 30 s")

    def consume(self, topic: str, count: int, timeout: float = 30) -> list[Message]:
        consumer = Consumer(
            quiet(
                {
                    "bootstrap.servers": self.plaintext,
                    "group.id": f"harness-{uuid.uuid4()}",
                    "auto.offset.reset": "earliest",
                    "enable.auto.commit": False,
                }
            )
        )
        try:
            messages = _poll_messages(consumer, topic, count, timeout)
        finally:
            consumer.close()
        if len(messages) < count:
            raise BrokerError(f"consumed {len(messages)} of {count} messages from {topic!r} in {timeout} s")
        return messages

    def read_all(self, topic: str, isolation: str = "read_committed", timeout: float = 60) -> list[Message]:
        """Every message of the topic up to its end, as a consumer with this isolation.level sees them.

        A read_committed consumer skips aborted records (and stops at the first open transaction);
        read_uncommitted returns them too. Transaction markers are never returned.
        """
        from confluent_kafka import OFFSET_BEGINNING, KafkaError, TopicPartition

        consumer = Consumer(
            quiet(
                {
                    "bootstrap.servers": self.plaintext,
                    "group.id": f"harness-{uuid.uuid4()}",
                    "isolation.level": isolation,
                    "enable.partition.eof": True,
                    "enable.auto.commit": False,
                }
            )
        )
        try:
            partitions = self.admin().list_topics(topic, timeout=10).topics[topic].partitions
            consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in partitions])
            messages: list[Message] = []
            at_end: set[int] = set()
            deadline = time.monotonic() + timeout
            while len(at_end) < len(partitions):
                if time.monotonic() > deadline:
                    raise BrokerError(f"{topic!r}: partitions {sorted(set(partitions) - at_end)} gave no end")
                message = consumer.poll(0.5)
                if message is None:
                    continue
                error = message.error()
                if error is not None and error.code() == KafkaError._PARTITION_EOF:
                    at_end.add(message.partition() or 0)
                elif error is not None:
                    raise KafkaException(error)
                else:
                    messages.append(message)
            return messages
        finally:
            consumer.close()

    def stop(self) -> None:
        if not self._command:
            raise BrokerError("this broker was not started by the harness: it cannot be stopped or restarted")
        if self._process is not None:
            _terminate(self._process)

    def kill(self) -> None:
        """SIGKILL: the broker dies at once, as on a crash or power loss (no controlled shutdown)."""
        if self._process is not None and self._process.poll() is None:
            self._process.kill()
            self._process.wait()
        if self._process is not None:
            _live_processes.discard(self._process)

    def restart(self, down_seconds: float = 0) -> None:
        self.stop()
        time.sleep(down_seconds)
        self._launch()

    def _launch(self) -> None:
        self._start_process()
        _wait_ready(self)

    def _start_process(self) -> None:
        assert self.log_file is not None
        with self.log_file.open("ab") as out:
            self._process = _spawn(
                self._command,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=self.work_dir,
                env=_java_env(),
            )


def quiet(config: dict[str, Any]) -> dict[str, Any]:
    """A librdkafka config whose log lines go to a silent logger instead of stderr."""
    return {**config, "logger": _rdkafka_log}


def _poll_messages(consumer: Consumer, topic: str, count: int, timeout: float) -> list[Message]:
    consumer.subscribe([topic])
    messages: list[Message] = []
    deadline = time.monotonic() + timeout
    while len(messages) < count and (left := deadline - time.monotonic()) > 0:
        message = consumer.poll(min(0.5, left))
        if message is None:
            continue
        if message.error():
            raise KafkaException(message.error())
        messages.append(message)
    return messages


# --- processes ------------------------------------------------------------------------------------

_live_processes: set[subprocess.Popen[bytes]] = set()


def _terminate(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    _live_processes.discard(process)


@atexit.register
def _stop_all() -> None:
    for process in list(_live_processes):
        _terminate(process)


class _Launcher:
    """Forks every broker from one long-lived thread: PR_SET_PDEATHSIG fires when the forking *thread*
    ends, so a broker started (or restarted) from a short-lived thread would otherwise die with it."""

    def __init__(self) -> None:
        self._requests: queue.SimpleQueue[tuple[Callable[[], Any], Future[Any]]] = queue.SimpleQueue()
        threading.Thread(target=self._serve, name="kafka-harness-launcher", daemon=True).start()

    def popen(self, command: list[str], **kwargs: Any) -> subprocess.Popen[bytes]:
        result: Future[subprocess.Popen[bytes]] = Future()
        popen = functools.partial(
            subprocess.Popen, command, start_new_session=True, preexec_fn=_die_with_parent, **kwargs
        )
        self._requests.put((popen, result))
        return result.result()

    def _serve(self) -> None:
        while True:
            call, result = self._requests.get()
            try:
                result.set_result(call())
            except BaseException as error:
                result.set_exception(error)


@functools.cache
def _launcher() -> _Launcher:
    return _Launcher()


def _spawn(command: list[str], **kwargs: Any) -> subprocess.Popen[bytes]:
    process = _launcher().popen(command, **kwargs)
    _live_processes.add(process)
    return process


_libc = ctypes.CDLL(None, use_errno=True)
_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """Runs in the child before exec: the kernel SIGKILLs the JVM when its parent thread dies."""
    if _libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")


# --- jars -----------------------------------------------------------------------------------------


def fetch_jars() -> Path:
    """Download Kafka and its runtime dependencies into the cache once; returns the lib directory."""
    return fetch_maven_jars(POM, LIB_DIR, f"kafka_2.13-{KAFKA_VERSION}.jar", "Kafka")


def fetch_maven_jars(pom: Path, lib_dir: Path, main_jar: str, what: str, build: tuple[str, ...] = ()) -> Path:
    """Download the runtime dependencies of pom into lib_dir once (Maven, under a lock); returns lib_dir. build: Maven
    arguments run first, for a pom that builds main_jar itself (it must put it into lib_dir)."""
    cache = lib_dir.parent
    cache.mkdir(parents=True, exist_ok=True)
    marker = cache / "lib.complete"
    with (cache / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not marker.exists():
            shutil.rmtree(lib_dir, ignore_errors=True)
            if shutil.which("mvn") is None:
                raise BrokerError(f"Maven (mvn) is needed to download the {what} jars")
            command = [
                "mvn", "-q", "-B", "-f", str(pom), *build,
                "dependency:copy-dependencies", "-DincludeScope=runtime", f"-DoutputDirectory={lib_dir}",
            ]  # fmt: skip
            result = subprocess.run(command, capture_output=True, text=True, check=False)
            if result.returncode != 0 or not (lib_dir / main_jar).is_file():
                raise BrokerError(f"downloading the {what} jars failed:\n{result.stdout}\n{result.stderr}")
            marker.write_text(f"{main_jar}\n")
    return lib_dir


def _java_env() -> dict[str, str]:
    """A UTF-8 locale, or the JVM decodes non-ASCII command-line arguments (--add-scram passwords) as '?'."""
    return {**os.environ, "LC_ALL": "C.UTF-8"}


def _java(main_class: str, *args: str, jvm_opts: tuple[str, ...] = (), classpath: tuple[Path, ...] = ()) -> list[str]:
    java = shutil.which("java")
    if java is None:
        raise BrokerError("java (17+) is needed to run the Kafka broker")
    path = os.pathsep.join(str(entry) for entry in (LIB_DIR / "*", *classpath))
    return [java, *JVM_OPTS, *jvm_opts, "-cp", path, main_class, *args]


def msk_iam_classes() -> Path:
    """MskIamValidator and its TokenValidator compiled against the broker's jars (fetch_jars first) into the cache,
    once per version of their sources and of Kafka; returns the directory of their classes, for the broker's
    classpath."""
    return _validator_classes(MSK_IAM_SOURCE, "msk-iam-validator", "the MSK IAM validator")


def google_kafka_classes() -> Path:
    """GoogleKafkaValidator compiled as msk_iam_classes compiles MskIamValidator (it uses the broker's own
    jackson-databind)."""
    return _validator_classes(GOOGLE_KAFKA_SOURCE, "google-kafka-validator", "the Google Managed Kafka validator")


def _validator_classes(source: Path, name: str, what: str) -> Path:
    """source and TOKEN_VALIDATOR_SOURCE compiled against the broker's jars into the cache directory
    name-KAFKA_VERSION-DIGEST, once per version of either source and of Kafka (under a lock: parallel test sessions
    share the cache)."""
    sources = (source, TOKEN_VALIDATOR_SOURCE)
    digest = hashlib.sha256(b"".join(hashlib.sha256(path.read_bytes()).digest() for path in sources)).hexdigest()[:12]
    build = cache_dir() / f"{name}-{KAFKA_VERSION}-{digest}"
    classes = build / "classes"
    build.mkdir(parents=True, exist_ok=True)
    with (build / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (build / "classes.complete").exists():
            shutil.rmtree(classes, ignore_errors=True)
            javac = shutil.which("javac")
            if javac is None:
                raise BrokerError(f"javac (a JDK 17+) is needed to compile {what}")
            command = [javac, "--release", "17", "-d", str(classes), "-cp", str(LIB_DIR / "*"), *map(str, sources)]
            result = subprocess.run(command, capture_output=True, text=True, check=False)
            if result.returncode != 0:
                raise BrokerError(f"compiling {source.name} failed:\n{result.stdout}\n{result.stderr}")
            (build / "classes.complete").touch()
    return classes


# --- server.properties ----------------------------------------------------------------------------


def _escape_properties(text: str, *, is_key: bool) -> str:
    """Escape for java.util.Properties.load: ISO-8859-1 stream, backslash escapes, \\uXXXX for the rest."""
    specials = {"\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\f": "\\f"}
    out = []
    for index, char in enumerate(text):
        if char in specials:
            out.append(specials[char])
        elif char in "=:#!" or (char == " " and (is_key or index == 0)):
            out.append("\\" + char)
        elif " " <= char <= "~":
            out.append(char)
        else:
            data = char.encode("utf-16-be")
            out.extend(f"\\u{data[i]:02x}{data[i + 1]:02x}" for i in range(0, len(data), 2))
    return "".join(out)


def _properties_line(key: str, value: str) -> str:
    return f"{_escape_properties(key, is_key=True)}={_escape_properties(value, is_key=False)}"


def _jaas_quote(value: str) -> str:
    """Quote for Kafka's JAAS parser (a java.io.StreamTokenizer): escape \\ and " inside the quotes."""
    if "\n" in value or "\r" in value:
        raise ValueError("a JAAS value cannot contain a line break")
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _plain_jaas(users: list[User]) -> str:
    options = " ".join(f"{_jaas_quote('user_' + u.name)}={_jaas_quote(u.password)}" for u in users)
    return f"{PLAIN_MODULE} required {options};"


@dataclass(frozen=True)
class _Ports:
    plaintext: int
    sasl_plaintext: int
    sasl_ssl: int
    ssl: int
    oauth: int
    idp_oauth: int
    msk_iam: int
    google: int
    controller: int

    @classmethod
    def free(cls) -> _Ports:
        return cls.free_for(1)[0]

    @classmethod
    def free_for(cls, nodes: int) -> list[_Ports]:
        size = len(fields(cls))
        ports = free_ports(size * nodes, HOST)  # all at once, so that no two nodes get the same port
        return [cls(*ports[i : i + size]) for i in range(0, len(ports), size)]


@dataclass(frozen=True)
class _Node:
    """What differs between the nodes of a cluster (one node, alone, is the single broker)."""

    node_id: int = 1
    voters: str = ""  # controller.quorum.voters; empty: this node alone
    replicas: int = 1  # the replication factor of new and internal topics
    min_insync: int = 1
    extra: tuple[tuple[str, str], ...] = ()  # further server settings
    jvm_opts: tuple[str, ...] = ()
    oidc: TokenIssuer | None = None  # adds the OAUTH listener, which trusts this server's tokens
    idp: TokenIssuer | None = None  # adds the IDP_OAUTH listener, which trusts this one's
    aws_iam: AwsCredentialSource | None = None  # adds the MSK_IAM listener, which trusts these credentials
    msk_region: str = MSK_REGION  # the MSK_IAM listener's region
    google_auth: GoogleTokenInfo | None = None  # adds the GOOGLE listener, which trusts these access tokens


def _server_settings(
    work_dir: Path, ports: _Ports, keystore: Path, ca_file: Path, plain_users: list[User], node: _Node = _Node()
) -> dict[str, str]:
    listeners = {
        "PLAINTEXT": ports.plaintext,
        "SASL_PLAINTEXT": ports.sasl_plaintext,
        "SASL_SSL": ports.sasl_ssl,
        "SSL": ports.ssl,
    }
    if node.oidc is not None:
        listeners["OAUTH"] = ports.oauth
    if node.idp is not None:
        listeners["IDP_OAUTH"] = ports.idp_oauth
    if node.aws_iam is not None:
        listeners["MSK_IAM"] = ports.msk_iam
    if node.google_auth is not None:
        listeners["GOOGLE"] = ports.google
    advertised = ",".join(f"{name}://{HOST}:{port}" for name, port in listeners.items())
    settings = {
        "process.roles": "broker,controller",
        "node.id": str(node.node_id),
        "controller.quorum.voters": node.voters or f"{node.node_id}@{HOST}:{ports.controller}",
        "listeners": f"{advertised},CONTROLLER://{HOST}:{ports.controller}",
        "advertised.listeners": advertised,
        "listener.security.protocol.map": ",".join(f"{n}:{_PROTOCOLS.get(n, n)}" for n in listeners)
        + ",CONTROLLER:PLAINTEXT",
        "controller.listener.names": "CONTROLLER",
        "inter.broker.listener.name": "PLAINTEXT",
        "log.dirs": str(work_dir / "data"),
        "auto.create.topics.enable": "false",
        "num.partitions": "1",
        "default.replication.factor": str(node.replicas),
        "min.insync.replicas": str(node.min_insync),
        "offsets.topic.replication.factor": str(node.replicas),
        "offsets.topic.num.partitions": "1",
        "transaction.state.log.replication.factor": str(node.replicas),
        "transaction.state.log.min.isr": str(node.min_insync),
        "share.coordinator.state.topic.replication.factor": str(node.replicas),
        "share.coordinator.state.topic.min.isr": str(node.min_insync),
        "num.network.threads": "2",
        "num.io.threads": "2",
        "group.initial.rebalance.delay.ms": "0",
        "sasl.enabled.mechanisms": ",".join(("PLAIN", *SCRAM_MECHANISMS)),
        "ssl.keystore.type": "PEM",
        "ssl.keystore.location": str(keystore),
        # Mutual TLS on the SSL listener only: it trusts client certificates signed by the harness's CA.
        "listener.name.ssl.ssl.client.auth": "required",
        "listener.name.ssl.ssl.truststore.type": "PEM",
        "listener.name.ssl.ssl.truststore.location": str(ca_file),
    }
    for listener in ("sasl_plaintext", "sasl_ssl"):
        settings[f"listener.name.{listener}.plain.sasl.jaas.config"] = _plain_jaas(plain_users)
        for mechanism in SCRAM_MECHANISMS:
            settings[f"listener.name.{listener}.{mechanism.lower()}.sasl.jaas.config"] = f"{SCRAM_MODULE} required;"
    if node.oidc is not None:
        settings.update(_oauth_settings("oauth", node.oidc))
    if node.idp is not None:
        settings.update(_oauth_settings("idp_oauth", node.idp))
    if node.aws_iam is not None:
        settings.update(_msk_iam_settings(node.aws_iam, node.msk_region))
    if node.google_auth is not None:
        settings.update(_google_settings(node.google_auth))
    settings.update(node.extra)
    return settings


_PROTOCOLS = {"OAUTH": "SASL_SSL", "IDP_OAUTH": "SASL_SSL", "MSK_IAM": "SASL_SSL", "GOOGLE": "SASL_SSL"}


def _oauth_settings(listener: str, issuer: TokenIssuer) -> dict[str, str]:
    """An OAuth listener: OAUTHBEARER tokens signed by one of issuer's keys (its JWKS), for AUDIENCE, from that
    issuer, checked again whenever a token expires (a client must present a fresh one to keep its connection). The
    token checks are the listener's own settings (listener.name.<listener>.sasl.oauthbearer.*), so that each OAuth
    listener of a broker trusts another identity provider."""
    from harness.oidc_server import AUDIENCE

    prefix = f"listener.name.{listener}."
    return {
        f"{prefix}sasl.enabled.mechanisms": "OAUTHBEARER",
        f"{prefix}oauthbearer.sasl.jaas.config": f"{OAUTHBEARER_MODULE} required;",
        f"{prefix}oauthbearer.sasl.server.callback.handler.class": OAUTHBEARER_VALIDATOR,
        f"{prefix}oauthbearer.connections.max.reauth.ms": "3600000",
        f"{prefix}sasl.oauthbearer.jwks.endpoint.url": issuer.jwks_endpoint,
        f"{prefix}sasl.oauthbearer.expected.audience": AUDIENCE,
        f"{prefix}sasl.oauthbearer.expected.issuer": issuer.issuer,
        # No grace after a token's expiry: a client that did not refresh its token loses its connection.
        f"{prefix}sasl.oauthbearer.clock.skew.seconds": "0",
    }


def _msk_iam_settings(source: AwsCredentialSource, region: str) -> dict[str, str]:
    """The MSK_IAM listener: OAUTHBEARER tokens that MskIamValidator checks as Amazon MSK checks IAM tokens. A session
    lasts until its presigned URL expires (15 minutes from signing, at most), then the client must present a fresh
    token."""
    options = {"region": region, "credentialsUrl": source.credentials_url}
    return _validator_settings("msk_iam", MSK_IAM_VALIDATOR, options)


def _google_settings(source: GoogleTokenInfo) -> dict[str, str]:
    """The GOOGLE listener: OAUTHBEARER tokens that GoogleKafkaValidator checks as Google Cloud Managed Service for
    Apache Kafka checks them (their access token asked about at source's token info). A session lasts until the access
    token expires, then the client must present a fresh token."""
    return _validator_settings("google", GOOGLE_KAFKA_VALIDATOR, {"tokenInfoUrl": source.token_info_url})


def _validator_settings(listener: str, validator: str, options: dict[str, str]) -> dict[str, str]:
    """An OAUTHBEARER listener whose tokens validator (a TokenValidator subclass) checks, configured by the JAAS
    options. The validator is the login callback handler too, or the default one would read its options as claims of
    a token for the broker itself (which never logs in on this listener)."""
    prefix = f"listener.name.{listener}."
    jaas_options = " ".join(f"{name}={_jaas_quote(value)}" for name, value in options.items())
    return {
        f"{prefix}sasl.enabled.mechanisms": "OAUTHBEARER",
        f"{prefix}oauthbearer.sasl.jaas.config": f"{OAUTHBEARER_MODULE} required {jaas_options};",
        f"{prefix}oauthbearer.sasl.server.callback.handler.class": validator,
        f"{prefix}oauthbearer.sasl.login.callback.handler.class": validator,
        f"{prefix}oauthbearer.connections.max.reauth.ms": "3600000",
    }


def _oauth_jvm_opts(node: _Node) -> tuple[str, ...]:
    """Kafka 4 fetches only the OAuth URLs this system property allows."""
    urls = [issuer.jwks_endpoint for issuer in (node.oidc, node.idp) if issuer is not None]
    return (f"-Dorg.apache.kafka.sasl.oauthbearer.allowed.urls={','.join(urls)}",) if urls else ()


_LOG4J2 = """\
appender.out.type = Console
appender.out.name = out
appender.out.layout.type = PatternLayout
appender.out.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.out.ref = out
logger.state.name = state.change.logger
logger.state.level = WARN
"""


# --- start-up -------------------------------------------------------------------------------------


def _scram_argument(mechanism: str, user: User) -> str:
    """A StorageTool --add-scram value; its parser splits on ',' and strips one pair of outer quotes."""
    if "," in user.name + user.password:
        raise ValueError(f"{user.name!r} cannot be written in a StorageTool --add-scram argument")
    return f'{mechanism}=[name="{user.name}",password="{user.password}"]'


def _format_storage(properties: Path, scram_users: list[User], log_file: Path, cluster_id: str) -> None:
    scram_args = [
        arg
        for user in scram_users
        for mechanism in SCRAM_MECHANISMS
        for arg in ("--add-scram", _scram_argument(mechanism, user))
    ]
    output = _run_java("kafka.tools.StorageTool", "format", "-t", cluster_id, "-c", str(properties), *scram_args)
    with log_file.open("a") as out:
        out.write(output)


def _random_cluster_id() -> str:
    """What `StorageTool random-uuid` prints (Kafka's Uuid.randomUuid), without starting a JVM for it."""
    while True:
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not cluster_id.startswith("-"):
            return cluster_id


def _run_java(main_class: str, *args: str) -> str:
    result = subprocess.run(_java(main_class, *args), capture_output=True, text=True, env=_java_env(), check=False)
    if result.returncode != 0:
        raise BrokerError(f"{main_class} {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


def _upsert_scram(broker: KafkaBroker, users: list[User]) -> None:
    """Add SCRAM credentials at run time (a user may be altered only once per request)."""
    admin = broker.admin()
    for mechanism in (ScramMechanism.SCRAM_SHA_256, ScramMechanism.SCRAM_SHA_512):
        info = ScramCredentialInfo(mechanism, SCRAM_ITERATIONS)
        upserts: list[UserScramCredentialAlteration] = [
            UserScramCredentialUpsertion(u.name, info, u.password.encode()) for u in users
        ]
        for future in admin.alter_user_scram_credentials(upserts).values():
            future.result(timeout=30)


def _wait_ready(broker: KafkaBroker) -> None:
    admin = broker.admin()
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        if broker._process is not None and broker._process.poll() is not None:
            raise BrokerError(f"the broker exited with code {broker._process.returncode}\n{_log_tail(broker)}")
        with contextlib.suppress(KafkaException):
            if admin.list_topics(timeout=1).brokers:
                return
        time.sleep(0.05)
    broker.stop()
    raise BrokerError(f"the broker did not answer within {READY_TIMEOUT:.0f} s\n{_log_tail(broker)}")


def _log_tail(broker: KafkaBroker, lines: int = 40) -> str:
    if broker.log_file is None or not broker.log_file.exists():
        return "(no broker log)"
    tail = broker.log_file.read_text(errors="replace").splitlines()[-lines:]
    return f"last lines of {broker.log_file}:\n" + "\n".join(tail)


def prepare_node(work_dir: Path, ca: Certificate, ports: _Ports, cluster_id: str, node: _Node = _Node()) -> KafkaBroker:
    """A broker's certificates (issued by ca), configuration and formatted storage in work_dir; not started."""
    work_dir.mkdir(parents=True, exist_ok=True)
    ca_file = ca.write(work_dir / "tls", "harness-ca")
    keystore = ca.issue_server().write_keystore(work_dir / "tls" / "server-keystore.pem")
    broker = KafkaBroker(
        plaintext=f"{HOST}:{ports.plaintext}",
        sasl_plaintext=f"{HOST}:{ports.sasl_plaintext}",
        sasl_ssl=f"{HOST}:{ports.sasl_ssl}",
        ssl=f"{HOST}:{ports.ssl}",
        oauth=f"{HOST}:{ports.oauth}" if node.oidc is not None else None,
        idp_oauth=f"{HOST}:{ports.idp_oauth}" if node.idp is not None else None,
        msk_iam=f"{HOST}:{ports.msk_iam}" if node.aws_iam is not None else None,
        msk_iam_region=node.msk_region if node.aws_iam is not None else None,
        google=f"{HOST}:{ports.google}" if node.google_auth is not None else None,
        ca_file=ca_file,
        client_certificates=ClientCertificates.create(ca, work_dir / "tls" / "clients"),
        plain_user=PLAIN_USER,
        scram_user=SCRAM_USER,
        tricky_user=TRICKY_USER,
        unicode_user=UNICODE_USER,
        event_hubs_user=EVENT_HUBS_USER,
        confluent_cloud_user=CONFLUENT_CLOUD_USER,
        work_dir=work_dir,
    )
    assert broker.log_file is not None
    properties = work_dir / "server.properties"
    plain_users = [PLAIN_USER, TRICKY_USER, UNICODE_USER, EVENT_HUBS_USER, CONFLUENT_CLOUD_USER]
    settings = _server_settings(work_dir, ports, keystore, ca_file, plain_users, node)
    properties.write_text("".join(_properties_line(k, v) + "\n" for k, v in settings.items()), encoding="ascii")
    (work_dir / "log4j2.properties").write_text(_LOG4J2)
    _format_storage(properties, [SCRAM_USER], broker.log_file, cluster_id)
    log4j = f"-Dlog4j2.configurationFile={work_dir / 'log4j2.properties'}"
    jvm_opts = (log4j, *_oauth_jvm_opts(node), *node.jvm_opts)
    classpath = (
        *((msk_iam_classes(),) if node.aws_iam is not None else ()),
        *((google_kafka_classes(),) if node.google_auth is not None else ()),
    )
    broker._command = _java("kafka.Kafka", str(properties), jvm_opts=jvm_opts, classpath=classpath)
    return broker


def start_broker(
    work_dir: Path,
    oidc: TokenIssuer | None = None,
    idp: TokenIssuer | None = None,
    aws_iam: AwsCredentialSource | None = None,
    msk_region: str = MSK_REGION,
    google_auth: GoogleTokenInfo | None = None,
) -> KafkaBroker:
    """Start a fresh broker; its certificates, configuration, data and log live in work_dir. With oidc, it also
    has the OAUTH listener (KafkaBroker.oauth), which accepts that server's tokens; with idp, the IDP_OAUTH listener
    (KafkaBroker.idp_oauth), which accepts idp's; with aws_iam, the MSK_IAM listener (KafkaBroker.msk_iam), which
    accepts MSK IAM tokens for msk_region signed with aws_iam's credentials; with google_auth, the GOOGLE listener
    (KafkaBroker.google), which accepts Google's Kafka tokens that wrap google_auth's access tokens."""
    fetch_jars()
    node = _Node(oidc=oidc, idp=idp, aws_iam=aws_iam, msk_region=msk_region, google_auth=google_auth)
    broker = prepare_node(work_dir, Certificate.authority("harness-ca"), _Ports.free(), _random_cluster_id(), node)
    try:
        broker._launch()
        _upsert_scram(broker, [TRICKY_USER])
    except BaseException:
        broker.stop()
        raise
    return broker


def running_broker(
    work_dir: Path | None = None,
    oidc: TokenIssuer | None = None,
    idp: TokenIssuer | None = None,
    aws_iam: AwsCredentialSource | None = None,
    msk_region: str = MSK_REGION,
    google_auth: GoogleTokenInfo | None = None,
) -> contextlib.AbstractContextManager[KafkaBroker]:
    """Start a broker, yield it, always stop it; a temporary work_dir is removed afterwards."""
    return running(
        lambda directory: start_broker(directory, oidc, idp, aws_iam, msk_region, google_auth),
        work_dir,
        "kafka-harness-",
    )


# --- environment ----------------------------------------------------------------------------------

_USER_ENV = {
    "plain_user": "KAFKA",
    "scram_user": "KAFKA_SCRAM",
    "tricky_user": "KAFKA_TRICKY",
    "unicode_user": "KAFKA_UNICODE",
    "event_hubs_user": "KAFKA_EVENT_HUBS",
    "confluent_cloud_user": "KAFKA_CONFLUENT_CLOUD",
}


def broker_env(broker: KafkaBroker) -> dict[str, str]:
    """KAFKA_* environment variables describing broker (existing_broker_from_env reads them back)."""
    values: dict[str, object] = {
        "KAFKA_BOOTSTRAP_SERVERS": broker.plaintext,
        "KAFKA_SASL_SSL_BOOTSTRAP_SERVERS": broker.sasl_ssl,
        "KAFKA_SASL_PLAINTEXT_BOOTSTRAP_SERVERS": broker.sasl_plaintext,
        "KAFKA_SSL_BOOTSTRAP_SERVERS": broker.ssl,
        "KAFKA_CA_LOCATION": broker.ca_file,
    }
    certificates = broker.client_certificates
    if certificates is not None:
        values["KAFKA_CLIENT_CERTIFICATES"] = certificates.directory
        values["KAFKA_CLIENT_KEY_PASSWORD"] = certificates.key_password
        values["KAFKA_CLIENT_KEYSTORE_PASSWORD"] = certificates.keystore_password
    for attribute, prefix in _USER_ENV.items():
        user: User | None = getattr(broker, attribute)
        if user is not None:
            values[f"{prefix}_USERNAME"] = user.name
            values[f"{prefix}_PASSWORD"] = user.password
    return {key: str(value) for key, value in values.items() if value is not None}


def existing_broker_from_env() -> KafkaBroker | None:
    """The already running broker that KAFKA_BOOTSTRAP_SERVERS (and friends) describe, if any."""
    env = os.environ
    if not env.get("KAFKA_BOOTSTRAP_SERVERS"):
        return None

    def user(attribute: str) -> User | None:
        prefix = _USER_ENV[attribute]
        if f"{prefix}_USERNAME" in env and f"{prefix}_PASSWORD" in env:
            return User(env[f"{prefix}_USERNAME"], env[f"{prefix}_PASSWORD"])
        return None

    ca_file = env.get("KAFKA_CA_LOCATION")
    certificates = None
    if env.get("KAFKA_CLIENT_CERTIFICATES"):
        certificates = ClientCertificates(
            Path(env["KAFKA_CLIENT_CERTIFICATES"]),
            key_password=env.get("KAFKA_CLIENT_KEY_PASSWORD", ""),
            keystore_password=env.get("KAFKA_CLIENT_KEYSTORE_PASSWORD", ""),
        )
    return KafkaBroker(
        plaintext=env["KAFKA_BOOTSTRAP_SERVERS"],
        sasl_plaintext=env.get("KAFKA_SASL_PLAINTEXT_BOOTSTRAP_SERVERS") or None,
        sasl_ssl=env.get("KAFKA_SASL_SSL_BOOTSTRAP_SERVERS") or None,
        ssl=env.get("KAFKA_SSL_BOOTSTRAP_SERVERS") or None,
        ca_file=Path(ca_file) if ca_file else None,
        client_certificates=certificates,
        plain_user=user("plain_user"),
        scram_user=user("scram_user"),
        tricky_user=user("tricky_user"),
        unicode_user=user("unicode_user"),
        event_hubs_user=user("event_hubs_user"),
        confluent_cloud_user=user("confluent_cloud_user"),
    )


# --- command line ---------------------------------------------------------------------------------


def _exit_on_signal(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args == ["fetch"]:
        started = time.monotonic()
        print(f"Kafka {KAFKA_VERSION} jars in {fetch_jars()} ({time.monotonic() - started:.1f} s)")
        return 0
    if len(args) < 2 or args[0] != "--":
        print(__doc__, file=sys.stderr)
        return 2
    signal.signal(signal.SIGTERM, _exit_on_signal)
    signal.signal(signal.SIGHUP, _exit_on_signal)
    started = time.monotonic()
    print(f"Starting a Kafka {KAFKA_VERSION} broker on 127.0.0.1 (jars from Maven Central once)", file=sys.stderr)
    with running_broker() as broker:
        print(f"Broker ready in {time.monotonic() - started:.1f} s at {broker.plaintext}", file=sys.stderr, flush=True)
        return subprocess.call(args[1:], env={**os.environ, **broker_env(broker)})


if __name__ == "__main__":
    sys.exit(main())
