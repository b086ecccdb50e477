import logging
import re
from datetime import datetime, timedelta, timezone

import pytest
from confluent_kafka import KafkaException, Producer

from airflow_provider_kafka_connector.config import (
    MISCELLANEOUS_DEFAULTS,
    ConnectionSettings,
    ProducerConfigError,
    build_producer_config,
)
from airflow_provider_kafka_connector.java_properties import (
    DROP,
    JAVA_PRODUCER_PROPERTIES,
    LIBRDKAFKA_ALIASES,
    LIBRDKAFKA_PRODUCER_PROPERTIES,
    PASS,
    REJECT,
    RENAME,
    TRANSLATE,
    parse_jaas_config,
    translate_properties,
    unknown_property_message,
)
from airflow_provider_kafka_connector.redaction import redacted, secret_values

PLAIN = "org.apache.kafka.common.security.plain.PlainLoginModule"
SCRAM = "org.apache.kafka.common.security.scram.ScramLoginModule"
SPEC_JAAS_LINE = f"{PLAIN}   required username='<Your Username>'   password='<Your Password>';"
SERIALIZATION = "org.apache.kafka.common.serialization"
OAUTH = "org.apache.kafka.common.security.oauthbearer"

# ProducerConfig.configDef().configKeys() of kafka-clients 4.4.0: the whole Java producer configuration.
KAFKA_4_4_PRODUCER_PROPERTIES = """
acks batch.size bootstrap.resolve.timeout.ms bootstrap.servers buffer.memory buffer.memory.allocation.strategy
client.dns.lookup client.id client.rack compression.gzip.level compression.lz4.level compression.type
compression.zstd.level config.providers connections.max.idle.ms delivery.timeout.ms enable.idempotence
enable.metrics.push interceptor.classes key.serializer linger.ms max.block.ms max.in.flight.requests.per.connection
max.request.size metadata.cluster.check.enable metadata.max.age.ms metadata.max.idle.ms
metadata.recovery.rebootstrap.trigger.ms metadata.recovery.strategy metric.reporters metrics.num.samples
metrics.recording.level metrics.sample.window.ms partitioner.adaptive.partitioning.enable
partitioner.availability.timeout.ms partitioner.class partitioner.ignore.keys partitioner.rack.aware
receive.buffer.bytes reconnect.backoff.max.ms reconnect.backoff.ms request.timeout.ms retries retry.backoff.max.ms
retry.backoff.ms sasl.client.callback.handler.class sasl.jaas.config sasl.kerberos.kinit.cmd
sasl.kerberos.min.time.before.relogin sasl.kerberos.service.name sasl.kerberos.ticket.renew.jitter
sasl.kerberos.ticket.renew.window.factor sasl.login.callback.handler.class sasl.login.class
sasl.login.connect.timeout.ms sasl.login.read.timeout.ms sasl.login.refresh.buffer.seconds
sasl.login.refresh.min.period.seconds sasl.login.refresh.window.factor sasl.login.refresh.window.jitter
sasl.login.retry.backoff.max.ms sasl.login.retry.backoff.ms sasl.mechanism sasl.oauthbearer.allow.unverified.audience
sasl.oauthbearer.allow.unverified.issuer sasl.oauthbearer.assertion.algorithm sasl.oauthbearer.assertion.claim.aud
sasl.oauthbearer.assertion.claim.exp.seconds sasl.oauthbearer.assertion.claim.iss
sasl.oauthbearer.assertion.claim.jti.include sasl.oauthbearer.assertion.claim.nbf.seconds
sasl.oauthbearer.assertion.claim.sub sasl.oauthbearer.assertion.file sasl.oauthbearer.assertion.private.key.file
sasl.oauthbearer.assertion.private.key.passphrase sasl.oauthbearer.assertion.template.file
sasl.oauthbearer.client.credentials.client.id sasl.oauthbearer.client.credentials.client.secret
sasl.oauthbearer.clock.skew.seconds sasl.oauthbearer.expected.audience sasl.oauthbearer.expected.issuer
sasl.oauthbearer.header.urlencode sasl.oauthbearer.jwks.endpoint.refresh.ms
sasl.oauthbearer.jwks.endpoint.retry.backoff.max.ms sasl.oauthbearer.jwks.endpoint.retry.backoff.ms
sasl.oauthbearer.jwks.endpoint.url sasl.oauthbearer.jwt.retriever.class sasl.oauthbearer.jwt.validator.class
sasl.oauthbearer.scope sasl.oauthbearer.scope.claim.name sasl.oauthbearer.sub.claim.name
sasl.oauthbearer.token.endpoint.url security.protocol security.providers send.buffer.bytes
socket.connection.setup.timeout.max.ms socket.connection.setup.timeout.ms ssl.cipher.suites ssl.enabled.protocols
ssl.endpoint.identification.algorithm ssl.engine.factory.class ssl.key.password ssl.keymanager.algorithm
ssl.keystore.certificate.chain ssl.keystore.key ssl.keystore.location ssl.keystore.password ssl.keystore.type
ssl.protocol ssl.provider ssl.secure.random.implementation ssl.trustmanager.algorithm ssl.truststore.certificates
ssl.truststore.location ssl.truststore.password ssl.truststore.type transaction.timeout.ms
transaction.two.phase.commit.enable transactional.id value.serializer
""".split()
# ConsumerConfig's names that ProducerConfig lacks (kafka-clients 4.4.0), less allow.auto.create.topics,
# which librdkafka also applies to producers.
KAFKA_4_4_CONSUMER_ONLY_PROPERTIES = """
auto.commit.interval.ms auto.offset.reset check.crcs default.api.timeout.ms enable.auto.commit exclude.internal.topics
fetch.max.bytes fetch.max.wait.ms fetch.min.bytes group.id group.instance.id group.protocol group.remote.assignor
heartbeat.interval.ms internal.throw.on.fetch.stable.offset.unsupported isolation.level key.deserializer
max.partition.fetch.bytes max.poll.interval.ms max.poll.records partition.assignment.strategy session.timeout.ms
share.acknowledgement.mode share.acquire.mode value.deserializer
""".split()
STRING_SERIALIZER_OPTIONS = ["key.serializer.encoding", "value.serializer.encoding", "serializer.encoding"]

CA_PEM_TEXT = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
KEY_PEM_TEXT = "-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n"

