import logging
import time
import uuid

import pytest

from airflow_provider_kafka_connector.config import (
    ConnectionSettings,
    ProducerConfigError,
    bootstrap_servers,
    build_producer_config,
    build_registry_config,
    delivery_timeout_seconds,
    normalize_properties,
)
from airflow_provider_kafka_connector.exceptions import KafkaConfigurationError
from airflow_provider_kafka_connector.policy import PropertyPolicy

WITH_CREDENTIALS = ConnectionSettings("kafka", host="broker1:9092,broker2:9092", login="alice", password="s3cret")


def test_connection_without_credentials_configures_no_security():
    config = build_producer_config(ConnectionSettings("kafka", host="broker:9092"))
    assert config["bootstrap.servers"] == "broker:9092"
    assert not {"security.protocol", "sasl.mechanism", "sasl.username", "sasl.password"} & config.keys()


def test_the_spec_miscellaneous_properties_apply_to_the_producer():
    config = build_producer_config(ConnectionSettings("kafka", host="b:1"))
    # Every replica acknowledges, within the spec's 45 s, and every address of a host name is tried.
    assert config["acks"] == "all"
    assert delivery_timeout_seconds(config) == 45
    assert config["client.dns.lookup"] == "use_all_dns_ips"
    # session.timeout.ms is a consumer setting: a producer refuses it, so it is left out.
    assert "session.timeout.ms" not in config


@pytest.mark.parametrize(
    "layers",
    [
        (),
        ({"acks": "1"},),
        ({"acks": 0},),
        ({"enable.idempotence": False},),
        ({"linger.ms": 5, "client.id": "c"}, {"acks": "all"}),
        ({"retries": 0},),
        ({"max.in.flight.requests.per.connection": 10},),
        ({"max.in.flight": 6},),
        ({"enable.idempotence": True, "max.in.flight.requests.per.connection": 5, "retries": 1},),
        ({"enable.sparse.connections": False},),
    ],
)
def test_the_configuration_is_one_librdkafka_accepts(layers):
    from confluent_kafka import Producer

    Producer(dict(build_producer_config(WITH_CREDENTIALS, *layers))).flush(0)


@pytest.mark.parametrize(
    "conflict, named",
    [({"acks": "1"}, "acks"), ({"retries": 0}, "retries"), ({"max.in.flight.requests.per.connection": 6}, "in.flight")],
)
def test_idempotence_with_a_conflicting_setting_is_what_librdkafka_refuses(conflict, named):
    # Why these settings turn the default idempotence off: librdkafka refuses each combination.
    from confluent_kafka import KafkaException, Producer

    config = {**build_producer_config(WITH_CREDENTIALS), **normalize_properties(conflict)}
    assert config["enable.idempotence"] == "true"
    with pytest.raises(KafkaException, match=named):
        Producer(config)


@pytest.mark.broker
def test_a_message_to_a_missing_topic_fails_after_topic_metadata_propagation_max_ms(broker, kafka_connection):
    from airflow_provider_kafka_connector.exceptions import KafkaDeliveryError
    from airflow_provider_kafka_connector.hooks.kafka_producer import KafkaProducerHook
    from airflow_provider_kafka_connector.producer import OutgoingMessage

    def seconds_to_failure(additional_properties):
        hook = KafkaProducerHook(kafka_connection(host=broker.plaintext))
        started = time.monotonic()
        with pytest.raises(KafkaDeliveryError, match="does not exist"), hook.get_producer(additional_properties) as p:
            p.send(OutgoingMessage(topic=f"missing-{uuid.uuid4().hex}", key=None, value=b"v", headers=[]))
        return time.monotonic() - started

    # librdkafka alone would wait 30 s for the topic to appear; the configuration waits seconds, and that
    # wait is the property's, not the delivery timeout's.
    default = seconds_to_failure(None)
    longer = seconds_to_failure({"topic.metadata.propagation.max.ms": 6000})
    assert default <= 1
    assert 6 <= longer < 12


