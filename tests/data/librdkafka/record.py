"""Record what librdkafka tells a producer when a connection fails, for the unit tests of the client watch.

Run from the repository root (starts its own broker, about a minute)::

    PYTHONPATH=. .venv/bin/python tests/data/librdkafka/record.py

For each scenario it builds the producer configuration as a task would (build_producer_config), sends one
message, and saves, in order, every call librdkafka made: the logger's ``log(level, fmt, *args)``, the
``error_cb`` errors (code name, text, fatal) and the delivery reports, to ``recorded.json`` next to this file.
The passwords in it are the test broker's throw-away ones and deliberately wrong ones. A configuration that
librdkafka refuses when the producer is created (a client key it cannot read) is recorded as one ``create`` event.

With ``--oauth`` it records the OAuth (OAUTHBEARER) scenarios instead, against the harness's OIDC server and a
broker with its OAUTH listener, into ``recorded-oauth.json``. The harness's OIDC server accepts any client secret,
so the token endpoint's refusal of a wrong secret is recorded at the broker's IDP_OAUTH listener, whose identity
provider (harness.identity_provider) authenticates its clients.
"""

from __future__ import annotations

import json
import socket
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from confluent_kafka import KafkaError, KafkaException, Producer, libversion

from airflow_provider_kafka_connector.config import ConnectionSettings, build_producer_config
from airflow_provider_kafka_connector.policy import PropertyPolicy
from harness import oidc_server
from harness.identity_provider import IdentityProvider, running_identity_provider
from harness.kafka_broker import KafkaBroker, make_ca, running_broker

OUT = Path(__file__).resolve().parent / "recorded.json"
OAUTH_OUT = Path(__file__).resolve().parent / "recorded-oauth.json"
WRONG_PASSWORD = "Wrong-Pass-4711"
TOPIC = "recorded"


def _code_name(error: KafkaError) -> str:
    code = error.code()
    names = [name for name in dir(KafkaError) if name.isupper() or name.startswith("_")]
    return next(name for name in names if getattr(KafkaError, name, None) == code and isinstance(code, int))


class Recorder:
    """Stands in for the logger and the callbacks; keeps every call in order with its time."""

    def __init__(self) -> None:
        self.started = time.monotonic()
        self.events: list[dict[str, Any]] = []
        self.delivered = False

    def _add(self, event: dict[str, Any]) -> None:
        self.events.append({"t": round(time.monotonic() - self.started, 3), **event})

    def log(self, level: int, fmt: str, *args: Any) -> None:
        self._add({"kind": "log", "level": level, "fmt": fmt, "args": [str(arg) for arg in args]})

    def error(self, error: KafkaError) -> None:
        self._add({"kind": "error", "code": _code_name(error), "str": error.str(), "fatal": error.fatal()})

    def delivery(self, error: KafkaError | None, message: Any) -> None:
        self.delivered = True
        if error is None:
            self._add({"kind": "delivery", "code": None, "offset": message.offset()})
        else:
            self._add({"kind": "delivery", "code": _code_name(error), "str": error.str(), "fatal": error.fatal()})


def record(config: dict[str, str], seconds: float, value: bytes = b"v", topic: str = TOPIC) -> list[dict[str, Any]]:
    recorder = Recorder()
    try:
        producer = Producer({**config, "error_cb": recorder.error, "logger": recorder})
    except KafkaException as error:
        err = error.args[0]
        recorder._add({"kind": "create", "code": _code_name(err), "str": err.str(), "fatal": err.fatal()})
        return recorder.events
    try:
        producer.produce(topic, value, b"k", on_delivery=recorder.delivery)
    except KafkaException as error:
        err = error.args[0]
        recorder._add({"kind": "produce", "code": _code_name(err), "str": err.str(), "fatal": err.fatal()})
        recorder.delivered = True
    deadline = time.monotonic() + seconds
    while not recorder.delivered and time.monotonic() < deadline:
        producer.poll(0.05)
    producer.purge()
    producer.flush(0)
    return recorder.events