# One sample per row that passes or renames: (the value a user gives, librdkafka's configuration from it).
PASS_AND_RENAME_EXAMPLES: dict[str, tuple[object, dict[str, str]]] = {
    "acks": (-1, {"acks": "all"}),
    "batch.size": ("16384", {"batch.size": "16384"}),
    "bootstrap.servers": (["127.0.0.1:1", " 127.0.0.1:2 "], {"bootstrap.servers": "127.0.0.1:1,127.0.0.1:2"}),
    "client.dns.lookup": (
        "resolve_canonical_bootstrap_servers_only",
        {"client.dns.lookup": "resolve_canonical_bootstrap_servers_only"},
    ),
    "client.id": ("MyDemoClientId", {"client.id": "MyDemoClientId"}),
    "client.rack": ("rack-1", {"client.rack": "rack-1"}),
    "compression.type": ("ZSTD", {"compression.type": "zstd"}),
    "connections.max.idle.ms": (540000, {"connections.max.idle.ms": "540000"}),
    "delivery.timeout.ms": (45000.0, {"delivery.timeout.ms": "45000"}),
    "enable.idempotence": ("TRUE", {"enable.idempotence": "true"}),
    "enable.metrics.push": (False, {"enable.metrics.push": "false"}),
    "linger.ms": ("0.5", {"linger.ms": "0.5"}),
    "max.in.flight.requests.per.connection": ("5", {"max.in.flight.requests.per.connection": "5"}),
    "metadata.max.age.ms": (300000, {"metadata.max.age.ms": "300000"}),
    "metadata.recovery.rebootstrap.trigger.ms": (300000, {"metadata.recovery.rebootstrap.trigger.ms": "300000"}),
    "metadata.recovery.strategy": ("REBOOTSTRAP", {"metadata.recovery.strategy": "rebootstrap"}),
    "reconnect.backoff.max.ms": (1000, {"reconnect.backoff.max.ms": "1000"}),
    "reconnect.backoff.ms": (50, {"reconnect.backoff.ms": "50"}),
    "request.timeout.ms": (" 30000 ", {"request.timeout.ms": "30000"}),
    "retries": (2147483647, {"retries": "2147483647"}),
    "retry.backoff.max.ms": (1000, {"retry.backoff.max.ms": "1000"}),
    "retry.backoff.ms": (100, {"retry.backoff.ms": "100"}),
    "sasl.kerberos.min.time.before.relogin": (60000, {"sasl.kerberos.min.time.before.relogin": "60000"}),
    "sasl.kerberos.service.name": ("kafka", {"sasl.kerberos.service.name": "kafka"}),
    "sasl.oauthbearer.assertion.algorithm": ("es256", {"sasl.oauthbearer.assertion.algorithm": "ES256"}),
    "sasl.oauthbearer.assertion.claim.aud": ("https://idp", {"sasl.oauthbearer.assertion.claim.aud": "https://idp"}),
    "sasl.oauthbearer.assertion.claim.exp.seconds": (300, {"sasl.oauthbearer.assertion.claim.exp.seconds": "300"}),
    "sasl.oauthbearer.assertion.claim.iss": ("me", {"sasl.oauthbearer.assertion.claim.iss": "me"}),
    "sasl.oauthbearer.assertion.claim.jti.include": (True, {"sasl.oauthbearer.assertion.claim.jti.include": "true"}),
    "sasl.oauthbearer.assertion.claim.nbf.seconds": (60, {"sasl.oauthbearer.assertion.claim.nbf.seconds": "60"}),
    "sasl.oauthbearer.assertion.claim.sub": ("me", {"sasl.oauthbearer.assertion.claim.sub": "me"}),
    "sasl.oauthbearer.assertion.file": ("/run/a.jwt", {"sasl.oauthbearer.assertion.file": "/run/a.jwt"}),
    "sasl.oauthbearer.assertion.private.key.file": (
        "/run/key.pem",
        {"sasl.oauthbearer.assertion.private.key.file": "/run/key.pem"},
    ),
    "sasl.oauthbearer.assertion.private.key.passphrase": (
        "pass",
        {"sasl.oauthbearer.assertion.private.key.passphrase": "pass"},
    ),
    "sasl.oauthbearer.client.credentials.client.id": ("me", {"sasl.oauthbearer.client.credentials.client.id": "me"}),
    "sasl.oauthbearer.client.credentials.client.secret": (
        "s3cret",
        {"sasl.oauthbearer.client.credentials.client.secret": "s3cret"},
    ),
    "sasl.oauthbearer.scope": ("kafka", {"sasl.oauthbearer.scope": "kafka"}),
    "sasl.oauthbearer.sub.claim.name": ("sub", {"sasl.oauthbearer.sub.claim.name": "sub"}),
    "sasl.oauthbearer.token.endpoint.url": (
        "https://idp/token",
        {"sasl.oauthbearer.token.endpoint.url": "https://idp/token"},
    ),
    "security.protocol": ("ssl", {"security.protocol": "SSL"}),
    "socket.connection.setup.timeout.ms": (10000, {"socket.connection.setup.timeout.ms": "10000"}),
    "ssl.endpoint.identification.algorithm": ("", {"ssl.endpoint.identification.algorithm": "none"}),
    "ssl.key.password": ("key-pass", {"ssl.key.password": "key-pass"}),
    "transaction.timeout.ms": (60000, {"transaction.timeout.ms": "60000"}),
    "buffer.memory": (33554432, {"queue.buffering.max.kbytes": "32768"}),
    "max.request.size": (1048576, {"message.max.bytes": "1048576"}),
    "receive.buffer.bytes": (-1, {"socket.receive.buffer.bytes": "0"}),
    "send.buffer.bytes": (131072, {"socket.send.buffer.bytes": "131072"}),
    "sasl.oauthbearer.assertion.template.file": (
        "/run/t.json",
        {"sasl.oauthbearer.assertion.jwt.template.file": "/run/t.json"},
    ),
}