def test_login_and_password_select_sasl_plain_over_ssl():
    config = build_producer_config(WITH_CREDENTIALS)
    assert config["security.protocol"] == "SASL_SSL"
    assert config["sasl.mechanism"] == "PLAIN"
    assert (config["sasl.username"], config["sasl.password"]) == ("alice", "s3cret")
    assert config["bootstrap.servers"] == "broker1:9092,broker2:9092"


@pytest.mark.parametrize("login, password", [("alice", None), (None, "s3cret"), ("alice", ""), ("", "s3cret")])
def test_half_credentials_configure_no_auth_and_warn(login, password, caplog):
    with caplog.at_level(logging.WARNING):
        config = build_producer_config(ConnectionSettings("kafka", host="b:1", login=login, password=password))
    assert not {"security.protocol", "sasl.mechanism", "sasl.username", "sasl.password"} & config.keys()
    assert "no authentication is configured" in caplog.text
    assert "s3cret" not in caplog.text


def test_spec_example_adds_client_id_and_switches_to_scram_keeping_credentials():
    config = build_producer_config(WITH_CREDENTIALS, {"client.id": "MyDemoClientId", "sasl.mechanism": "SCRAM-SHA-256"})
    assert config["client.id"] == "MyDemoClientId"
    assert config["sasl.mechanism"] == "SCRAM-SHA-256"
    assert config["security.protocol"] == "SASL_SSL"
    assert (config["sasl.username"], config["sasl.password"]) == ("alice", "s3cret")


def test_additional_properties_override_bootstrap_servers_and_acks():
    config = build_producer_config(WITH_CREDENTIALS, {"bootstrap.servers": "other:9093", "acks": "1"})
    assert config["bootstrap.servers"] == "other:9093"
    assert config["acks"] == "1"


CONFLICTS_WITH_IDEMPOTENCE = [
    ({"acks": "0"}, "'acks' is 0"),
    ({"acks": 1}, "'acks' is 1"),
    ({"request.required.acks": "1"}, "'acks' is 1"),
    ({"retries": 0}, "'retries' is 0"),
    ({"message.send.max.retries": "0"}, "'retries' is 0"),
    ({"max.in.flight.requests.per.connection": 6}, "'max.in.flight.requests.per.connection' is 6"),
    ({"max.in.flight": "1000000"}, "'max.in.flight.requests.per.connection' is 1000000"),
]


@pytest.mark.parametrize("conflict, named", CONFLICTS_WITH_IDEMPOTENCE)
def test_a_setting_idempotence_cannot_work_with_turns_the_default_off_as_java_does(conflict, named):
    from confluent_kafka import Producer

    config = build_producer_config(WITH_CREDENTIALS, conflict)
    assert config["enable.idempotence"] == "false"
    Producer(dict(config)).flush(0)  # librdkafka accepts what it would refuse with idempotence on


@pytest.mark.parametrize("conflict, named", CONFLICTS_WITH_IDEMPOTENCE)
@pytest.mark.parametrize("order", ["same layer", "connection then task", "task then connection"])
def test_explicit_idempotence_with_a_conflicting_setting_is_an_error_naming_it(conflict, named, order):
    explicit = {"enable.idempotence": "true"}
    layers = {
        "same layer": [{**explicit, **conflict}],
        "connection then task": [explicit, conflict],
        "task then connection": [conflict, explicit],
    }[order]
    with pytest.raises(KafkaConfigurationError, match="'enable.idempotence' is set to true") as raised:
        build_producer_config(WITH_CREDENTIALS, *layers)
    assert named in str(raised.value)


def test_every_conflict_is_named_at_once():
    with pytest.raises(KafkaConfigurationError) as raised:
        build_producer_config(WITH_CREDENTIALS, {"enable.idempotence": True, "acks": 0, "retries": 0})
    assert "'acks' is 0" in str(raised.value) and "'retries' is 0" in str(raised.value)