class CloseFirstConnection:
    """A TCP proxy to a broker that closes its first client connection after the first request."""

    def __init__(self, target: str) -> None:
        host, port = target.rsplit(":", 1)
        self._target = (host, int(port))
        self._server = socket.create_server(("127.0.0.1", 0))
        self.address = f"127.0.0.1:{self._server.getsockname()[1]}"
        self._accepted = 0
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            client, _ = self._server.accept()
            self._accepted += 1
            if self._accepted == 1:
                client.recv(4096)
                client.close()
                continue
            upstream = socket.create_connection(self._target)
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def scenarios(broker: KafkaBroker, tmp: Path) -> dict[str, tuple[dict[str, str], float, dict[str, Any]]]:
    assert broker.sasl_ssl and broker.plain_user and broker.scram_user and broker.ca_file
    ca = {"ssl.ca.location": str(broker.ca_file)}

    def conn(host: str, login: str | None = None, password: str | None = None, **extra: Any) -> dict[str, str]:
        settings = ConnectionSettings("recorded", host=host, login=login, password=password)
        return dict(build_producer_config(settings, extra))

    plain, scram = broker.plain_user, broker.scram_user
    proxy = CloseFirstConnection(broker.plaintext)
    return {
        **mutual_tls_scenarios(broker, conn),
        "plain_wrong_password": (conn(broker.sasl_ssl, plain.name, WRONG_PASSWORD, **ca), 5, {}),
        "scram_wrong_password": (
            conn(broker.sasl_ssl, scram.name, WRONG_PASSWORD, **ca, **{"sasl.mechanism": "SCRAM-SHA-256"}),
            5,
            {},
        ),
        "untrusted_ca": (
            conn(broker.sasl_ssl, plain.name, plain.password, **{"ssl.ca.location": str(make_ca(tmp, "wrong-ca"))}),
            5,
            {},
        ),
        "plaintext_client_at_sasl_ssl_listener": (conn(broker.sasl_ssl), 6, {}),
        "sasl_ssl_client_at_plaintext_listener": (conn(broker.plaintext, "alice", WRONG_PASSWORD), 5, {}),
        "unreachable_port": (conn(f"127.0.0.1:{closed_port()}", **{"delivery.timeout.ms": 3000}), 8, {}),
        "closed_once_in_apiversion_query_then_delivered": (conn(proxy.address), 15, {}),
        "missing_topic": (conn(broker.plaintext), 10, {"topic": "no-such-topic-recorded"}),
        "message_too_large_for_the_client": (conn(broker.plaintext), 5, {"value": b"x" * 2_000_000}),
        "message_too_large_for_the_broker": (
            conn(broker.plaintext, **{"message.max.bytes": 5_000_000}),
            10,
            {"value": b"x" * 1_200_000},
        ),
    }


def mutual_tls_scenarios(broker: KafkaBroker, conn: Any) -> dict[str, tuple[dict[str, str], float, dict[str, Any]]]:
    """At the SSL listener that requires a client certificate signed by the broker's CA."""
    assert broker.ssl and broker.client_certificates and broker.ca_file
    certs = broker.client_certificates
    tls = {"security.protocol": "SSL", "ssl.ca.location": str(broker.ca_file)}

    def client(name: str, key: str | None = None, **extra: str) -> dict[str, str]:
        files = {"ssl.certificate.location": str(certs.cert(name)), "ssl.key.location": str(certs.key(key or name))}
        return conn(broker.ssl, **tls, **files, **extra)

    return {
        "client_certificate_missing": (conn(broker.ssl, **tls), 3, {}),
        "client_certificate_untrusted": (client("untrusted"), 3, {}),
        "client_certificate_expired": (client("expired"), 3, {}),
        "client_certificate_delivered": (client("client"), 10, {}),
        "client_key_wrong_password": (client("encrypted", **{"ssl.key.password": WRONG_PASSWORD}), 1, {}),
        "client_key_password_missing": (client("encrypted"), 1, {}),
        "client_key_not_the_certificates": (client("client", key="expired"), 1, {}),
        "client_key_pem_not_the_certificates": (
            conn(
                broker.ssl,
                **tls,
                **{"ssl.certificate.pem": certs.cert().read_text(), "ssl.key.pem": certs.key("expired").read_text()},
            ),
            1,
            {},
        ),
        "client_keystore_wrong_password": (
            conn(
                broker.ssl,
                **tls,
                **{"ssl.keystore.location": str(certs.pkcs12_keystore), "ssl.keystore.password": WRONG_PASSWORD},
            ),
            1,
            {},
        ),
        "client_certificate_file_missing": (
            conn(
                broker.ssl,
                **tls,
                **{"ssl.certificate.location": str(certs.directory / "no-such.pem"), "ssl.key.location": "x"},
            ),
            1,
            {},
        ),
    }