# One sample per translated row: (a layer holding it, librdkafka's configuration from that layer).
TRANSLATE_EXAMPLES: dict[str, tuple[dict[str, object], dict[str, str]]] = {
    "sasl.mechanism": ({"sasl.mechanism": "scram-sha-256"}, {"sasl.mechanism": "SCRAM-SHA-256"}),
    "sasl.client.callback.handler.class": (
        {"sasl.client.callback.handler.class": "software.amazon.msk.auth.iam.IAMClientCallbackHandler"},
        {},
    ),
    "sasl.jaas.config": (
        {"sasl.jaas.config": SPEC_JAAS_LINE},
        {"sasl.username": "<Your Username>", "sasl.password": "<Your Password>"},
    ),
    "key.serializer": ({"key.serializer": f"{SERIALIZATION}.StringSerializer"}, {}),
    "value.serializer": ({"value.serializer": f"class {SERIALIZATION}.ByteArraySerializer"}, {}),
    "ssl.truststore.type": ({"ssl.truststore.type": "pem"}, {}),
    "ssl.truststore.location": (
        {"ssl.truststore.type": "PEM", "ssl.truststore.location": "/certs/ca.pem"},
        {"ssl.ca.location": "/certs/ca.pem"},
    ),
    "ssl.truststore.certificates": ({"ssl.truststore.certificates": CA_PEM_TEXT}, {"ssl.ca.pem": CA_PEM_TEXT}),
    "ssl.truststore.password": ({"ssl.truststore.password": "store-pass"}, {}),
    "ssl.keystore.type": ({"ssl.keystore.type": "pkcs12"}, {}),
    "ssl.keystore.location": (
        {"ssl.keystore.type": "PEM", "ssl.keystore.location": "/certs/client.pem"},
        {"ssl.certificate.location": "/certs/client.pem", "ssl.key.location": "/certs/client.pem"},
    ),
    "ssl.keystore.password": (
        {"ssl.keystore.type": "PKCS12", "ssl.keystore.location": "/certs/k.p12", "ssl.keystore.password": "pw"},
        {"ssl.keystore.location": "/certs/k.p12", "ssl.keystore.password": "pw"},
    ),
    "ssl.keystore.key": ({"ssl.keystore.key": KEY_PEM_TEXT}, {"ssl.key.pem": KEY_PEM_TEXT}),
    "ssl.keystore.certificate.chain": (
        {"ssl.keystore.certificate.chain": CA_PEM_TEXT},
        {"ssl.certificate.pem": CA_PEM_TEXT},
    ),
    "ssl.cipher.suites": (
        {"ssl.cipher.suites": "TLS_AES_256_GCM_SHA384, TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"},
        {"ssl.cipher.suites": "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"},
    ),
    "compression.gzip.level": (
        {"compression.type": "gzip", "compression.gzip.level": 9},
        {"compression.type": "gzip", "compression.level": "9"},
    ),
    "compression.lz4.level": ({"compression.lz4.level": "12"}, {"compression.level": "12"}),
    "compression.zstd.level": (
        {"compression.type": "lz4", "compression.zstd.level": 3},
        {"compression.type": "lz4"},
    ),
    "partitioner.class": (
        {"partitioner.class": "org.apache.kafka.clients.producer.internals.DefaultPartitioner"},
        {"partitioner": "murmur2_random"},
    ),
    "partitioner.ignore.keys": ({"partitioner.ignore.keys": "true"}, {"partitioner": "random"}),
    "sasl.login.callback.handler.class": (
        {
            "sasl.login.callback.handler.class": f"{OAUTH}.OAuthBearerLoginCallbackHandler",
            "sasl.oauthbearer.token.endpoint.url": "https://idp/token",
        },
        {"sasl.oauthbearer.method": "oidc", "sasl.oauthbearer.token.endpoint.url": "https://idp/token"},
    ),
    "sasl.oauthbearer.jwt.retriever.class": (
        {"sasl.oauthbearer.jwt.retriever.class": f"{OAUTH}.JwtBearerJwtRetriever"},
        {"sasl.oauthbearer.grant.type": "urn:ietf:params:oauth:grant-type:jwt-bearer"},
    ),
    "sasl.kerberos.kinit.cmd": (
        {"sasl.kerberos.kinit.cmd": "/usr/bin/kinit"},
        {
            "sasl.kerberos.kinit.cmd": '/usr/bin/kinit -R -t "%{sasl.kerberos.keytab}" -k %{sasl.kerberos.principal}'
            ' || /usr/bin/kinit -t "%{sasl.kerberos.keytab}" -k %{sasl.kerberos.principal}'
        },
    ),
    "key.serializer.encoding": ({"key.serializer.encoding": "UTF8"}, {}),
    "value.serializer.encoding": ({"value.serializer.encoding": "utf-8"}, {}),
    "serializer.encoding": ({"serializer.encoding": "UTF-8"}, {}),
}

# Outputs that name files: librdkafka only opens them when TLS is used, as the tests with real files below do.
NEEDS_REAL_FILES = {"ssl.truststore.certificates", "ssl.keystore.location", "ssl.keystore.key", "ssl.keystore.password"}
NEEDS_REAL_FILES |= {"ssl.keystore.certificate.chain"}


def rows(*outcomes: str) -> list[str]:
    return sorted(name for name, row in JAVA_PRODUCER_PROPERTIES.items() if row.outcome in outcomes)


_librdkafka_log = logging.getLogger("test_java_properties.librdkafka")
_librdkafka_log.addHandler(logging.NullHandler())
_librdkafka_log.propagate = False


def librdkafka_accepts(config: dict[str, str]) -> None:
    """Constructing a producer validates every name and value; nothing is sent (port 1 refuses)."""
    Producer({"bootstrap.servers": "127.0.0.1:1", **config, "logger": _librdkafka_log})


def jaas_line(password: str, quote: str = "'", module: str = PLAIN) -> str:
    escaped = password.replace("\\", "\\\\").replace(quote, "\\" + quote)
    return f"{module} required username='alice' password={quote}{escaped}{quote};"


# ---------------------------------------------------------------------------------------------------------------
# The table


def test_the_table_has_a_row_for_every_java_producer_property_and_nothing_unexplained():
    assert set(KAFKA_4_4_PRODUCER_PROPERTIES) - set(JAVA_PRODUCER_PROPERTIES) == set()
    extras = set(KAFKA_4_4_CONSUMER_ONLY_PROPERTIES) | set(STRING_SERIALIZER_OPTIONS)
    assert set(JAVA_PRODUCER_PROPERTIES) == set(KAFKA_4_4_PRODUCER_PROPERTIES) | extras


def test_every_row_has_a_decided_outcome():
    assert {row.outcome for row in JAVA_PRODUCER_PROPERTIES.values()} == {PASS, RENAME, TRANSLATE, DROP, REJECT}
    for name, row in JAVA_PRODUCER_PROPERTIES.items():
        if row.outcome in (DROP, REJECT):
            assert row.reason, name
        if row.outcome == RENAME:
            assert row.librdkafka_name not in ("", name), name
        if row.outcome == TRANSLATE:
            assert row.translator is not None, name


def test_every_pass_and_rename_row_has_a_concrete_example():
    assert set(PASS_AND_RENAME_EXAMPLES) == set(rows(PASS, RENAME))


def test_every_translated_row_has_a_concrete_example():
    assert set(TRANSLATE_EXAMPLES) == set(rows(TRANSLATE))


@pytest.mark.parametrize("name", rows(PASS, RENAME))
def test_pass_and_rename_rows_give_the_expected_librdkafka_setting(name):
    given, expected = PASS_AND_RENAME_EXAMPLES[name]
    assert translate_properties({name: given}) == expected


@pytest.mark.parametrize("name", rows(PASS, RENAME))
def test_librdkafka_accepts_the_name_and_value_of_every_pass_and_rename_row(name):
    given, _ = PASS_AND_RENAME_EXAMPLES[name]
    librdkafka_accepts(translate_properties({name: given}))


@pytest.mark.parametrize("name", rows(PASS, RENAME))
def test_pass_and_rename_rows_name_a_librdkafka_producer_property(name):
    row = JAVA_PRODUCER_PROPERTIES[name]
    assert (row.librdkafka_name or name) in LIBRDKAFKA_PRODUCER_PROPERTIES


