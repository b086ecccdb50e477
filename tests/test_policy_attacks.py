"""The property policy against real attacks, through a real Airflow task and the real API server's Connections Test.

An "attacker" may edit connections (or the run parameters rendered into a task's properties) but not the deployment's
configuration. Each attack is proven not to have had its effect, not just refused in words:
- a shared library whose constructor writes a marker file: the marker never appears;
- an HTTP listener standing for the attacker's token endpoint: it receives nothing (no assertion file's content,
  no client secret).
The deployment lists one other library and one other listener's URL: the listed library loads (its marker appears,
beside the provider's own delivery-tally plugin) and the listed URL is asked for a
token, so both attacks would have worked without the policy.
"""

from __future__ import annotations

import base64
import json
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from harness.airflow_dag_run import AirflowHome
from harness.api_server import ApiServer, running_api_server
from harness.ports import LOOPBACK

pytestmark = pytest.mark.broker

# A librdkafka plugin in all but use: its constructor runs as soon as anything loads it.
MARKER_LIBRARY_SOURCE = r"""
#include <stddef.h>
#include <stdio.h>
__attribute__((constructor)) static void leave_marker(void) {
    FILE *marker = fopen(MARKER, "a");
    if (marker) { fputs("loaded\n", marker); fclose(marker); }
}
int conf_init(void *conf, void **plugin_opaque, char *errstr, size_t errstr_size) { return 0; }
"""
ASSERTION_CONTENT = "Assertion-File-Content-3141"
CLIENT_SECRET = "Task-Client-Secret"
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"


@dataclass
class MarkerLibrary:
    path: Path
    marker: Path

    @property
    def loaded(self) -> bool:
        return self.marker.exists()


def build_marker_library(directory: Path, name: str) -> MarkerLibrary:
    directory.mkdir(parents=True, exist_ok=True)
    source, library, marker = directory / f"{name}.c", directory / f"{name}.so", directory / f"{name}.loaded"
    source.write_text(MARKER_LIBRARY_SOURCE)
    subprocess.run(
        ["cc", "-shared", "-fPIC", f'-DMARKER="{marker}"', "-o", str(library), str(source)],
        check=True,
        capture_output=True,
    )
    return MarkerLibrary(library, marker)


@dataclass
class Listener:
    """An HTTP endpoint that records every request (its Basic credentials decoded) and answers as a token endpoint
    refusing the client."""

    url: str
    requests: list[str] = field(default_factory=list)


@pytest.fixture(scope="module")
def listeners() -> Iterator[tuple[Listener, Listener]]:
    """(the attacker's endpoint, the endpoint the deployment lists)."""
    servers, made = [], []
    for _ in range(2):
        listener = Listener(url="")

        class Handler(BaseHTTPRequestHandler):
            recorded = listener

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode(errors="replace")
                credentials = self.headers.get("Authorization", "").removeprefix("Basic ")
                user_and_secret = base64.b64decode(credentials).decode(errors="replace") if credentials else ""
                self.recorded.requests.append(f"{self.command} {self.path} {user_and_secret} {body}")
                answer = json.dumps({"error": "invalid_client"}).encode()
                self.send_response(401)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            do_GET = do_POST

            def log_message(self, *args: object) -> None:
                pass

        server = ThreadingHTTPServer((LOOPBACK, 0), Handler)
        listener.url = f"http://{LOOPBACK}:{server.server_port}/oauth2/token"
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        made.append(listener)
    try:
        yield made[0], made[1]
    finally:
        for server in servers:
            server.shutdown()
            server.server_close()


@dataclass
class Setting:
    attack_library: MarkerLibrary
    listed_library: MarkerLibrary
    attacker: Listener
    listed: Listener
    assertion_file: Path

    def deployment_env(self) -> dict[str, str]:
        """The administrator's [kafka_connector] settings: one library, one URL, and the assertion file (so that
        only the URL stands between the file and the attacker)."""
        return {
            "AIRFLOW__KAFKA_CONNECTOR__ALLOWED_LIBRARY_PATHS": str(self.listed_library.path),
            "AIRFLOW__KAFKA_CONNECTOR__ALLOWED_URLS": self.listed.url,
            "AIRFLOW__KAFKA_CONNECTOR__ALLOWED_FILES": str(self.assertion_file),
        }


@pytest.fixture(scope="module")
def setting(listeners, tmp_path_factory) -> Setting:
    directory = tmp_path_factory.mktemp("policy-attacks")
    assertion = directory / "assertion.jwt"
    assertion.write_text(ASSERTION_CONTENT)
    return Setting(
        attack_library=build_marker_library(directory / "attack", "attack"),
        listed_library=build_marker_library(directory / "listed", "listed"),
        attacker=listeners[0],
        listed=listeners[1],
        assertion_file=assertion,
    )


def assertion_extra(token_url: str, assertion_file: Path) -> dict[str, str]:
    return {
        "security.protocol": "SASL_PLAINTEXT",
        "sasl.mechanism": "OAUTHBEARER",
        "sasl.oauthbearer.method": "oidc",
        "sasl.oauthbearer.grant.type": JWT_BEARER,
        "sasl.oauthbearer.assertion.file": str(assertion_file),
        "sasl.oauthbearer.token.endpoint.url": token_url,
    }