@pytest.mark.parametrize(
    "allowed",
    [{"max.in.flight.requests.per.connection": 5}, {"retries": 1}, {"acks": "-1"}, {"acks": "all"}],
)
def test_settings_idempotence_works_with_keep_it_on(allowed):
    assert build_producer_config(WITH_CREDENTIALS, allowed)["enable.idempotence"] == "true"
    assert (
        build_producer_config(WITH_CREDENTIALS, allowed, {"enable.idempotence": True})["enable.idempotence"] == "true"
    )


def test_explicit_idempotence_off_with_a_conflicting_setting_is_accepted():
    config = build_producer_config(WITH_CREDENTIALS, {"enable.idempotence": False, "acks": "1", "retries": 0})
    assert config["enable.idempotence"] == "false"


def test_the_fast_start_defaults_can_be_overridden():
    config = build_producer_config(WITH_CREDENTIALS, {"reconnect.backoff.ms": 100, "enable.sparse.connections": False})
    plaintext = build_producer_config(ConnectionSettings("kafka", host="b:1"), {"enable.sparse.connections": True})
    assert config["reconnect.backoff.ms"] == "100"
    assert config["enable.sparse.connections"] == "false"
    assert plaintext["enable.sparse.connections"] == "true"


@pytest.mark.parametrize(
    ("protocol", "sparse"),
    [(None, "false"), ("PLAINTEXT", "false"), ("sasl_plaintext", "false"), ("SSL", "true"), ("SASL_SSL", "true")],
)
def test_sparse_connections_stay_on_only_where_each_connection_costs_a_tls_handshake(protocol, sparse):
    layer = {} if protocol is None else {"security.protocol": protocol}
    assert build_producer_config(ConnectionSettings("kafka", host="b:1"), layer)["enable.sparse.connections"] == sparse


def test_task_properties_override_connection_extras():
    config = build_producer_config(
        WITH_CREDENTIALS,
        {"client.id": "from-connection", "linger.ms": 5},
        {"client.id": "from-task"},
    )
    assert config["client.id"] == "from-task"
    assert config["linger.ms"] == "5"


def test_librdkafka_alias_in_later_layer_replaces_the_earlier_name():
    config = build_producer_config(WITH_CREDENTIALS, {"message.timeout.ms": 5000})
    assert config["delivery.timeout.ms"] == "5000"
    assert "message.timeout.ms" not in config


def test_a_property_and_its_alias_in_one_layer_is_an_error():
    with pytest.raises(ProducerConfigError, match="'delivery.timeout.ms' twice"):
        build_producer_config(WITH_CREDENTIALS, {"delivery.timeout.ms": 1, "message.timeout.ms": 2})


@pytest.mark.parametrize(
    "value, text", [(True, "true"), (False, "false"), (3, "3"), (0.5, "0.5"), (["a", "b"], "a,b"), ("x", "x")]
)
def test_property_values_become_librdkafka_text(value, text):
    allow_p = PropertyPolicy(allowed_properties=("p",))
    assert build_producer_config(WITH_CREDENTIALS, {"p": value}, policy=allow_p)["p"] == text


@pytest.mark.parametrize("value", [None, {"a": 1}, [1, 2]])
def test_unusable_property_value_is_rejected_by_name(value):
    with pytest.raises(ProducerConfigError, match="'client.id'"):
        build_producer_config(WITH_CREDENTIALS, {"client.id": value})


def test_additional_properties_must_be_an_object():
    with pytest.raises(ProducerConfigError, match="JSON object"):
        build_producer_config(WITH_CREDENTIALS, ["client.id"])  # type: ignore[arg-type]


def test_no_bootstrap_server_anywhere_is_an_error_naming_the_connection():
    with pytest.raises(ProducerConfigError, match="Connection 'kafka' names no bootstrap server"):
        build_producer_config(ConnectionSettings("kafka"))