@pytest.mark.parametrize("name", rows(TRANSLATE))
def test_translated_rows_give_the_expected_librdkafka_settings(name):
    layer, expected = TRANSLATE_EXAMPLES[name]
    assert translate_properties(layer) == expected


@pytest.mark.parametrize("name", sorted(set(rows(TRANSLATE)) - NEEDS_REAL_FILES))
def test_librdkafka_accepts_what_translated_rows_give(name):
    layer, _ = TRANSLATE_EXAMPLES[name]
    librdkafka_accepts(translate_properties(layer))


@pytest.mark.parametrize("name", rows(DROP))
def test_dropped_rows_give_nothing_and_warn_once_by_name(name, caplog):
    with caplog.at_level(logging.WARNING):
        assert translate_properties({name: "anything"}) == {}
    warnings = [record.getMessage() for record in caplog.records if record.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert f"{name!r} is ignored" in warnings[0]


@pytest.mark.parametrize("name", rows(REJECT))
def test_rejected_rows_raise_naming_the_property_and_an_alternative(name):
    with pytest.raises(ProducerConfigError, match=re.escape(repr(name))) as error:
        translate_properties({name: "x"})
    assert len(str(error.value)) > len(repr(name)) + 40


def test_librdkafka_itself_rejects_the_names_the_table_does_not_pass_on():
    for name in rows(RENAME, DROP, REJECT):
        if name in KAFKA_4_4_PRODUCER_PROPERTIES and name not in LIBRDKAFKA_PRODUCER_PROPERTIES:
            with pytest.raises(Exception, match="configuration|not supported"):
                librdkafka_accepts({name: "1"})


def test_aliases_lead_to_rows_that_pass_the_value_on():
    for alias, name in LIBRDKAFKA_ALIASES.items():
        row = JAVA_PRODUCER_PROPERTIES[name]
        assert row.outcome == PASS or (row.outcome == TRANSLATE and row.value is not None), alias
        assert alias in LIBRDKAFKA_PRODUCER_PROPERTIES


# ---------------------------------------------------------------------------------------------------------------
# Values


@pytest.mark.parametrize(
    "given, expected", [(-1, "all"), ("-1", "all"), ("all", "all"), ("ALL", "all"), (0, "0"), ("1", "1"), (1, "1")]
)
def test_acks_values_are_normalised(given, expected):
    assert translate_properties({"acks": given}) == {"acks": expected}


@pytest.mark.parametrize("given", [2, "2", "none", True, None])
def test_acks_outside_java_values_is_an_error(given):
    with pytest.raises(ProducerConfigError, match="'acks' must be all, -1, 0 or 1"):
        translate_properties({"acks": given})


def test_librdkafka_alias_values_follow_the_java_row():
    assert translate_properties({"request.required.acks": "-1"}) == {"acks": "all"}
    assert translate_properties({"metadata.broker.list": "a:1, b:2"}) == {"bootstrap.servers": "a:1,b:2"}
    with pytest.raises(ProducerConfigError, match="'message.timeout.ms' must be a whole number"):
        translate_properties({"message.timeout.ms": "soon"})


@pytest.mark.parametrize("given, expected", [(True, "true"), ("TRUE", "true"), (" true ", "true"), ("False", "false")])
def test_booleans_are_normalised(given, expected):
    assert translate_properties({"enable.idempotence": given}) == {"enable.idempotence": expected}


@pytest.mark.parametrize("given", ["yes", 1, "1", None])
def test_a_boolean_property_takes_only_true_or_false(given):
    with pytest.raises(ProducerConfigError, match="'enable.idempotence' must be true or false"):
        translate_properties({"enable.idempotence": given})


@pytest.mark.parametrize("given", ["soon", "45s", 1.5, True, None, "1e3"])
def test_durations_and_sizes_must_be_whole_numbers(given):
    with pytest.raises(ProducerConfigError, match="'delivery.timeout.ms' must be a whole number"):
        translate_properties({"delivery.timeout.ms": given})


@pytest.mark.parametrize(
    "given",
    [
        "broker1:9092,broker2:9092",
        " broker1:9092 , broker2:9092 ,",
        ["broker1:9092", "broker2:9092"],
        ("broker1:9092 ", "broker2:9092"),
    ],
)
def test_bootstrap_servers_lists_are_normalised(given):
    assert translate_properties({"bootstrap.servers": given}) == {"bootstrap.servers": "broker1:9092,broker2:9092"}


def test_bootstrap_servers_of_another_type_is_an_error():
    with pytest.raises(ProducerConfigError, match="'bootstrap.servers' must be 'host:port,host:port'"):
        translate_properties({"bootstrap.servers": {"host": "b"}})


@pytest.mark.parametrize("given, expected", [("https", "https"), ("HTTPS", "https"), ("", "none"), ("none", "none")])
def test_endpoint_identification_uses_librdkafka_values(given, expected):
    assert translate_properties({"ssl.endpoint.identification.algorithm": given}) == {
        "ssl.endpoint.identification.algorithm": expected
    }


def test_buffer_memory_rounds_up_to_whole_kibibytes():
    assert translate_properties({"buffer.memory": 1025}) == {"queue.buffering.max.kbytes": "2"}
    assert translate_properties({"buffer.memory": 0}) == {"queue.buffering.max.kbytes": "1"}


def test_batch_size_zero_is_an_error_that_says_how_to_disable_batching():
    with pytest.raises(ProducerConfigError, match="'batch.num.messages': 1"):
        translate_properties({"batch.size": 0})


def test_enumerated_values_are_checked():
    with pytest.raises(ProducerConfigError, match="'security.protocol' must be one of PLAINTEXT, SSL"):
        translate_properties({"security.protocol": "TLS"})
    with pytest.raises(ProducerConfigError, match="'compression.type' must be one of none, gzip"):
        translate_properties({"compression.type": "brotli"})


def test_native_librdkafka_names_pass_unchanged():
    native = {"queue.buffering.max.messages": 10, "ssl.ca.location": "/c/ca.pem", "partitioner": "random"}
    assert translate_properties(native) == {
        "queue.buffering.max.messages": "10",
        "ssl.ca.location": "/c/ca.pem",
        "partitioner": "random",
    }


def test_names_are_stripped():
    assert translate_properties({" client.id ": "x"}) == {"client.id": "x"}


# ---------------------------------------------------------------------------------------------------------------
# Clashes inside a layer, and layers


@pytest.mark.parametrize(
    "layer, first, second",
    [
        ({"max.request.size": 2000000, "message.max.bytes": 3000000}, "max.request.size", "message.max.bytes"),
        ({"delivery.timeout.ms": 1, "message.timeout.ms": 2}, "delivery.timeout.ms", "message.timeout.ms"),
        ({"sasl.oauthbearer.client.id": "a", "sasl.oauthbearer.client.credentials.client.id": "b"}, None, None),
        ({"sasl.jaas.config": SPEC_JAAS_LINE, "sasl.password": "other"}, "sasl.jaas.config", "sasl.password"),
        ({"partitioner.ignore.keys": True, "partitioner": "murmur2"}, "partitioner.ignore.keys", "partitioner"),
        (
            {"ssl.truststore.type": "PEM", "ssl.truststore.location": "/a.pem", "ssl.ca.location": "/b.pem"},
            "ssl.truststore.location",
            "ssl.ca.location",
        ),
    ],
)
def test_a_java_name_and_its_librdkafka_counterpart_in_one_layer_is_an_error_naming_both(layer, first, second):
    with pytest.raises(ProducerConfigError, match="twice") as error:
        translate_properties(layer)
    names = [first, second] if first else list(layer)
    assert all(repr(name) in str(error.value) for name in names)


def test_the_later_layer_wins_between_a_java_name_and_its_librdkafka_counterpart():
    connection = ConnectionSettings("kafka", host="127.0.0.1:1")
    config = build_producer_config(connection, {"max.request.size": 2000000}, {"message.max.bytes": 3000000})
    assert config["message.max.bytes"] == "3000000"
    assert "max.request.size" not in config
    config = build_producer_config(connection, {"message.max.bytes": 3000000}, {"max.request.size": 2000000})
    assert config["message.max.bytes"] == "2000000"


def test_a_jaas_line_in_additional_properties_overrides_the_connection_credentials():
    connection = ConnectionSettings("kafka", host="127.0.0.1:1", login="alice", password="from-connection")
    config = build_producer_config(connection, {"sasl.jaas.config": jaas_line("from-jaas", module=SCRAM)})
    assert (config["sasl.username"], config["sasl.password"]) == ("alice", "from-jaas")


def test_the_spec_defaults_written_in_java_form_make_a_configuration_librdkafka_accepts(caplog):
    spec_properties = {
        "sasl.jaas.config": SPEC_JAAS_LINE,
        "security.protocol": "SASL_SSL",
        "sasl.mechanism": "PLAIN",
        "bootstrap.servers": "127.0.0.1:1",
        "key.serializer": f"{SERIALIZATION}.StringSerializer",
        "value.serializer": f"{SERIALIZATION}.StringSerializer",
        "session.timeout.ms": "45000",
        "client.dns.lookup": "use_all_dns_ips",
        "acks": "all",
        "delivery.timeout.ms": "45000",
    }
    with caplog.at_level(logging.WARNING):
        config = build_producer_config(ConnectionSettings("kafka"), spec_properties)
    assert config == {
        **MISCELLANEOUS_DEFAULTS,
        "bootstrap.servers": "127.0.0.1:1",
        "client.dns.lookup": "use_all_dns_ips",
        "acks": "all",
        "delivery.timeout.ms": "45000",
        "sasl.username": "<Your Username>",
        "sasl.password": "<Your Password>",
        "security.protocol": "SASL_SSL",
        "sasl.mechanism": "PLAIN",
        "enable.sparse.connections": "true",
    }
    assert "'session.timeout.ms' is ignored" in caplog.text
    librdkafka_accepts(config)


def test_the_spec_scram_example_in_java_form():
    config = translate_properties(
        {"sasl.jaas.config": jaas_line("s3cret", module=SCRAM), "sasl.mechanism": "SCRAM-SHA-256", "client.id": "c"}
    )
    assert config == {
        "sasl.username": "alice",
        "sasl.password": "s3cret",
        "sasl.mechanism": "SCRAM-SHA-256",
        "client.id": "c",
    }
    librdkafka_accepts({**config, "security.protocol": "SASL_PLAINTEXT"})


# ---------------------------------------------------------------------------------------------------------------
# sasl.jaas.config


def test_the_spec_jaas_line_with_its_runs_of_spaces():
    [entry] = parse_jaas_config(SPEC_JAAS_LINE)
    assert entry.login_module == PLAIN
    assert entry.control_flag == "required"
    assert entry.options == {"username": "<Your Username>", "password": "<Your Password>"}


TRICKY_PASSWORDS = [
    "it's",
    'say "hi"',
    "back\\slash",
    "ends with a backslash \\",
    "with  spaces",
    "semi;colon;",
    "eq=ual=",
    "é€ü 漢字",
    "/not // a /* comment */",
    "'\"\\;= all at once",
    "",
]


@pytest.mark.parametrize("quote", ["'", '"'])
@pytest.mark.parametrize("password", TRICKY_PASSWORDS)
def test_quoted_passwords_come_back_exactly(password, quote):
    config = translate_properties({"sasl.jaas.config": jaas_line(password, quote)})
    assert config == {"sasl.username": "alice", "sasl.password": password}


@pytest.mark.parametrize(
    "line, options",
    [
        (
            f"{PLAIN} required username=alice password=s3cret-word_$.1;",
            {"username": "alice", "password": "s3cret-word_$.1"},
        ),
        (f"{PLAIN} REQUIRED username='a' password='b' ;", {"username": "a", "password": "b"}),
        (f"{PLAIN}\n  required\n  username='a'\n  password='b';\n", {"username": "a", "password": "b"}),
        (f"{PLAIN} required /* note */ username='a' // note\n password='b';", {"username": "a", "password": "b"}),
        (f'{PLAIN} required username="a" password="\\101\\t\\n\\q";', {"username": "a", "password": "A\t\nq"}),
        (f"{PLAIN} required username='a' password='b' password='c';", {"username": "a", "password": "c"}),
        (f"{PLAIN} required username=é€ password=漢字;", {"username": "é€", "password": "漢字"}),
        (f"'{PLAIN}' 'required' username = 'a' password = 'b';", {"username": "a", "password": "b"}),
    ],
)
def test_jaas_lines_are_read_as_kafka_reads_them(line, options):
    [entry] = parse_jaas_config(line)
    assert entry.options == options


SECRET = "Zq9#Xv7;Wk=é€"


@pytest.mark.parametrize(
    "line, message",
    [
        (f"{PLAIN} required username='alice' password='{SECRET}", "quoted value is not closed"),
        (f"{PLAIN} required username='alice' password='{SECRET}\n';", "quoted value is not closed"),
        (f"{PLAIN} required username=alice password=Zq9 Xv7Wk;", "must be quoted"),
        (f"{PLAIN} required username=alice password=9Zq9Xv7Wk;", "must be quoted"),
        (f"{PLAIN} required username=alice password=Zq9<Xv7Wk;", "must be quoted"),
        (f"{PLAIN} required username=alice password;", "key=value"),
        (f"{PLAIN} required username='alice' password='{SECRET}'", "does not end with ';'"),
        (f"{PLAIN} username='alice' password='{SECRET}';", "control flag"),
        (f"{PLAIN}", "no control flag"),
        (f"{jaas_line(SECRET)} {jaas_line(SECRET)}", "2 login modules"),
        (f"{PLAIN} required username='alice';", "no password option"),
        (f"{PLAIN} required password='{SECRET}';", "no username option"),
        (f"{SCRAM} required username='alice' password='{SECRET}' tokenauth=true;", "delegation token"),
        (f"{OAUTH}.OAuthBearerLoginModule required note='{SECRET}';", "unsigned (unsecured)"),
        (f"{OAUTH}.OAuthBearerLoginModule required unsecuredLoginStringClaim_sub='{SECRET}';", "only a test broker"),
        ("com.sun.security.auth.module.Krb5LoginModule required keyTab='/k' principal='me';", "sasl.kerberos.keytab"),
        (f"com.example.CustomLoginModule required password='{SECRET}';", "'CustomLoginModule'"),
        ("", "names no login module"),
        (f"'{SECRET}' required;", "its login module"),
    ],
)
def test_jaas_errors_explain_and_never_show_the_password(line, message, caplog):
    with caplog.at_level(logging.DEBUG), pytest.raises(ProducerConfigError, match=re.escape(message)) as error:
        translate_properties({"sasl.jaas.config": line})
    text = str(error.value) + caplog.text
    assert not any(SECRET[start : start + 3] in text for start in range(len(SECRET) - 2))
    assert "Zq9" not in text and "Xv7" not in text
    assert error.value.__cause__ is None
    assert error.value.__context__ is None or error.value.__suppress_context__


# The client-credentials login as hosted Kafka services document it for the Java client (KIP-768).
OAUTH_HANDLER = f"{OAUTH}.OAuthBearerLoginCallbackHandler"
OAUTH_LINE = f"{OAUTH}.OAuthBearerLoginModule required clientId='airflow' clientSecret='{SECRET}' scope='kafka';"
OAUTH_LIBRDKAFKA = {
    "sasl.oauthbearer.method": "oidc",
    "sasl.oauthbearer.client.credentials.client.id": "airflow",
    "sasl.oauthbearer.client.credentials.client.secret": SECRET,
    "sasl.oauthbearer.scope": "kafka",
}


@pytest.mark.parametrize("handler", [OAUTH_HANDLER, f"{OAUTH}.secured.OAuthBearerLoginCallbackHandler", None])
def test_an_oauth_jaas_line_becomes_librdkafkas_oidc_login(handler):
    layer = {
        "sasl.mechanism": "OAUTHBEARER",
        "sasl.oauthbearer.token.endpoint.url": "https://idp.example.com/oauth2/token",
        "sasl.jaas.config": OAUTH_LINE,
    }
    if handler:
        layer["sasl.login.callback.handler.class"] = handler
    assert translate_properties(layer) == {
        "sasl.mechanism": "OAUTHBEARER",
        "sasl.oauthbearer.token.endpoint.url": "https://idp.example.com/oauth2/token",
        **OAUTH_LIBRDKAFKA,
    }


def test_an_oauth_jaas_line_gives_its_extensions_and_takes_the_client_id_from_its_own_property():
    line = f"{OAUTH}.OAuthBearerLoginModule required clientSecret='{SECRET}' extension_logicalCluster='lkc-1';"
    layer = {
        "sasl.login.callback.handler.class": OAUTH_HANDLER,
        "sasl.oauthbearer.token.endpoint.url": "https://idp/token",
        "sasl.oauthbearer.client.id": "airflow",
        "sasl.jaas.config": line,
    }
    config = translate_properties(layer)
    assert config["sasl.oauthbearer.client.credentials.client.id"] == "airflow"
    assert config["sasl.oauthbearer.client.credentials.client.secret"] == SECRET
    assert config["sasl.oauthbearer.extensions"] == "logicalCluster=lkc-1"


def test_an_oauth_jaas_line_and_librdkafkas_method_together_set_the_method_once():
    layer = {
        "sasl.oauthbearer.method": "oidc",
        "sasl.oauthbearer.token.endpoint.url": "u",
        "sasl.jaas.config": OAUTH_LINE,
    }
    assert translate_properties(layer)["sasl.oauthbearer.method"] == "oidc"


def test_an_oauth_jaas_line_and_a_client_secret_property_are_one_secret_set_twice():
    layer = {
        "sasl.oauthbearer.token.endpoint.url": "u",
        "sasl.oauthbearer.client.secret": SECRET,
        "sasl.jaas.config": OAUTH_LINE,
    }
    with pytest.raises(ProducerConfigError, match="set 'sasl.oauthbearer.client.credentials.client.secret' twice") as e:
        translate_properties(layer)
    assert "Zq9" not in str(e.value)


def test_an_oauth_jaas_line_in_a_task_takes_the_endpoint_from_the_connection_and_warns_of_unknown_options(caplog):
    connection = {"sasl.login.callback.handler.class": OAUTH_HANDLER, "sasl.oauthbearer.token.endpoint.url": "u"}
    line = f"{OAUTH}.OAuthBearerLoginModule required clientId='airflow' clientSecret='{SECRET}' note='{SECRET}';"
    with caplog.at_level(logging.DEBUG):
        task = translate_properties({"sasl.jaas.config": line})
    assert task == {
        "sasl.oauthbearer.client.credentials.client.id": "airflow",
        "sasl.oauthbearer.client.credentials.client.secret": SECRET,
        "sasl.oauthbearer.method": "oidc",
    }
    assert translate_properties(connection)["sasl.oauthbearer.method"] == "oidc"
    assert "1 OAuthBearerLoginModule option(s) ignored" in caplog.text and "Zq9" not in caplog.text


def test_librdkafka_names_what_an_oauth_jaas_line_without_a_client_secret_lacks():
    layer = {
        "sasl.mechanism": "OAUTHBEARER",
        "sasl.oauthbearer.token.endpoint.url": "http://idp/token",
        "sasl.jaas.config": f"{OAUTH}.OAuthBearerLoginModule required clientId='airflow';",
    }
    with pytest.raises(KafkaException, match="`sasl.oauthbearer.client.secret` is mandatory"):
        Producer({"security.protocol": "SASL_SSL", **translate_properties(layer)})


def test_the_translated_client_secret_is_a_secret():
    layer = {"sasl.oauthbearer.token.endpoint.url": "u", "sasl.jaas.config": OAUTH_LINE}
    config = translate_properties(layer)
    assert SECRET in secret_values(config)
    assert SECRET not in str(redacted(config))


def test_jaas_options_other_than_the_credentials_are_ignored_with_a_warning_that_shows_none_of_them(caplog):
    line = f"{PLAIN} required username='alice' password='{SECRET}' user_alice='{SECRET}';"
    with caplog.at_level(logging.WARNING):
        assert translate_properties({"sasl.jaas.config": line})["sasl.password"] == SECRET
    assert "1 other option(s) ignored" in caplog.text
    assert "user_alice" not in caplog.text and "Zq9" not in caplog.text


def test_a_scram_jaas_line_beside_a_plain_mechanism_still_gives_the_credentials():
    layer = {"sasl.mechanism": "PLAIN", "sasl.jaas.config": jaas_line("pw", module=SCRAM)}
    assert translate_properties(layer) == {"sasl.mechanism": "PLAIN", "sasl.username": "alice", "sasl.password": "pw"}


def test_a_jaas_value_that_is_not_text_is_an_error():
    with pytest.raises(ProducerConfigError, match="must be a JAAS line as text"):
        translate_properties({"sasl.jaas.config": ["x"]})


# ---------------------------------------------------------------------------------------------------------------
# Serializers


@pytest.mark.parametrize("name", ["key.serializer", "value.serializer"])
@pytest.mark.parametrize("serializer", ["StringSerializer", "ByteArraySerializer"])
def test_string_and_byte_array_serializers_need_no_librdkafka_property(name, serializer):
    assert translate_properties({name: f"{SERIALIZATION}.{serializer}"}) == {}


@pytest.mark.parametrize(
    "serializer", [f"{SERIALIZATION}.LongSerializer", "io.confluent.kafka.serializers.KafkaAvroSerializer"]
)
def test_other_serializers_are_an_error_that_says_the_operator_serializes(serializer):
    with pytest.raises(ProducerConfigError, match="serializes messages itself") as error:
        translate_properties({"value.serializer": serializer})
    assert serializer in str(error.value)
    assert "give the operator value_schema or key_schema" in str(error.value)


def test_a_string_serializer_encoding_other_than_utf8_is_an_error():
    with pytest.raises(ProducerConfigError, match="must be UTF-8"):
        translate_properties({"value.serializer.encoding": "ISO-8859-1"})


# ---------------------------------------------------------------------------------------------------------------
# TLS stores, against real files


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.serialization import pkcs12
    from cryptography.x509.oid import NameOID

    folder = tmp_path_factory.mktemp("tls")
    now = datetime.now(timezone.utc)

    def certificate(subject, key, issuer, issuer_key, is_ca):
        return (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
            .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(minutes=1))
            .not_valid_after(now + timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=is_ca, path_length=None), critical=True)
            .sign(issuer_key, hashes.SHA256())
        )

    ca_key, client_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca = certificate("test-ca", ca_key, "test-ca", ca_key, True)
    client = certificate("client", client_key, "test-ca", ca_key, False)
    ca_pem = ca.public_bytes(serialization.Encoding.PEM).decode()
    client_pem = client.public_bytes(serialization.Encoding.PEM).decode()
    key_pem = client_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    files = {
        "ca.pem": ca_pem,
        "keystore.pem": key_pem + client_pem + ca_pem,  # as Kafka's PEM keystore: key and chain in one file
    }
    for name, text in files.items():
        (folder / name).write_text(text)
    (folder / "keystore.p12").write_bytes(
        pkcs12.serialize_key_and_certificates(
            b"client", client_key, client, [ca], serialization.BestAvailableEncryption(b"store-pass")
        )
    )
    return {"folder": folder, "ca_pem": ca_pem, "client_pem": client_pem, "key_pem": key_pem}


