"""Google Managed Service for Apache Kafka as pure logic: Google's Java form, the policy, and the failure a user sees
where there are no Google credentials. The broker and the token service are in
tests/test_google_managed_kafka_broker.py."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from airflow_provider_kafka_connector import google_managed_kafka
from airflow_provider_kafka_connector.config import ConnectionSettings, build_producer_config
from airflow_provider_kafka_connector.exceptions import PropertyPolicyError
from airflow_provider_kafka_connector.policy import PropertyPolicy

BOOTSTRAP = "bootstrap.orders.europe-west1.managedkafka.my-project.cloud.goog:9092"
# Google's documented client properties for Java clients.
JAVA_FORM = {
    "security.protocol": "SASL_SSL",
    "sasl.mechanism": "OAUTHBEARER",
    "sasl.login.callback.handler.class": "com.google.cloud.hosted.kafka.auth.GcpLoginCallbackHandler",
    "sasl.jaas.config": "org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required;",
}


ALLOWED = PropertyPolicy(callback_allowlist=(google_managed_kafka.CALLBACK,))


def google_config(extra, policy=ALLOWED):
    return build_producer_config(ConnectionSettings("gmk", host=BOOTSTRAP), extra, policy=policy)


def test_googles_java_form_becomes_oauthbearer_with_the_google_token_callback():
    config = google_config(JAVA_FORM)
    assert config["sasl.mechanism"] == "OAUTHBEARER"
    assert config["oauth_cb"] == google_managed_kafka.CALLBACK
    assert "sasl.oauthbearer.method" not in config


def test_the_callback_may_be_named_directly():
    extra = {
        "security.protocol": "SASL_SSL",
        "sasl.mechanism": "OAUTHBEARER",
        "oauth_cb": google_managed_kafka.CALLBACK,
    }
    assert google_config(extra)["oauth_cb"] == google_managed_kafka.CALLBACK


def test_the_deployment_must_allow_sending_its_google_token():
    with pytest.raises(PropertyPolicyError) as raised:
        google_config(JAVA_FORM, policy=PropertyPolicy())
    assert "Google Managed Service for Apache Kafka's login" in str(raised.value)
    assert f"add '{google_managed_kafka.CALLBACK}' to [kafka_connector] callback_allowlist" in str(raised.value)


def test_no_google_credentials_fail_at_once_saying_what_to_give(tmp_path):
    # A clean interpreter: google-auth reads NO_GCE_CHECK once, when it is imported.
    environment = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "CLOUDSDK_CONFIG": str(tmp_path / "gcloud"),
        "NO_GCE_CHECK": "true",
    }
    script = (
        "import time\n"
        "from airflow_provider_kafka_connector import google_managed_kafka\n"
        "started = time.monotonic()\n"
        "try:\n"
        "    google_managed_kafka.token('')\n"
        "except Exception as error:\n"
        "    print(type(error).__name__, round(time.monotonic() - started, 2), error)\n"
    )
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-c", script], env=environment, capture_output=True, text=True, timeout=60)
    assert done.stdout.startswith("KafkaCredentialsError"), done.stdout + done.stderr
    assert "No Google credentials found for Google Managed Service for Apache Kafka" in done.stdout
    assert "Managed Kafka Client role" in done.stdout
    assert float(done.stdout.split()[1]) < 2
    assert time.monotonic() - started < 30