def test_bootstrap_server_from_additional_properties_is_enough():
    assert build_producer_config(ConnectionSettings("kafka"), {"bootstrap.servers": "b:1"})["bootstrap.servers"]


@pytest.mark.parametrize(
    "host, port, expected",
    [
        ("broker", 9092, "broker:9092"),
        ("broker:9093", 9092, "broker:9093"),
        (" b1:1 , b2:2 ,", 9092, "b1:1,b2:2"),
        ("b1,b2", 9092, "b1,b2"),
        ("[::1]", 9092, "[::1]:9092"),
        ("[::1]:9093", None, "[::1]:9093"),
        (None, 9092, ""),
    ],
)
def test_bootstrap_servers(host, port, expected):
    assert bootstrap_servers(host, port) == expected


def test_delivery_timeout_seconds():
    assert delivery_timeout_seconds({"delivery.timeout.ms": "45000"}) == 45
    assert delivery_timeout_seconds({}) == 300
    with pytest.raises(ProducerConfigError, match="delivery.timeout.ms"):
        delivery_timeout_seconds({"delivery.timeout.ms": "soon"})


# --- the connection's TLS fields: CA, client certificate and client key as PEM text ------------------------------


def pem(label: str, data: bytes) -> str:
    import base64
    import textwrap

    body = "\n".join(textwrap.wrap(base64.b64encode(data).decode(), 64))
    return f"-----BEGIN {label}-----\n{body}\n-----END {label}-----\n"


CA = pem("CERTIFICATE", b"ca" * 100)
CERTIFICATE = pem("CERTIFICATE", b"client" * 50) + pem("CERTIFICATE", b"intermediate" * 30)
KEY = pem("ENCRYPTED PRIVATE KEY", b"\x00secret key bytes\xff" * 12)
KEY_PASSWORD = "key-pass-9z"
WITH_TLS = ConnectionSettings(
    "kafka", host="b:1", ssl_ca_pem=CA, ssl_certificate_pem=CERTIFICATE, ssl_key_pem=KEY, ssl_key_password=KEY_PASSWORD
)


def test_tls_fields_become_librdkafkas_pem_properties_and_turn_ssl_on():
    config = build_producer_config(WITH_TLS)
    assert {name: config[name] for name in config if name.startswith(("ssl.", "security."))} == {
        "ssl.ca.pem": CA,
        "ssl.certificate.pem": CERTIFICATE,
        "ssl.key.pem": KEY,
        "ssl.key.password": KEY_PASSWORD,
        "security.protocol": "SSL",
    }


def test_tls_fields_with_login_and_password_keep_sasl_ssl():
    settings = ConnectionSettings("kafka", host="b:1", login="alice", password="pw", ssl_ca_pem=CA)
    assert build_producer_config(settings)["security.protocol"] == "SASL_SSL"


def test_a_ca_alone_turns_tls_on_and_a_key_password_alone_does_not():
    assert build_producer_config(ConnectionSettings("k", host="b:1", ssl_ca_pem=CA))["security.protocol"] == "SSL"
    config = build_producer_config(ConnectionSettings("k", host="b:1", ssl_key_password="pw"))
    assert "security.protocol" not in config and config["ssl.key.password"] == "pw"


@pytest.mark.parametrize("given", ["ssl_certificate_pem", "ssl_key_pem"])
def test_a_client_certificate_without_its_key_or_the_reverse_is_refused(given):
    settings = ConnectionSettings("kafka", host="b:1", **{given: CERTIFICATE if "cert" in given else KEY})
    with pytest.raises(ProducerConfigError, match="mutual TLS needs both") as raised:
        build_producer_config(settings)
    assert KEY.splitlines()[1] not in str(raised.value)


@pytest.mark.parametrize("text", [KEY, KEY.replace("\n", ""), KEY.replace("\n", "\r\n"), KEY.replace("\n", " ")])
def test_pem_text_without_its_line_breaks_is_restored(text):
    # A password input (the masked key field) drops line breaks; OpenSSL needs them.
    assert (
        build_producer_config(ConnectionSettings("k", host="b:1", ssl_certificate_pem=CA, ssl_key_pem=text))[
            "ssl.key.pem"
        ]
        == KEY
    )