def test_a_pem_truststore_file_becomes_the_ca_location_librdkafka_loads(tls_files):
    location = str(tls_files["folder"] / "ca.pem")
    config = translate_properties(
        {"security.protocol": "SSL", "ssl.truststore.type": "PEM", "ssl.truststore.location": location}
    )
    assert config == {"security.protocol": "SSL", "ssl.ca.location": location}
    librdkafka_accepts(config)


def test_pem_truststore_certificates_become_the_ca_pem_librdkafka_loads(tls_files):
    config = translate_properties(
        {"security.protocol": "SSL", "ssl.truststore.type": "PEM", "ssl.truststore.certificates": tls_files["ca_pem"]}
    )
    assert config["ssl.ca.pem"] == tls_files["ca_pem"]
    librdkafka_accepts(config)


def test_a_pem_keystore_file_gives_librdkafka_the_key_and_the_chain_from_one_file(tls_files):
    location = str(tls_files["folder"] / "keystore.pem")
    config = translate_properties(
        {"security.protocol": "SSL", "ssl.keystore.type": "PEM", "ssl.keystore.location": location}
    )
    assert config["ssl.key.location"] == config["ssl.certificate.location"] == location
    librdkafka_accepts(config)


def test_a_pem_keystore_key_and_chain_as_text(tls_files):
    config = translate_properties(
        {
            "security.protocol": "SSL",
            "ssl.keystore.type": "PEM",
            "ssl.keystore.key": tls_files["key_pem"],
            "ssl.keystore.certificate.chain": tls_files["client_pem"] + tls_files["ca_pem"],
        }
    )
    assert config["ssl.key.pem"] == tls_files["key_pem"]
    librdkafka_accepts(config)


