"""What the installed Airflow itself reads from the provider: its registration, the Connections form and the
[kafka_connector] configuration section.

Airflow 3.2 and later take the form from get_provider_info(); 3.1 from
KafkaProducerHook.get_ui_field_behaviour() (and only where wtforms imports, as it does with the FAB provider).
Both paths end in the API the UI calls.
"""

from __future__ import annotations

import os
import subprocess
import sys
from importlib.metadata import version

from airflow.api_fastapi.core_api.services.ui.connections import HookMetaService
from airflow.providers_manager import ProvidersManager

from airflow_provider_kafka_connector.connection_form import TLS_FIELDS

AIRFLOW = tuple(int(part) for part in version("apache-airflow-core").split(".")[:2])


def test_airflow_registers_the_provider():
    assert "airflow-provider-kafka-connector" in ProvidersManager().providers


def test_connections_form_has_the_spec_labels_on_this_airflow():
    [meta] = [hook for hook in HookMetaService.hook_meta_data() if hook.connection_type == "kafka_producer"]
    assert meta.hook_name == "Kafka Producer Connector"
    assert meta.hook_class_name == "airflow_provider_kafka_connector.hooks.kafka_producer.KafkaProducerHook"
    fields = meta.standard_fields
    assert fields is not None, f"Airflow {AIRFLOW} gave the form no field behaviour"
    assert (fields.host.title, fields.host.placeholder) == ("Bootstrap server(s)", "broker1:9092,broker2:9092")
    assert (fields.login.title, fields.password.title) == ("Username", "Password")
    assert fields.port.hidden and fields.url_schema.hidden
    assert not (fields.host.hidden or fields.login.hidden or fields.password.hidden)
    if AIRFLOW >= (3, 2):
        assert meta.extra_fields is not None and "additional_properties" in meta.extra_fields
        assert meta.extra_fields["additional_properties"]["schema"]["title"] == "Additional properties"
        tls = {name: meta.extra_fields[name]["schema"] for name in TLS_FIELDS}
        assert {name: (schema["title"], schema["format"]) for name, schema in tls.items()} == {
            "ssl_ca_pem": ("CA certificate (PEM)", "multiline"),
            "ssl_certificate_pem": ("Client certificate (PEM)", "multiline"),
            "ssl_private_key_pem": ("Client key (PEM)", "password"),  # masked, as is its password
            "ssl_key_password": ("Client key password", "password"),
        }
        widgets = ProvidersManager().connection_form_widgets
        assert [name for name in TLS_FIELDS if widgets[f"extra__kafka_producer__{name}"].is_sensitive] == [
            "ssl_private_key_pem",
            "ssl_key_password",
        ]


def test_airflow_config_shows_the_kafka_connector_section_with_its_descriptions(tmp_path):
    env = {**os.environ, "AIRFLOW_HOME": str(tmp_path), "AIRFLOW__KAFKA_CONNECTOR__ALLOWED_FILES": "/run/secrets/"}

    def airflow_config(*arguments: str) -> str:
        command = [sys.executable, "-m", "airflow", "config", *arguments]
        return subprocess.run(command, env=env, capture_output=True, text=True, check=True).stdout

    listed = airflow_config("list", "--section", "kafka_connector", "--include-descriptions")
    for option in ("allowed_urls", "allowed_files", "allowed_library_paths", "allowed_properties"):
        assert f"\n# {option} = " in listed or f"\n{option} = " in listed, option
    assert "# The URLs that a connection's extra or a task's additional properties may make the producer" in listed
    assert airflow_config("get-value", "kafka_connector", "allowed_files").strip() == "/run/secrets/"
