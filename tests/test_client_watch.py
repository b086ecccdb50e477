"""The one watch of librdkafka, replayed on what a real broker made librdkafka report (no broker needed).

tests/data/librdkafka/recorded.json holds, per scenario, the producer configuration and every error callback,
log line and delivery report librdkafka gave; tests/data/librdkafka/record.py records them again (with --oauth the
OAuth scenarios, in recorded-oauth.json).
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import KafkaError

from airflow_provider_kafka_connector.client_watch import ClientWatch, cause_of
from airflow_provider_kafka_connector.redaction import secret_values

DATA = Path(__file__).parent / "data" / "librdkafka"
RECORDED = json.loads((DATA / "recorded.json").read_text(encoding="utf-8"))
RECORDED_OAUTH = json.loads((DATA / "recorded-oauth.json").read_text(encoding="utf-8"))
WRONG_PASSWORD = "Wrong-Pass-4711"


def recorded(name: str) -> dict[str, Any]:
    return RECORDED["runs"].get(name) or RECORDED_OAUTH["runs"][name]


def kafka_error(event: dict[str, Any]) -> KafkaError:
    return KafkaError(getattr(KafkaError, event["code"]), event["str"], fatal=event["fatal"])


def replay(name: str, secrets: list[str] | None = None) -> tuple[ClientWatch, int | None]:
    """Give a recorded run's callbacks to a new watch, as librdkafka did; also the index of the event that
    gave the watch its unrecoverable cause (None if none did)."""
    run = recorded(name)
    watch = ClientWatch(run["config"], secret_values(run["config"]) if secrets is None else secrets)
    at = None
    for index, event in enumerate(run["events"]):
        if event["kind"] == "log":
            watch.log(event["level"], event["fmt"], *event["args"])
        elif event["kind"] == "error":
            watch.error(kafka_error(event))
        if watch.cause is not None and at is None:
            at = index
    return watch, at


def servers(name: str) -> str:
    return recorded(name)["config"]["bootstrap.servers"]


def test_the_recording_has_every_scenario():
    assert {
        "plain_wrong_password",
        "scram_wrong_password",
        "untrusted_ca",
        "plaintext_client_at_sasl_ssl_listener",
        "sasl_ssl_client_at_plaintext_listener",
        "unreachable_port",
        "closed_once_in_apiversion_query_then_delivered",
        "client_certificate_missing",
        "client_certificate_untrusted",
        "client_certificate_expired",
        "client_certificate_delivered",
    } <= RECORDED["runs"].keys()


@pytest.mark.parametrize(
    "name, user, mechanism, reason",
    [
        ("plain_wrong_password", "plain-user", "PLAIN", "Authentication failed: Invalid username or password"),
        ("scram_wrong_password", "scram-user", "SCRAM-SHA-256", "due to invalid credentials with SASL mechanism"),
    ],
)
def test_wrong_password_is_an_authentication_failure_at_the_first_error(name, user, mechanism, reason):
    watch, at = replay(name)
    assert watch.cause is not None
    assert watch.cause.startswith(
        f"Authentication failed for user {user!r} with mechanism {mechanism} at {servers(name)}: "
        f"sasl_ssl://{servers(name)}/bootstrap: SASL authentication error: "
    )
    assert reason in watch.cause
    assert "Check the connection's username and password" in watch.cause
    assert recorded(name)["events"][at]["code"] == "_AUTHENTICATION"  # the first error callback decides
    assert WRONG_PASSWORD not in watch.cause


def test_untrusted_certificate_is_a_tls_failure_pointing_to_ssl_ca_location():
    watch, at = replay("untrusted_ca")
    assert watch.cause is not None
    assert watch.cause.startswith(f"TLS connection to {servers('untrusted_ca')} failed: ")
    assert "certificate verify failed" in watch.cause
    assert "give that CA's PEM file as the additional property 'ssl.ca.location'" in watch.cause
    assert recorded("untrusted_ca")["events"][at]["code"] == "_SSL"


def test_plaintext_client_at_a_tls_listener_is_a_protocol_mismatch_at_the_third_closed_handshake():
    name = "plaintext_client_at_sasl_ssl_listener"
    watch, at = replay(name)
    assert watch.cause is not None
    assert watch.cause.startswith(
        f"The broker at {servers(name)} does not speak PLAINTEXT on that port: receive 0 after POLLIN (after "
    )
    assert "Set 'security.protocol' (PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL)" in watch.cause
    # It reaches only the log: no error callback names it, and one closed connection is not yet a mismatch.
    events = recorded(name)["events"][: at + 1]
    closed = [e for e in events if e["kind"] == "log" and "in state APIVERSION_QUERY" in e["args"][2]]
    assert len(closed) == 3
    assert events[at] is closed[-1]


def test_a_connection_closed_once_while_asking_for_api_versions_is_no_protocol_mismatch():
    # Recorded through a proxy that closed the first connection in APIVERSION_QUERY; the message was then delivered.
    name = "closed_once_in_apiversion_query_then_delivered"
    events = recorded(name)["events"]
    assert sum("in state APIVERSION_QUERY" in " ".join(e.get("args", [])) for e in events) == 1
    assert events[-1]["kind"] == "delivery" and events[-1]["code"] is None
    watch, _ = replay(name)
    assert watch.cause is None
    assert "in state APIVERSION_QUERY" in watch.last_failure


def test_two_closed_handshakes_are_not_yet_a_protocol_mismatch():
    run = recorded("plaintext_client_at_sasl_ssl_listener")
    closed = [e for e in run["events"] if e["kind"] == "log" and "APIVERSION_QUERY" in e["args"][2]]
    watch = ClientWatch(run["config"])
    for event in closed[:2]:
        watch.log(event["level"], event["fmt"], *event["args"])
    assert watch.cause is None
    watch.log(closed[2]["level"], closed[2]["fmt"], *closed[2]["args"])
    assert watch.cause is not None


# --- mutual TLS: a broker that refuses the client's certificate ------------------------------------------------

REFUSED_CERTIFICATES = [
    ("client_certificate_missing", "42 bad_certificate", "ssl/tls alert bad certificate", "No client certificate is"),
    (
        "client_certificate_untrusted",
        "42 bad_certificate",
        "ssl/tls alert bad certificate",
        "The client certificate was not sent: it is not signed by a CA the broker trusts.",
    ),
    (
        "client_certificate_expired",
        "46 certificate_unknown",
        "ssl/tls alert certificate unknown",
        "The broker does not accept the client certificate: check that it has not expired",
    ),
]


def only(name: str, kind: str) -> list[dict[str, Any]]:
    return [e for e in recorded(name)["events"] if e["kind"] == kind]


@pytest.mark.parametrize("name, alert, openssl, fix", REFUSED_CERTIFICATES)
def test_a_refused_client_certificate_is_named_at_the_first_failure_and_is_no_protocol_mismatch(
    name, alert, openssl, fix
):
    watch, at = replay(name)
    number = alert.split()[0]
    assert watch.cause == watch.cause.strip()
    assert watch.cause.startswith(
        f"The broker at {servers(name)} refused the client certificate: it ended the TLS handshake with alert "
        f"{alert} ({openssl}: SSL alert number {number}). {fix}"
    )
    assert "security.protocol" not in watch.cause and "does not speak" not in watch.cause
    # The broker's alert is in the first failed connection's log line: no need to wait for repeats.
    first_failure = next(e for e in recorded(name)["events"] if e["kind"] == "log" and e["args"][0] == "FAIL")
    assert recorded(name)["events"][at] is first_failure


def test_a_missing_client_certificate_names_every_way_to_give_one():
    watch, _ = replay("client_certificate_missing")
    for setting in ("client certificate and client key", "'ssl.certificate.location'", "'ssl.keystore.location'"):
        assert setting in watch.cause
    assert "'ssl.keystore.type'" in watch.cause  # the Java client's names too


@pytest.mark.parametrize("name", ["client_certificate_missing", "client_certificate_expired"])
def test_the_error_callback_alone_names_the_refused_certificate_too(name):
    full, _ = replay(name)
    watch = ClientWatch(recorded(name)["config"])
    for event in only(name, "error"):
        watch.error(kafka_error(event))
    assert watch.cause == full.cause


@pytest.mark.parametrize("name", [case[0] for case in REFUSED_CERTIFICATES])
def test_the_log_alone_names_the_refused_certificate_too(name):
    full, _ = replay(name)
    watch = ClientWatch(recorded(name)["config"])
    for event in only(name, "log"):
        watch.log(event["level"], event["fmt"], *event["args"])
    assert watch.cause == full.cause


def test_an_untrusted_client_certificate_is_told_apart_by_librdkafkas_withheld_certificate_line():
    name = "client_certificate_untrusted"
    [first_ssl_line] = [e for e in recorded(name)["events"][:1] if e["kind"] == "log" and e["args"][0] == "SSL"]
    assert "not sending any client certificates" in first_ssl_line["args"][2]
    watch = ClientWatch(recorded(name)["config"])
    for event in only(name, "error"):  # without that line, the same alert is a certificate the broker refused
        watch.error(kafka_error(event))
    assert watch.cause is not None and "The broker does not accept the client certificate" in watch.cause


def test_a_trusted_client_certificate_is_delivered_without_a_cause():
    name = "client_certificate_delivered"
    watch, _ = replay(name)
    assert watch.cause is None
    assert recorded(name)["events"][-1]["kind"] == "delivery" and recorded(name)["events"][-1]["code"] is None


def test_sasl_ssl_client_at_a_plaintext_listener_is_a_protocol_mismatch():
    name = "sasl_ssl_client_at_plaintext_listener"
    watch, at = replay(name)
    assert watch.cause is not None
    assert watch.cause.startswith(f"The broker at {servers(name)} does not speak SASL_SSL on that port: ")
    assert "connecting to a PLAINTEXT broker listener?" in watch.cause
    assert "a connection with a username and password uses SASL_SSL" in watch.cause
    assert recorded(name)["events"][at]["code"] == "_TRANSPORT"


def test_unreachable_port_is_no_unrecoverable_cause_but_all_brokers_down_with_the_last_failure():
    watch, _ = replay("unreachable_port")
    assert watch.cause is None
    assert watch.all_brokers_down
    assert watch.last_failure.startswith(f"{servers('unreachable_port')}/bootstrap: Connect to ipv4#")
    assert "Connection refused" in watch.last_failure
    assert watch.last_error is not None and "Connection refused" in watch.last_error.str()


def test_last_failure_from_the_log_drops_the_thread_prefix():
    watch, _ = replay("closed_once_in_apiversion_query_then_delivered")
    assert watch.last_failure.startswith(f"{servers('closed_once_in_apiversion_query_then_delivered')}/bootstrap: ")
    assert "[thrd:" not in watch.last_failure


@pytest.mark.parametrize("fatal", [True, False])
def test_a_fatal_error_is_unrecoverable_and_the_same_error_not_fatal_is_not(fatal):
    watch = ClientWatch(recorded("unreachable_port")["config"])
    watch.error(KafkaError(KafkaError.INVALID_PRODUCER_EPOCH, "Producer fenced by a newer instance", fatal=fatal))
    if fatal:
        assert watch.cause == "The Kafka producer hit a fatal error: Producer fenced by a newer instance."
    else:
        assert watch.cause is None


def test_the_first_cause_is_kept():
    watch, _ = replay("plain_wrong_password")
    first = watch.cause
    watch.error(KafkaError(KafkaError._FATAL, "later", fatal=True))
    assert watch.cause == first


@pytest.mark.parametrize(
    "name, repeated",
    [
        ("unreachable_port", "Connection refused"),
        ("plain_wrong_password", "Invalid username or password"),
        ("plaintext_client_at_sasl_ssl_listener", "APIVERSION_QUERY"),
        ("sasl_ssl_client_at_plaintext_listener", "PLAINTEXT broker listener?"),
        ("client_certificate_missing", "SSL alert number 42"),
    ],
)
def test_each_cause_is_logged_exactly_once(name, repeated, caplog):
    caplog.set_level(logging.DEBUG, logger="airflow_provider_kafka_connector")
    replay(name)
    lines = [e for e in recorded(name)["events"] if e["kind"] == "log" and repeated in e["args"][2]]
    assert len(lines) >= 3  # librdkafka repeated it ...
    logged = [r for r in caplog.records if repeated in r.getMessage()]
    assert len(logged) == 1, [r.getMessage() for r in logged]  # ... the log shows it once
    assert logged[0].levelno == lines[0]["level"]
    assert logged[0].getMessage().startswith("librdkafka: FAIL [rdkafka#producer-")


def test_a_suppressed_repeat_is_the_same_cause():
    # librdkafka appends the count of identical errors it suppressed to a repeated failure.
    [line] = {e["args"][2] for e in recorded("unreachable_port")["events"][:1]}
    repeat = line.replace("in state CONNECT)", "in state CONNECT, 4 identical error(s) suppressed)")
    assert repeat != line
    assert cause_of(repeat) == cause_of(line)
    assert cause_of(line) != cause_of(line.replace("Connection refused", "Connection timed out"))


def test_secrets_never_reach_the_cause_the_failure_or_the_log(caplog):
    caplog.set_level(logging.DEBUG, logger="airflow_provider_kafka_connector")
    secret = "Invalid username or password"  # pretend a secret shows up in what librdkafka says
    watch, _ = replay("plain_wrong_password", secrets=[secret, "plain-user"])
    assert watch.cause is not None
    for text in (watch.cause, watch.last_failure, caplog.text):
        assert secret not in text and "plain-user" not in text
        assert "***" in text


# --- OAuth (OAUTHBEARER with librdkafka's OIDC login) -------------------------------------------------------------


def token_endpoint(name: str) -> str:
    return recorded(name)["config"]["sasl.oauthbearer.token.endpoint.url"]


@pytest.mark.parametrize("name", ["oauth_wrong_audience", "oauth_wrong_issuer"])
def test_a_token_the_broker_rejects_is_explained_at_the_first_error(name):
    watch, at = replay(name)
    assert at is not None and recorded(name)["events"][at]["code"] == "_AUTHENTICATION"
    assert watch.cause is not None
    assert watch.cause.startswith(
        f"The broker at {servers(name)} rejected the OAuth token that {token_endpoint(name)} issued to client "
        f"'airflow-kafka-client': sasl_ssl://{servers(name)}/bootstrap: SASL authentication error: "
        '{"status":"invalid_token"}'
    )
    assert "expected.audience" in watch.cause and "expected.issuer" in watch.cause
    assert "username" not in watch.cause


def test_an_unreachable_token_endpoint_is_named_at_once():
    name = "oauth_token_endpoint_unreachable"
    watch, at = replay(name)
    assert at is not None and recorded(name)["events"][at]["t"] < 0.5
    assert watch.cause == (
        f"No OAuth token from the token endpoint {token_endpoint(name)}: Failed to connect to "
        f"{token_endpoint(name).split('/')[2]} after 0 ms: Could not connect to server. Check "
        "'sasl.oauthbearer.token.endpoint.url' and that this worker can reach it (for an https endpoint signed by a "
        "private CA, give that CA as 'https.ca.location')."
    )


def test_a_token_endpoint_that_refuses_the_client_credentials_says_so():
    name = "oauth_token_endpoint_refuses_the_client"
    watch, at = replay(name)
    assert at is not None
    assert watch.cause is not None
    assert watch.cause.startswith(
        f"The token endpoint {token_endpoint(name)} refused to issue an OAuth token (invalid_client): "
        '{"error":"invalid_client"}. '
        "It does not accept client 'airflow-kafka-client' with the client secret given"
    )
    assert WRONG_PASSWORD not in watch.cause


def test_an_oauth_login_that_works_leaves_no_cause():
    watch, _ = replay("oauth_delivered")
    assert watch.cause is None


def test_a_refused_token_after_a_broker_answered_is_left_to_librdkafka():
    """Once a broker has accepted the client's token, a refusal (an expired token during re-authentication) is
    transient: librdkafka fetches a new token and reconnects."""
    run = recorded("oauth_wrong_audience")
    watch = ClientWatch(run["config"], secret_values(run["config"]))
    watch.answered = True
    for event in run["events"]:
        if event["kind"] == "error":
            watch.error(kafka_error(event))
    assert watch.cause is None
    assert watch.last_failure is not None and "invalid_token" in watch.last_failure
