"""The property policy as pure logic: what is refused, in which layer, and how a deployment allows it.

The attacks themselves (a library's code that must not run, a listener that must receive nothing) run through real
Airflow and the real API server in tests/test_policy_attacks.py.
"""

from __future__ import annotations

import os

import pytest

from airflow_provider_kafka_connector.config import ConnectionSettings, build_producer_config, build_registry_config
from airflow_provider_kafka_connector.exceptions import KafkaConfigurationError, PropertyPolicyError
from airflow_provider_kafka_connector.java_properties import JAVA_PRODUCER_PROPERTIES, LIBRDKAFKA_ALIASES
from airflow_provider_kafka_connector.native_tally import TALLY_PROPERTY
from airflow_provider_kafka_connector.policy import KNOWN_PROPERTIES, PropertyPolicy

CONNECTION = ConnectionSettings("kafka_edited", host="b:9092")
EXTRA = "the extra of connection 'kafka_edited'"
TASK = "the task's additional_properties"
TOKEN_URL = "https://idp.example/oauth2/token"
DENY = PropertyPolicy()
OAUTH_HANDLER = "org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginCallbackHandler"


def refusal(properties, policy=DENY, layer_index=0) -> str:
    layers = [{}, properties] if layer_index else [properties]
    with pytest.raises(PropertyPolicyError) as raised:
        build_producer_config(CONNECTION, *layers, policy=policy)
    assert isinstance(raised.value, KafkaConfigurationError)  # one hierarchy: a DAG's `except ValueError` holds
    return str(raised.value)


@pytest.mark.parametrize("layer_index, layer", [(0, EXTRA), (1, TASK)])
@pytest.mark.parametrize(
    "properties, option, value",
    [
        ({"plugin.library.paths": "/tmp/evil.so"}, "allowed_library_paths", "/tmp/evil.so"),
        ({"ssl.engine.location": "/tmp/engine.so"}, "allowed_library_paths", "/tmp/engine.so"),
        ({"ssl.engine.id": "pkcs11"}, "allowed_properties", "ssl.engine.id"),
        ({"ssl.providers": "legacy"}, "allowed_properties", "ssl.providers"),
        ({"sasl.kerberos.kinit.cmd": "touch /tmp/pwned"}, "allowed_properties", "sasl.kerberos.kinit.cmd"),
        ({"internal.termination.signal": 15}, "allowed_properties", "internal.termination.signal"),
        (
            {"sasl.oauthbearer.metadata.authentication.type": "azure_imds"},
            "allowed_properties",
            "sasl.oauthbearer.metadata.authentication.type",
        ),
        ({"sasl.oauthbearer.token.endpoint.url": TOKEN_URL}, "allowed_urls", TOKEN_URL),
        ({"sasl.oauthbearer.assertion.file": "/etc/passwd"}, "allowed_files", "/etc/passwd"),
        ({"sasl.oauthbearer.assertion.private.key.file": "/k.pem"}, "allowed_files", "/k.pem"),
        ({"sasl.oauthbearer.assertion.jwt.template.file": "/t.json"}, "allowed_files", "/t.json"),
        # Java names: the policy sees what they become.
        ({"sasl.oauthbearer.assertion.template.file": "/t.json"}, "allowed_files", "/t.json"),
        ({"sasl.kerberos.kinit.cmd": "/usr/bin/kinit"}, "allowed_properties", "sasl.kerberos.kinit.cmd"),
    ],
)
def test_a_refusal_names_the_property_its_layer_and_how_to_allow_it(properties, option, value, layer_index, layer):
    message = refusal(properties, layer_index=layer_index)
    variable = f"AIRFLOW__KAFKA_CONNECTOR__{option.upper()}"
    assert f"in {layer} is refused" in message
    assert f"add {value!r} to [kafka_connector] {option} (environment variable {variable})" in message
    name = next(iter(properties))
    librdkafka_name = {"sasl.oauthbearer.assertion.template.file": "sasl.oauthbearer.assertion.jwt.template.file"}
    assert f"Property {librdkafka_name.get(name, name)!r}" in message