def test_through_real_airflow_tasks_nothing_is_loaded_or_sent_that_the_deployment_did_not_list(
    broker, topic, setting, tmp_path
):
    plain = {"conn_type": "kafka_producer", "host": broker.plaintext}
    airflow = AirflowHome(
        tmp_path / "airflow",
        {
            "kafka_plain": plain,
            "kafka_library_in_extra": {**plain, "extra": {"plugin.library.paths": str(setting.attack_library.path)}},
            "kafka_assertion_in_extra": {
                **plain,
                "extra": assertion_extra(setting.attacker.url, setting.assertion_file),
            },
            "kafka_listed_library": {**plain, "extra": {"plugin.library.paths": str(setting.listed_library.path)}},
        },
        dags_folder=Path(__file__).parent / "dags",
    )
    airflow.env.update(setting.deployment_env())
    run = airflow.test_dag(
        "policy_attacks",
        conf={
            "topic": topic,
            "attack_library": str(setting.attack_library.path),
            "attacker_url": setting.attacker.url,
            "listed_url": setting.listed.url,
        },
    )

    refused = {
        "library_in_extra": "Property 'plugin.library.paths' in the extra of connection 'kafka_library_in_extra' is "
        "refused",
        "library_in_task": "Property 'plugin.library.paths' in the task's additional_properties is refused",
        "assertion_in_extra": "Property 'sasl.oauthbearer.token.endpoint.url' in the extra of connection "
        "'kafka_assertion_in_extra' is refused",
        "client_secret_in_task": "Property 'sasl.oauthbearer.token.endpoint.url' in the task's additional_properties "
        "is refused",
    }
    for task_id, first_words in refused.items():
        assert run.task_states[task_id] == "failed", task_id
        assert first_words in run.output, task_id
    assert (
        "[kafka_connector] allowed_library_paths (environment variable AIRFLOW__KAFKA_CONNECTOR__ALLOWED_LIBRARY_PATHS)"
        in run.output
    )
    assert "[kafka_connector] allowed_urls (environment variable AIRFLOW__KAFKA_CONNECTOR__ALLOWED_URLS)" in run.output
    assert not setting.attack_library.loaded
    assert setting.attacker.requests == []
    assert CLIENT_SECRET not in run.output

    # The controls: what the deployment lists works, so the attacks above would have.
    assert run.task_states["listed_library"] == "success"
    assert setting.listed_library.loaded
    assert run.xcoms[("listed_library", "response")]["count"] == 3
    assert run.task_states["listed_url"] == "failed"  # the listener refuses every client
    assert any(CLIENT_SECRET in request for request in setting.listed.requests)


@pytest.fixture(scope="module")
def api_server(setting, tmp_path_factory) -> Iterator[ApiServer]:
    with running_api_server(tmp_path_factory.mktemp("airflow-api"), setting.deployment_env()) as server:
        yield server


def test_the_connections_test_in_the_api_server_loads_and_sends_nothing_unlisted(api_server, broker, setting):
    library_path = str(setting.attack_library.path)
    ok, message = api_server.test_connection(
        "kafka_library", host=broker.plaintext, extra={"plugin.library.paths": library_path}
    )
    assert not ok
    assert "Property 'plugin.library.paths' in the extra of connection " in message  # the Test names it at random
    assert f"add {library_path!r} to [kafka_connector] allowed_library_paths" in message
    ok, message = api_server.test_connection(
        "kafka_assertion", host=broker.plaintext, extra=assertion_extra(setting.attacker.url, setting.assertion_file)
    )
    assert not ok and f"add {setting.attacker.url!r} to [kafka_connector] allowed_urls" in message
    assert not setting.attack_library.loaded
    assert setting.attacker.requests == []

    # Listed: the library loads in the API server and the Test connects; the listed URL receives the assertion.
    ok, message = api_server.test_connection(
        "kafka_listed", host=broker.plaintext, extra={"plugin.library.paths": str(setting.listed_library.path)}
    )
    assert ok and message.startswith("Connected to Kafka cluster"), message
    assert setting.listed_library.loaded
    ok, message = api_server.test_connection(
        "kafka_listed_url", host=broker.plaintext, extra=assertion_extra(setting.listed.url, setting.assertion_file)
    )
    assert not ok and "invalid_client" in message, message
    assert any(ASSERTION_CONTENT in request for request in setting.listed.requests)


@pytest.mark.parametrize(
    "extra, first_words",
    [
        ({"sasl.kerberos.kinit.cmd": "touch /tmp/kinit-ran"}, "Property 'sasl.kerberos.kinit.cmd' in the extra"),
        ({"sasl.kerberos.kinit.cmd": "/usr/bin/kinit"}, "Property 'sasl.kerberos.kinit.cmd' in the extra"),  # Java
        ({"sasl.kerberos.principal": "a@B; touch /tmp/x"}, "Property 'sasl.kerberos.principal' in the extra"),
        ({"ssl.engine.location": "/tmp/engine.so"}, "Property 'ssl.engine.location' in the extra"),
        ({"internal.termination.signal": 10}, "Property 'internal.termination.signal' in the extra"),
        ({"kafka_connector.delivery_tally": "0"}, "Property 'kafka_connector.delivery_tally' in the extra"),
        ({"oauth_cb": "os.system"}, "Property 'oauth_cb' in the extra"),
        ({"linger.msx": 5}, "Property 'linger.msx' in the extra"),
        ({"schema.registry.url": "http://169.254.169.254/latest"}, "Property 'schema.registry.url' in the extra"),
    ],
)
def test_the_connections_test_refuses_each_guarded_property_by_name(api_server, broker, extra, first_words):
    ok, message = api_server.test_connection("kafka_guarded", host=broker.plaintext, extra=extra)
    assert not ok
    assert first_words in message and "is refused" in message, message