@pytest.mark.parametrize("store_type", ["PKCS12", None])
def test_a_pkcs12_keystore_is_librdkafkas_own_keystore(tls_files, store_type):
    layer = {
        "security.protocol": "SSL",
        "ssl.keystore.location": str(tls_files["folder"] / "keystore.p12"),
        "ssl.keystore.password": "store-pass",
    }
    if store_type:
        layer["ssl.keystore.type"] = store_type
    config = translate_properties(layer)
    assert config["ssl.keystore.password"] == "store-pass"
    librdkafka_accepts(config)


@pytest.mark.parametrize("store_type", ["JKS", "PKCS12", None])
def test_a_java_truststore_is_an_error_with_the_command_that_exports_a_pem_ca(store_type):
    layer = {"ssl.truststore.location": "/certs/truststore.jks", "ssl.truststore.password": "store-pass"}
    if store_type:
        layer["ssl.truststore.type"] = store_type
    with pytest.raises(ProducerConfigError, match="keytool -list -rfc -keystore /certs/truststore.jks") as error:
        translate_properties(layer)
    assert "'ssl.ca.location'" in str(error.value)
    assert "store-pass" not in str(error.value)


def test_a_jks_keystore_is_an_error_with_the_command_that_converts_it():
    layer = {"ssl.keystore.type": "JKS", "ssl.keystore.location": "/certs/k.jks", "ssl.keystore.password": "pw-x"}
    with pytest.raises(ProducerConfigError, match="keytool -importkeystore -srckeystore /certs/k.jks") as error:
        translate_properties(layer)
    assert "pw-x" not in str(error.value)