@pytest.mark.parametrize(
    "properties, policy",
    [
        ({"plugin.library.paths": "/opt/ok.so"}, PropertyPolicy(allowed_library_paths=("/opt/ok.so",))),
        ({"plugin.library.paths": "/opt/lib/../ok.so"}, PropertyPolicy(allowed_library_paths=("/opt/ok.so",))),
        ({"plugin.library.paths": "/opt/plugins/a.so"}, PropertyPolicy(allowed_library_paths=("/opt/plugins/",))),
        (
            {"plugin.library.paths": "monitoring-interceptor"},
            PropertyPolicy(allowed_library_paths=("monitoring-interceptor",)),
        ),
        ({"ssl.engine.id": "pkcs11"}, PropertyPolicy(allowed_properties=("ssl.engine.id",))),
        ({"sasl.kerberos.kinit.cmd": "kinit -R"}, PropertyPolicy(allowed_properties=("sasl.kerberos.kinit.cmd",))),
        ({"sasl.oauthbearer.token.endpoint.url": TOKEN_URL}, PropertyPolicy(allowed_urls=(TOKEN_URL,))),
        ({"sasl.oauthbearer.assertion.file": "/run/secrets/a.jwt"}, PropertyPolicy(allowed_files=("/run/secrets/",))),
        ({"sasl.oauthbearer.metadata.authentication.type": "none"}, DENY),
        (
            {"some.newer.librdkafka.property": "1"},
            PropertyPolicy(allowed_properties=("some.newer.librdkafka.property",)),
        ),
    ],
)
def test_what_the_deployment_lists_is_allowed(properties, policy):
    config = build_producer_config(CONNECTION, {}, properties, policy=policy)
    name = next(iter(properties))
    assert config[name] == str(properties[name])


def test_each_library_of_a_list_must_be_allowed():
    policy = PropertyPolicy(allowed_library_paths=("/opt/ok.so",))
    assert "add '/tmp/evil.so' to" in refusal({"plugin.library.paths": "/opt/ok.so;/tmp/evil.so"}, policy)


@pytest.mark.parametrize(
    "path, listed",
    [
        ("/run/secrets/../../etc/passwd", "/run/secrets/"),
        ("/run/secretsX/a.jwt", "/run/secrets/"),  # a sibling with the same prefix is not inside
        ("/run/secrets", "/run/secrets/"),  # the directory itself is no file in it
        ("/run/a.jwt", "/run/a.jw"),
    ],
)
def test_an_allowed_file_entry_does_not_reach_beyond_itself(path, listed):
    policy = PropertyPolicy(allowed_files=(listed,))
    assert "allowed_files" in refusal({"sasl.oauthbearer.assertion.file": path}, policy)


def test_a_link_is_judged_by_the_file_it_leads_to(tmp_path):
    allowed = tmp_path / "allowed"
    allowed.mkdir()
    (allowed / "assertion.jwt").write_text("jwt")
    os.symlink("/etc/passwd", allowed / "link.jwt")
    policy = PropertyPolicy(allowed_files=(f"{allowed}/",))
    build_producer_config(
        CONNECTION, {"sasl.oauthbearer.assertion.file": str(allowed / "assertion.jwt")}, policy=policy
    )
    assert "'/etc/passwd'" not in refusal({"sasl.oauthbearer.assertion.file": str(allowed / "link.jwt")}, policy)


def test_a_url_is_allowed_only_exactly_as_listed():
    policy = PropertyPolicy(allowed_urls=(TOKEN_URL,))
    for other in (TOKEN_URL + "/", TOKEN_URL.replace("https", "http"), TOKEN_URL + "?x=1", "https://idp.example.evil/"):
        assert "allowed_urls" in refusal({"sasl.oauthbearer.token.endpoint.url": other}, policy)


def test_a_token_endpoint_in_a_java_jaas_line_is_checked_too():
    jaas = (
        "org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required "
        "clientId='airflow' clientSecret='S3cret-Value';"
    )
    properties = {
        "sasl.mechanism": "OAUTHBEARER",
        "sasl.login.callback.handler.class": OAUTH_HANDLER,
        "sasl.oauthbearer.token.endpoint.url": TOKEN_URL,
        "sasl.jaas.config": jaas,
    }
    message = refusal(properties)
    assert "sasl.oauthbearer.token.endpoint.url" in message and "S3cret-Value" not in message