def test_a_certificate_chain_without_line_breaks_is_restored_block_by_block():
    config = build_producer_config(ConnectionSettings("k", host="b:1", ssl_ca_pem=CERTIFICATE.replace("\n", "")))
    assert config["ssl.ca.pem"] == CERTIFICATE


def test_a_traditional_encrypted_key_keeps_its_headers_and_without_line_breaks_is_refused():
    body = KEY.splitlines()[1:-1]
    legacy = (
        "\n".join(["-----BEGIN EC PRIVATE KEY-----", "Proc-Type: 4,ENCRYPTED", "DEK-Info: AES-128-CBC,00FF", "", *body])
        + "\n-----END EC PRIVATE KEY-----\n"
    )
    assert (
        build_producer_config(ConnectionSettings("k", host="b:1", ssl_certificate_pem=CA, ssl_key_pem=legacy))[
            "ssl.key.pem"
        ]
        == legacy
    )
    flattened = ConnectionSettings("k", host="b:1", ssl_certificate_pem=CA, ssl_key_pem=legacy.replace("\n", ""))
    with pytest.raises(ProducerConfigError, match="openssl pkcs8 -topk8") as raised:
        build_producer_config(flattened)
    assert body[0] not in str(raised.value)


@pytest.mark.parametrize("text", ["/etc/kafka/client.key", "MIIBxyz", "-----BEGIN PRIVATE KEY-----\nabc"])
def test_text_that_is_not_pem_is_refused_without_quoting_it(text):
    with pytest.raises(ProducerConfigError, match="The client key of connection 'k' is not PEM text") as raised:
        build_producer_config(ConnectionSettings("k", host="b:1", ssl_certificate_pem=CA, ssl_key_pem=text))
    assert text not in str(raised.value)


@pytest.mark.parametrize(
    "override, replaced",
    [
        ({"ssl.ca.location": "/etc/ca.pem"}, {"ssl.ca.pem"}),
        ({"ssl.certificate.location": "/c.pem", "ssl.key.location": "/c.key"}, {"ssl.certificate.pem", "ssl.key.pem"}),
        ({"ssl.keystore.location": "/c.p12"}, {"ssl.certificate.pem", "ssl.key.pem"}),
        ({"ssl.key.pem": KEY}, set()),
    ],
)
def test_additional_properties_replace_what_the_tls_fields_give(override, replaced):
    config = build_producer_config(WITH_TLS, {}, override)
    assert not replaced & config.keys()
    assert override.items() <= config.items()
    assert config["security.protocol"] == "SSL" and config["ssl.key.password"] == KEY_PASSWORD


def test_connection_settings_do_not_show_the_key_or_its_password():
    shown = repr(WITH_TLS)
    assert KEY.splitlines()[1] not in shown and KEY_PASSWORD not in shown
    assert KEY_PASSWORD not in str(build_producer_config(WITH_TLS))


REGISTRY = {
    "schema.registry.url": "https://r1:8081,https://r2:8081",
    "basic.auth.credentials.source": "USER_INFO",
    "basic.auth.user.info": "reg:pw",
    "schema.registry.ssl.ca.location": "/ca.pem",
    "auto.register.schemas": "false",
}
ALLOW_REGISTRY = PropertyPolicy(allowed_urls=("https://r1:8081", "https://r2:8081", "https://r:8081", "http://r:8081"))


def test_registry_properties_never_reach_librdkafka():
    config = build_producer_config(ConnectionSettings("kafka", host="b:1"), REGISTRY, {"use.latest.version": True})
    assert not {name for name in config if "schema" in name or "basic.auth" in name or "latest" in name}