def test_a_pem_keystore_with_a_store_password_is_an_error_pointing_to_the_key_password():
    layer = {"ssl.keystore.type": "PEM", "ssl.keystore.location": "/c/k.pem", "ssl.keystore.password": "pw"}
    with pytest.raises(ProducerConfigError, match="'ssl.key.password'"):
        translate_properties(layer)


def test_pem_text_with_a_non_pem_store_type_is_an_error():
    with pytest.raises(ProducerConfigError, match="set 'ssl.truststore.type' to PEM"):
        translate_properties({"ssl.truststore.type": "JKS", "ssl.truststore.certificates": CA_PEM_TEXT})
    with pytest.raises(ProducerConfigError, match="set 'ssl.keystore.type' to PEM"):
        translate_properties({"ssl.keystore.type": "PKCS12", "ssl.keystore.key": KEY_PEM_TEXT})


def test_a_truststore_location_and_certificates_together_is_an_error():
    layer = {"ssl.truststore.type": "PEM", "ssl.truststore.location": "/a", "ssl.truststore.certificates": CA_PEM_TEXT}
    with pytest.raises(ProducerConfigError, match="keep one"):
        translate_properties(layer)


def test_an_unknown_store_type_is_an_error():
    with pytest.raises(ProducerConfigError, match="'ssl.truststore.type' must be one of JKS, PKCS12, PEM"):
        translate_properties({"ssl.truststore.type": "BCFKS"})


