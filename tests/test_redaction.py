from airflow_provider_kafka_connector.redaction import REDACTED, is_secret_property, redacted, scrub, secret_values

CONFIG = {
    "bootstrap.servers": "b:1",
    "sasl.username": "alice",
    "sasl.password": "pw",
    "sasl.jaas.config": "... password='pw';",
    "ssl.key.pem": "-----BEGIN PRIVATE KEY-----",
    "ssl.keystore.password": "ks",
    "ssl.ca.location": "/ca.pem",
}


def test_secret_property_names():
    secret = {name for name in CONFIG if is_secret_property(name)}
    assert secret == {"sasl.password", "sasl.jaas.config", "ssl.key.pem", "ssl.keystore.password"}


def test_redacted_keeps_names_and_hides_values():
    shown = redacted(CONFIG)
    assert shown.keys() == CONFIG.keys()
    assert shown["sasl.password"] == REDACTED
    assert shown["sasl.username"] == "alice"
    assert "pw" not in repr(shown)


def test_secret_values_and_scrub():
    secrets = secret_values(CONFIG)
    assert "pw" in secrets and "ks" in secrets
    assert scrub("user alice failed with pw and ks", secrets) == f"user alice failed with {REDACTED} and {REDACTED}"


def test_registry_user_info_and_url_credentials_are_secrets():
    config = {
        "basic.auth.user.info": "reg:Pw-1",
        "schema.registry.url": "https://u:Pw-2@r:8081,https://r2",
        "schema.registry.ssl.key.password": "Pw-3",
    }
    assert {"reg:Pw-1", "Pw-1", "u:Pw-2", "Pw-2", "Pw-3"} <= set(secret_values(config))
    shown = repr(redacted(config))
    assert not any(secret in shown for secret in ("Pw-1", "Pw-2", "Pw-3"))
    assert "https://***@r:8081,https://r2" in shown


def test_oauth_client_secrets_are_secrets_and_the_token_endpoint_is_not():
    config = {
        "sasl.oauthbearer.client.id": "airflow",
        "sasl.oauthbearer.client.secret": "Cs-1",
        "sasl.oauthbearer.client.credentials.client.secret": "Cs-2",
        "sasl.oauthbearer.token.endpoint.url": "https://idp.example.com/oauth2/token",
    }
    assert set(secret_values(config)) == {"Cs-1", "Cs-2"}
    assert redacted(config)["sasl.oauthbearer.token.endpoint.url"] == "https://idp.example.com/oauth2/token"
    assert redacted({"sasl.oauthbearer.token.endpoint.url": "https://u:Pw-4@idp/token"}) == {
        "sasl.oauthbearer.token.endpoint.url": f"https://{REDACTED}@idp/token"
    }