@pytest.mark.parametrize(
    "properties",
    [
        {"sasl.kerberos.principal": "kafka/host@REALM; touch /tmp/pwned"},
        {"sasl.kerberos.principal": "$(id)"},
        {"sasl.kerberos.keytab": '/k.keytab"; touch /tmp/pwned; "'},
        {"sasl.kerberos.keytab": "/k/$(id).keytab"},
        {"sasl.kerberos.keytab": "/k/`id`.keytab"},
    ],
)
def test_kerberos_names_a_shell_would_interpret_are_refused_even_where_kinit_is_allowed(properties):
    policy = PropertyPolicy(allowed_properties=("sasl.kerberos.kinit.cmd",))
    assert "characters a shell would interpret" in refusal(properties, policy)


def test_plain_kerberos_names_are_allowed():
    properties = {
        "sasl.kerberos.principal": "airflow/worker-1.example.com@EXAMPLE.COM",
        "sasl.kerberos.keytab": "/etc/k 1.keytab",
    }
    config = build_producer_config(CONNECTION, properties)
    assert config["sasl.kerberos.principal"] == properties["sasl.kerberos.principal"]


@pytest.mark.parametrize("name", [TALLY_PROPERTY, "kafka_connector.anything"])
def test_the_providers_own_names_are_refused_whatever_is_listed(name):
    policy = PropertyPolicy(allowed_properties=(name,))
    assert "is the provider's own" in refusal({name: "0"}, policy)


@pytest.mark.parametrize("name", ["error_cb", "stats_cb", "logger", "opaque", "ssl.certificate.verify_cb"])
def test_properties_that_need_a_python_object_are_refused(name):
    assert "needs a Python object" in refusal({name: "package.module.function"})


def test_a_token_callback_is_allowed_only_as_the_deployment_lists_it():
    callback = "my_company.kafka_tokens.fetch_token"
    message = refusal({"oauth_cb": callback})
    assert f"add {callback!r} to [kafka_connector] callback_allowlist" in message
    listed = PropertyPolicy(callback_allowlist=(callback,))
    assert build_producer_config(CONNECTION, {"oauth_cb": callback}, policy=listed)["oauth_cb"] == callback
    assert "callback_allowlist" in refusal({"oauth_cb": "os.system"}, listed)


def test_an_unknown_name_is_refused_with_the_nearest_known_one():
    message = refusal({"linger.msx": 5})
    assert "'linger.msx'" in message and "Did you mean 'linger.ms'" in message
    assert "[kafka_connector] allowed_properties" in message


def test_every_name_the_translator_produces_is_known():
    """A Java property passed on or renamed never trips the unknown-name check."""
    for java_name, row in JAVA_PRODUCER_PROPERTIES.items():
        if row.outcome in ("pass", "rename"):
            assert (row.librdkafka_name or java_name) in KNOWN_PROPERTIES, java_name
    assert set(LIBRDKAFKA_ALIASES.values()) <= KNOWN_PROPERTIES


def test_registry_urls_must_be_allowed_and_are_listed_without_their_credentials():
    registry = {"schema.registry.url": "https://reg-user:Reg-Secret@registry.example:8081,https://r2.example:8081"}
    with pytest.raises(PropertyPolicyError) as raised:
        build_registry_config({}, registry, conn_id="kafka_edited")
    message = str(raised.value)
    assert "'https://registry.example:8081' to [kafka_connector] allowed_urls" in message
    assert "Reg-Secret" not in message and TASK in message
    policy = PropertyPolicy(allowed_urls=("https://registry.example:8081", "https://r2.example:8081"))
    assert build_registry_config(registry, conn_id="kafka_edited", policy=policy) is not None


def test_the_policy_reads_comma_separated_options():
    options = {"allowed_urls": f" {TOKEN_URL} , https://r:8081,", "allowed_properties": "", "allowed_files": "/a/"}
    policy = PropertyPolicy.from_options(lambda name: options.get(name, ""))
    assert policy == PropertyPolicy(allowed_urls=(TOKEN_URL, "https://r:8081"), allowed_files=("/a/",))