def test_a_pem_truststore_password_is_ignored_with_a_warning(caplog):
    layer = {"ssl.truststore.type": "PEM", "ssl.truststore.location": "/a.pem", "ssl.truststore.password": "pw-y"}
    with caplog.at_level(logging.WARNING):
        assert translate_properties(layer) == {"ssl.ca.location": "/a.pem"}
    assert "a PEM truststore has no password" in caplog.text
    assert "pw-y" not in caplog.text


def test_an_empty_cipher_list_and_a_tls13_only_list_leave_openssl_defaults(caplog):
    assert translate_properties({"ssl.cipher.suites": ""}) == {}
    with caplog.at_level(logging.WARNING):
        assert translate_properties({"ssl.cipher.suites": ["TLS_AES_128_GCM_SHA256"]}) == {}
    assert "TLS 1.3 suites are left out" in caplog.text


def test_cipher_suites_librdkafka_loads_with_tls():
    config = translate_properties(
        {"security.protocol": "SSL", "ssl.cipher.suites": "ECDHE-RSA-AES128-GCM-SHA256, TLS_AES_128_GCM_SHA256"}
    )
    assert config["ssl.cipher.suites"] == "ECDHE-RSA-AES128-GCM-SHA256"
    librdkafka_accepts(config)


# ---------------------------------------------------------------------------------------------------------------
# Compression, partitioning, OAuth, Kerberos


def test_two_compression_levels_without_a_compression_type_clash():
    with pytest.raises(ProducerConfigError, match="'compression.level' twice"):
        translate_properties({"compression.gzip.level": 5, "compression.zstd.level": 3})


def test_the_level_of_the_chosen_codec_is_kept_and_the_other_dropped(caplog):
    layer = {"compression.codec": "zstd", "compression.gzip.level": 5, "compression.zstd.level": 3}
    with caplog.at_level(logging.WARNING):
        assert translate_properties(layer) == {"compression.type": "zstd", "compression.level": "3"}
    assert "'compression.gzip.level' is ignored" in caplog.text


@pytest.mark.parametrize(
    "java_class, partitioner",
    [
        ("org.apache.kafka.clients.producer.internals.DefaultPartitioner", "murmur2_random"),
        ("org.apache.kafka.clients.producer.UniformStickyPartitioner", "random"),
    ],
)
def test_built_in_java_partitioners_become_librdkafkas(java_class, partitioner):
    assert translate_properties({"partitioner.class": java_class}) == {"partitioner": partitioner}


@pytest.mark.parametrize(
    "java_class, message",
    [
        ("org.apache.kafka.clients.producer.RoundRobinPartitioner", "no round-robin partitioner"),
        ("com.example.MyPartitioner", "murmur2_random (Java's default"),
    ],
)
def test_other_partitioner_classes_are_an_error_listing_librdkafkas(java_class, message):
    with pytest.raises(ProducerConfigError, match=re.escape(message)):
        translate_properties({"partitioner.class": java_class})


def test_class_properties_left_at_java_default_give_nothing():
    layer = {"partitioner.class": None, "sasl.login.callback.handler.class": "", "partitioner.ignore.keys": False}
    assert translate_properties(layer) == {}


def test_the_java_oauth_client_credentials_setup_without_jaas_becomes_librdkafkas_oidc():
    config = translate_properties(
        {
            "security.protocol": "SASL_SSL",
            "sasl.mechanism": "OAUTHBEARER",
            "sasl.login.callback.handler.class": f"{OAUTH}.OAuthBearerLoginCallbackHandler",
            "sasl.oauthbearer.token.endpoint.url": "https://idp.example/token",
            "sasl.oauthbearer.client.credentials.client.id": "me",
            "sasl.oauthbearer.client.credentials.client.secret": "s3cret",
            "sasl.oauthbearer.scope": "kafka",
        }
    )
    assert config["sasl.oauthbearer.method"] == "oidc"
    librdkafka_accepts(config)


@pytest.mark.parametrize("name", ["sasl.login.callback.handler.class", "sasl.oauthbearer.jwt.retriever.class"])
def test_other_oauth_classes_are_an_error(name):
    with pytest.raises(ProducerConfigError, match=re.escape(repr(name))):
        translate_properties({name: f"{OAUTH}.FileJwtRetriever"})


def test_a_librdkafka_kinit_command_passes_unchanged():
    command = "kinit -k -t /etc/k.keytab me@EXAMPLE"
    assert translate_properties({"sasl.kerberos.kinit.cmd": command}) == {"sasl.kerberos.kinit.cmd": command}


# ---------------------------------------------------------------------------------------------------------------
# Unknown names


@pytest.mark.parametrize(
    "name, suggestion",
    [
        ("bootstrap.server", "'bootstrap.servers'"),
        ("sasl.usernme", "'sasl.username'"),
        ("max.request.sizes", "'max.request.size'"),
        ("ssl.truststore.locaton", "'ssl.truststore.location'"),
    ],
)
def test_unknown_names_get_the_closest_known_names(name, suggestion):
    message = unknown_property_message(name)
    assert message.startswith(f"{name!r} is neither a librdkafka producer property nor a Java client property")
    assert f"Did you mean {suggestion}" in message or f"or {suggestion}" in message
    assert "CONFIGURATION.md" in message


def test_an_unknown_name_like_nothing_gets_no_suggestion():
    assert "Did you mean" not in unknown_property_message("zzzz")


def test_the_librdkafka_name_list_matches_the_installed_librdkafka():
    for name in sorted(LIBRDKAFKA_PRODUCER_PROPERTIES - {"builtin.features", "internal.termination.signal"}):
        try:
            librdkafka_accepts({name: "x"})
        except Exception as error:  # a bad value is fine; an unknown name is not
            assert "No such configuration property" not in str(error), name