def test_registry_properties_make_the_registry_configuration():
    registry = build_registry_config(REGISTRY, conn_id="kafka", policy=ALLOW_REGISTRY)
    assert registry is not None
    assert dict(registry.client) == {
        "url": "https://r1:8081,https://r2:8081",
        "basic.auth.user.info": "reg:pw",
        "ssl.ca.location": "/ca.pem",
    }
    assert registry.serializer == {"auto.register.schemas": False}
    assert "pw" not in repr(registry)


def test_no_registry_url_means_no_registry():
    assert build_registry_config({"basic.auth.user.info": "u:p"}, None, conn_id="kafka") is None


def test_task_registry_properties_override_the_connections():
    registry = build_registry_config(
        REGISTRY,
        {"basic.auth.user.info": "other:pw2", "use.latest.version": "true"},
        conn_id="k",
        policy=ALLOW_REGISTRY,
    )
    assert registry is not None
    assert registry.client["basic.auth.user.info"] == "other:pw2"
    assert registry.client["url"] == REGISTRY["schema.registry.url"]
    assert registry.serializer == {"auto.register.schemas": False, "use.latest.version": True}


def test_credentials_in_the_registry_url_are_hidden_in_messages():
    registry = build_registry_config(
        {"schema.registry.url": "https://u:hidden@r:8081"}, conn_id="k", policy=ALLOW_REGISTRY
    )
    assert registry is not None
    assert registry.urls == "https://***@r:8081"


@pytest.mark.parametrize(
    "properties, message",
    [
        ({"schema.registry.urll": "x"}, "'schema.registry.urll' is not a Schema Registry setting"),
        ({"basic.auth.credentials.source": "SASL_INHERIT"}, "'SASL_INHERIT' is not supported here"),
        ({"basic.auth.credentials.source": "USER_INFO", "basic.auth.user.info": None}, "must be a non-empty string"),
        ({"basic.auth.user.info": "no-colon"}, "must be 'user:password'"),
        ({"auto.register.schemas": "maybe"}, "must be true or false"),
        ({"schema.registry.ssl.truststore.location": "/t.jks"}, "must name a PEM file"),
    ],
)
def test_unusable_registry_properties_are_refused_by_name(properties, message):
    with pytest.raises(ProducerConfigError, match=message) as raised:
        build_registry_config(
            {"schema.registry.url": "http://r:8081", **properties}, conn_id="k", policy=ALLOW_REGISTRY
        )
    assert "no-colon" not in str(raised.value)


ALLOW_IDP = PropertyPolicy(allowed_urls=("https://idp/token",))


def test_a_token_endpoint_without_a_method_is_librdkafkas_oidc_login():
    endpoint = {"sasl.mechanism": "OAUTHBEARER", "sasl.oauthbearer.token.endpoint.url": "https://idp/token"}
    settings = ConnectionSettings("c", host="b:1")
    assert build_producer_config(settings, endpoint, policy=ALLOW_IDP)["sasl.oauthbearer.method"] == "oidc"
    given = {**endpoint, "sasl.oauthbearer.method": "default"}
    assert build_producer_config(settings, given, policy=ALLOW_IDP)["sasl.oauthbearer.method"] == "default"
    assert "sasl.oauthbearer.method" not in build_producer_config(settings, {"sasl.mechanism": "OAUTHBEARER"})


def test_the_oauth_client_id_and_secret_get_the_names_every_supported_librdkafka_takes():
    jaas = (
        "org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required "
        "clientId='airflow' clientSecret='Client-Secret-42x';"
    )
    layer = {"sasl.oauthbearer.token.endpoint.url": "https://idp/token", "sasl.jaas.config": jaas}
    config = build_producer_config(ConnectionSettings("kafka", host="b:1"), layer, policy=ALLOW_IDP)
    assert (config["sasl.oauthbearer.client.id"], config["sasl.oauthbearer.client.secret"]) == (
        "airflow",
        "Client-Secret-42x",
    )
    assert not any(name.startswith("sasl.oauthbearer.client.credentials.") for name in config)
