"""What a failed send tells the user: the cause in Kafka's words, and what to change.

The classification of librdkafka's errors lives here; client_watch.ClientWatch feeds it what the error callback
and the log report, for a task's producer and the Connections UI's Test alike. The exception classes live in
exceptions.py (no confluent_kafka import) and are re-exported here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from confluent_kafka import KafkaError

from airflow_provider_kafka_connector import aws_msk_iam, google_managed_kafka
from airflow_provider_kafka_connector.exceptions import (
    KafkaConfigurationError,
    KafkaConnectorError,
    KafkaDeliveryError,
)
from airflow_provider_kafka_connector.java_properties import LIBRDKAFKA_ALIASES, unknown_property_message

__all__ = [
    "KafkaConfigurationError",
    "KafkaConnectorError",
    "KafkaDeliveryError",
    "client_certificate_refused",
    "explain_config_error",
    "explain_delivery_error",
    "oauth_failure",
    "protocol_mismatch",
    "replica_shortfall",
    "unrecoverable_client_error",
]


# What OpenSSL says when librdkafka cannot load the client's key or certificate, and what to change. librdkafka
# checks them when the producer is created, so these fail before any connection.
_CLIENT_TLS_FILE_HINTS = (
    (
        re.compile(r"ssl\.key\.(location|pem) failed: .*(PEM lib|bad decrypt)"),
        "The client's private key cannot be read: if it is encrypted (its PEM begins with 'BEGIN ENCRYPTED PRIVATE "
        "KEY'), 'ssl.key.password' must be its passphrase (the connection's client key password, or the additional "
        "property); otherwise check that it is a PEM private key.",
    ),
    (
        re.compile(r"key values mismatch"),
        "The private key does not belong to the client certificate: give the key that was issued with this "
        "certificate.",
    ),
    (
        re.compile(r"PKCS#12 .*mac verify failure"),
        "'ssl.keystore.password' is not the password of the PKCS#12 keystore.",
    ),
    (
        re.compile(r"ssl\.[\w.]+\.location .*(system lib|No such file)"),
        "The file that property names cannot be read on this worker: check the path and its permissions, or give "
        "the PEM text itself (the connection's TLS fields, or 'ssl.ca.pem', 'ssl.certificate.pem', 'ssl.key.pem').",
    ),
)


def explain_config_error(reason: str) -> str:
    """librdkafka names a property by its own name; add the name the producer configuration uses for it."""
    named = re.search(r'property:? "([^"]+)"', reason)
    if named and reason.startswith("No such configuration property"):
        return unknown_property_message(named.group(1))
    for pattern, hint in _CLIENT_TLS_FILE_HINTS:
        if pattern.search(reason):
            return f"Invalid TLS client configuration: {reason}. {hint}"
    ours = named and LIBRDKAFKA_ALIASES.get(named.group(1))
    also = f" (the property '{ours}')" if ours else ""
    return f"Invalid producer configuration: {reason}{also}. Check the additional properties."


def protocol_mismatch(config: Mapping[str, str], reason: str) -> str:
    """The client's security.protocol is not the listener's."""
    return (
        f"The broker at {config.get('bootstrap.servers')} does not speak "
        f"{config.get('security.protocol', 'PLAINTEXT')} on that port: {reason}. Set 'security.protocol' "
        "(PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL) to what the listener expects: a connection with a "
        "username and password uses SASL_SSL unless an additional property says otherwise."
    )


# The TLS alerts (RFC 8446, section 6.2) with which a server refuses a client's certificate, or its absence.
CLIENT_CERTIFICATE_ALERTS = {
    42: "bad_certificate",
    43: "unsupported_certificate",
    44: "certificate_revoked",
    45: "certificate_expired",
    46: "certificate_unknown",
    48: "unknown_ca",
    116: "certificate_required",
}
# OpenSSL's words for an alert the peer sent, as librdkafka passes them on: "ssl/tls alert bad certificate: SSL
# alert number 42". A certificate the client refuses has none: it reads "certificate verify failed".
_RECEIVED_ALERT = re.compile(r"([^:]*): SSL alert number (\d+)")
# Where each form of configuration gives the client's certificate.
CLIENT_CERTIFICATE_PROPERTIES = ("ssl.certificate.location", "ssl.certificate.pem", "ssl.keystore.location")


def client_certificate_refused(config: Mapping[str, str], reason: str, *, withheld: bool = False) -> str | None:
    """The broker ended the TLS handshake refusing the client's certificate (mutual TLS), or None if it did not.

    ``withheld``: librdkafka logged that it sent no certificate, because none it has is signed by a CA the broker
    named as trusted.
    """
    received = _RECEIVED_ALERT.search(reason)
    if received is None or int(received.group(2)) not in CLIENT_CERTIFICATE_ALERTS:
        return None
    alert = int(received.group(2))
    if not any(config.get(name) for name in CLIENT_CERTIFICATE_PROPERTIES):
        fix = (
            "No client certificate is configured, and this listener requires one (mutual TLS). Give the "
            "connection's client certificate and client key, or as additional properties 'ssl.certificate.location' "
            "and 'ssl.key.location' (PEM files), 'ssl.keystore.location' and 'ssl.keystore.password' (PKCS#12), or "
            "the Java client's 'ssl.keystore.type', 'ssl.keystore.location' and 'ssl.keystore.password'."
        )
    elif withheld:
        fix = (
            "The client certificate was not sent: it is not signed by a CA the broker trusts. Use a certificate "
            "issued by a CA in the broker's truststore, or have that CA added to it."
        )
    else:
        fix = (
            "The broker does not accept the client certificate: check that it has not expired or been revoked and "
            "that a CA in the broker's truststore issued it (the broker's log names its reason)."
        )
    return (
        f"The broker at {config.get('bootstrap.servers')} refused the client certificate: it ended the TLS "
        f"handshake with alert {alert} {CLIENT_CERTIFICATE_ALERTS[alert]} ({received.group(0).strip()}). {fix}"
    )


# librdkafka's OIDC login reports a failed token request with this prefix, then the HTTP client's error or the token
# endpoint's answer (an OAuth error response, RFC 6749 section 5.2: {"error": "invalid_client", ...}).
_TOKEN_REQUEST_FAILED = "Failed to acquire SASL OAUTHBEARER token: "
_OAUTH_ERROR = re.compile(r'"error"\s*:\s*"(\w+)"')
_OAUTH_CREDENTIAL_ERRORS = ("invalid_client", "unauthorized_client", "access_denied")


def oauth_failure(config: Mapping[str, str], reason: str) -> str:
    """Why an OAUTHBEARER login failed: the token endpoint gave no token, or the broker refused the token."""
    endpoint = config.get("sasl.oauthbearer.token.endpoint.url")
    client = config.get("sasl.oauthbearer.client.credentials.client.id") or config.get("sasl.oauthbearer.client.id")
    if _TOKEN_REQUEST_FAILED in reason:
        answer = reason.split(_TOKEN_REQUEST_FAILED, 1)[1]
        error = _OAUTH_ERROR.search(answer)
        if error is None:
            return (
                f"No OAuth token from the token endpoint {endpoint}: {answer}. Check "
                "'sasl.oauthbearer.token.endpoint.url' and that this worker can reach it (for an https endpoint signed "
                "by a private CA, give that CA as 'https.ca.location')."
            )
        if error.group(1) in _OAUTH_CREDENTIAL_ERRORS:
            fix = (
                f"It does not accept client {client!r} with the client secret given: check "
                "'sasl.oauthbearer.client.id' and 'sasl.oauthbearer.client.secret' (the Java JAAS line's clientId "
                "and clientSecret)."
            )
        elif error.group(1) == "invalid_scope":
            fix = "It does not grant the scope asked for: check 'sasl.oauthbearer.scope' (the JAAS line's scope)."
        else:
            fix = "Check the OAuth client's settings with the identity provider."
        return f"The token endpoint {endpoint} refused to issue an OAuth token ({error.group(1)}): {answer}. {fix}"
    callback = config.get("oauth_cb")
    if callback == aws_msk_iam.CALLBACK:
        identity = aws_msk_iam.identity_used(config.get(aws_msk_iam.TOKEN_CONFIG, ""))
        return (
            f"The broker at {config.get('bootstrap.servers')} rejected the Amazon MSK IAM token signed for "
            f"{identity or 'an AWS identity'}: {reason}. MSK accepts a token signed for the cluster's region by an "
            "IAM identity whose policy allows kafka-cluster:Connect on the cluster: check the identity's policy, "
            "the role (awsRoleArn) and the region."
        )
    if callback == google_managed_kafka.CALLBACK:
        account = google_managed_kafka.account_used(config.get("sasl.oauthbearer.config", ""))
        return (
            f"The broker at {config.get('bootstrap.servers')} rejected the Google token of "
            f"{account or 'the service account'}: {reason}. Google Managed Service for Apache Kafka accepts the "
            "access token of a service account that has the Managed Kafka Client role (roles/managedkafka.client) "
            "in the cluster's project: check the account's roles."
        )
    if callback:
        return (
            f"The broker at {config.get('bootstrap.servers')} rejected the OAuth token from the token callback "
            f"{callback!r}: {reason}. Check that the callback's token is one this cluster's identity provider issues "
            "(its 'sasl.oauthbearer.config' settings) and that the broker's log names the claim it refused."
        )
    return (
        f"The broker at {config.get('bootstrap.servers')} rejected the OAuth token that {endpoint} issued to client "
        f"{client!r}: {reason}. The broker checks the token's signature against its identity provider's keys "
        "(sasl.oauthbearer.jwks.endpoint.url), its audience (sasl.oauthbearer.expected.audience), issuer "
        "(sasl.oauthbearer.expected.issuer) and expiry; Kafka tells the client only 'invalid_token', its log names "
        "the claim it refused. Check that the token endpoint and 'sasl.oauthbearer.scope' are the ones this cluster "
        "expects."
    )


def unrecoverable_client_error(
    error: KafkaError, config: Mapping[str, str], *, certificate_withheld: bool = False, authenticated: bool = False
) -> str | None:
    """The explanation of a client error that retrying cannot mend, or None for one that may pass.

    ``authenticated``: a broker has answered this client, so its credentials were accepted once. An OAuth token
    can then expire or be refused while librdkafka re-authenticates (a broker with connections.max.reauth.ms ends a
    session when its token expires); librdkafka fetches a new token and reconnects, so that is no cause to give up.
    """
    code, reason = error.code(), error.str()
    servers = config.get("bootstrap.servers")
    refused = client_certificate_refused(config, reason, withheld=certificate_withheld)
    if refused:
        return refused
    if code == KafkaError._AUTHENTICATION and config.get("sasl.mechanism", "").upper() == "OAUTHBEARER":
        return None if authenticated else oauth_failure(config, reason)
    if code == KafkaError._AUTHENTICATION:
        return (
            f"Authentication failed for user {config.get('sasl.username')!r} with mechanism "
            f"{config.get('sasl.mechanism', 'GSSAPI')} at {servers}: {reason}. Check the connection's username "
            "and password, and that 'sasl.mechanism' is one the broker enables for this listener."
        )
    if code == KafkaError._SSL and "certificate" in reason:
        return (
            f"TLS connection to {servers} failed: {reason}. If the broker's certificate is signed by a private CA, "
            "give that CA's PEM file as the additional property 'ssl.ca.location'."
        )
    if "security.protocol" in reason or "PLAINTEXT broker listener" in reason or "wrong version number" in reason:
        return protocol_mismatch(config, reason)
    if error.fatal():
        return f"The Kafka producer hit a fatal error: {reason}."
    return None


def replica_shortfall(topic: str, partitions: Mapping[int, Any], min_insync: int | None) -> str:
    """Why acks=all writes to topic wait, from its metadata (PartitionMetadata by partition) and min.insync.replicas.

    A partition with fewer in-sync replicas than min.insync.replicas answers NOT_ENOUGH_REPLICAS, which librdkafka
    retries silently until the delivery times out; one without a leader takes no writes at all.
    """
    notes = []
    leaderless = sorted(p for p, m in partitions.items() if m.leader < 0)
    if leaderless:
        notes.append(f"partitions {leaderless} of {topic!r} have no leader (the brokers holding them are down)")
    short = sorted(p for p, m in partitions.items() if m.leader >= 0 and min_insync and len(m.isrs) < min_insync)
    if short:
        listed = ", ".join(f"partition {p}: {len(partitions[p].isrs)} of {len(partitions[p].replicas)}" for p in short)
        notes.append(
            f"not enough in-sync replicas (NOT_ENOUGH_REPLICAS) in {topic!r}: {listed} replicas in sync, fewer than "
            f"the topic's min.insync.replicas={min_insync}, so writes with acks=all are refused until enough "
            "replicas are back. Check that the brokers holding the replicas are running and can reach each other"
        )
    return f" The cluster says: {'; '.join(notes)}." if notes else ""


def explain_delivery_error(
    error: KafkaError, topic: str, config: Mapping[str, str], last_client_error: str, cluster_note: str = ""
) -> str:
    """A delivery report's or a refused produce()'s error, with what to change (cluster_note: replica_shortfall)."""
    code = error.code()
    servers = config.get("bootstrap.servers")
    if code in (KafkaError.UNKNOWN_TOPIC_OR_PART, KafkaError._UNKNOWN_TOPIC):
        hint = f"Topic {topic!r} does not exist on {servers}: create it, or check the topic name."
    elif code == KafkaError.MSG_SIZE_TOO_LARGE:
        hint = (
            f"The message is larger than allowed (the producer's 'message.max.bytes' is "
            f"{config.get('message.max.bytes', '1000000')}): raise 'message.max.bytes' (Java: 'max.request.size') "
            "in the additional properties and the topic's 'max.message.bytes' on the broker, or send less."
        )
    elif code == KafkaError.TOPIC_AUTHORIZATION_FAILED:
        hint = f"User {config.get('sasl.username')!r} may not write to topic {topic!r}: grant it WRITE on the topic."
    elif code == KafkaError._MSG_TIMED_OUT:
        hint = (
            f"Not acknowledged by {servers} within 'delivery.timeout.ms' "
            f"({config.get('delivery.timeout.ms', '300000')} ms){last_client_error}.{cluster_note}"
        )
    else:
        hint = ""
    return f"Kafka did not accept the message for topic {topic!r}: {error.str()}. {hint}".strip()