def oauth_scenarios(broker: KafkaBroker, oidc: oidc_server.OidcServer, idp: IdentityProvider) -> dict[str, Any]:
    """At the OAUTH listener (SASL_SSL, OAUTHBEARER tokens of the harness's OIDC server), and a wrong client secret
    at the IDP_OAUTH listener (tokens of the identity provider, which authenticates its clients)."""
    assert broker.oauth and broker.idp_oauth and broker.ca_file

    def conn(
        scope: str = oidc_server.SCOPE, endpoint: str = oidc.token_endpoint, host: str = broker.oauth
    ) -> dict[str, str]:
        settings = ConnectionSettings("recorded", host=host)
        extra = {
            "security.protocol": "SASL_SSL",
            "ssl.ca.location": str(broker.ca_file),
            "sasl.mechanism": "OAUTHBEARER",
            "sasl.oauthbearer.method": "oidc",
            "sasl.oauthbearer.client.id": oidc_server.CLIENT_ID,
            "sasl.oauthbearer.client.secret": WRONG_PASSWORD,
            "sasl.oauthbearer.token.endpoint.url": endpoint,
            "sasl.oauthbearer.scope": scope,
        }
        return dict(build_producer_config(settings, extra, policy=PropertyPolicy(allowed_urls=(endpoint,))))

    return {
        "oauth_delivered": (conn(), 10, {}),
        "oauth_wrong_audience": (conn(oidc_server.WRONG_AUDIENCE_SCOPE), 3, {}),
        "oauth_wrong_issuer": (conn(oidc_server.WRONG_ISSUER_SCOPE), 3, {}),
        "oauth_token_endpoint_unreachable": (conn(endpoint=f"http://127.0.0.1:{closed_port()}/kafka/token"), 3, {}),
        "oauth_token_endpoint_refuses_the_client": (conn(endpoint=idp.token_endpoint, host=broker.idp_oauth), 3, {}),
    }


def record_all(out: Path, broker: KafkaBroker, runs_to_record: dict[str, Any]) -> None:
    broker.create_topic(TOPIC)
    recorded: dict[str, Any] = {"librdkafka": libversion()[0]}
    runs = {}
    for name, (config, seconds, options) in runs_to_record.items():
        events = record(config, seconds, **options)
        runs[name] = {"config": config, "events": events}
        print(f"{name}: {len(events)} events", file=sys.stderr)
    recorded["runs"] = runs
    out.write_text(json.dumps(recorded, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {out}", file=sys.stderr)


def main() -> int:
    if sys.argv[1:] == ["--oauth"]:
        with (
            oidc_server.running_oidc_server() as oidc,
            running_identity_provider() as idp,
            running_broker(oidc=oidc, idp=idp) as broker,
        ):
            record_all(OAUTH_OUT, broker, oauth_scenarios(broker, oidc, idp))
        return 0
    with tempfile.TemporaryDirectory(prefix="record-librdkafka-") as tmp, running_broker() as broker:
        record_all(OUT, broker, scenarios(broker, Path(tmp)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
