"""The property policy: what a connection's extra or a task's additional properties may make the producer do.

Anyone who may edit an Airflow connection decides its extra, and the Connections Test builds the producer from it
inside the API server. librdkafka has properties that load a shared library, run a shell command, read a file and
send its content, or send requests to a URL and report the answer; none of that may happen because a connection or
a task's (rendered) properties ask for it. Each property handed to librdkafka is, after the Java names are
translated (so no alias slips past):

- allowed as it is (most properties);
- value-checked against the deployment's allowlists in the ``[kafka_connector]`` section of Airflow's configuration:
  the URLs the client sends requests to, the files it reads in order to send them, the libraries it loads;
- refused unless the deployment lists its name in ``allowed_properties``: properties that load code by name, run a
  command, fetch cloud-metadata tokens, or change the whole process, and names librdkafka does not know;
- a token callback (``oauth_cb``, a dotted path to a function) only where the deployment lists it in
  ``callback_allowlist``;
- always refused: the provider's own reserved names, other properties that need a Python object, and Kerberos
  names that a shell would interpret.

Empty allowlists (the default) allow none of these, as Kafka 4's Java client allows no OAuth URL by default.

Pure logic: no Airflow and no confluent_kafka import.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from airflow_provider_kafka_connector import aws_msk_iam, google_managed_kafka
from airflow_provider_kafka_connector.exceptions import PropertyPolicyError
from airflow_provider_kafka_connector.java_properties import LIBRDKAFKA_PRODUCER_PROPERTIES, unknown_property_message

SECTION = "kafka_connector"
ALLOWED_URLS = "allowed_urls"
ALLOWED_FILES = "allowed_files"
ALLOWED_LIBRARY_PATHS = "allowed_library_paths"
ALLOWED_PROPERTIES = "allowed_properties"
CALLBACK_ALLOWLIST = "callback_allowlist"
OPTIONS = (ALLOWED_URLS, ALLOWED_FILES, ALLOWED_LIBRARY_PATHS, ALLOWED_PROPERTIES, CALLBACK_ALLOWLIST)
# The one callback property a connection may name, as a dotted path to a function the deployment has listed:
# confluent-kafka calls it with 'sasl.oauthbearer.config' and it returns an OAuth token and its expiry.
OAUTH_CALLBACK = "oauth_cb"

# The provider's own properties (the delivery-tally plugin's): set by the provider only, never from input.
RESERVED_PREFIX = "kafka_connector."

# librdkafka properties that a producer may set although librdkafka's documentation marks them deprecated, and
# `enable.sparse.connections`, which it does not document.
_OTHER_LIBRDKAFKA_PROPERTIES = frozenset(
    {
        "api.version.fallback.ms",
        "api.version.request",
        "broker.version.fallback",
        "enable.sparse.connections",
        "produce.offset.report",
        "queuing.strategy",
        "reconnect.backoff.jitter.ms",
        "socket.blocking.max.ms",
        "ssl.engine.location",
        "topic.metadata.refresh.fast.cnt",
    }
)
KNOWN_PROPERTIES = LIBRDKAFKA_PRODUCER_PROPERTIES | _OTHER_LIBRDKAFKA_PROPERTIES

# librdkafka properties whose value is a Python object (or a C pointer), which text cannot give.
_OBJECT_PROPERTIES = frozenset(
    {"logger", "opaque", "default_topic_conf", "interceptors", "ssl_key", "ssl_certificate", "ssl_ca"}
)

# Sent as a request: the token endpoint (with the client secret or the assertion).
URL_PROPERTIES = ("sasl.oauthbearer.token.endpoint.url",)
# Read, and their content sent to the token endpoint (the assertion itself, or a JWT signed with the key and
# filled from the template).
SENT_FILE_PROPERTIES = (
    "sasl.oauthbearer.assertion.file",
    "sasl.oauthbearer.assertion.private.key.file",
    "sasl.oauthbearer.assertion.jwt.template.file",
)
# Paths of shared libraries that librdkafka (or OpenSSL through it) loads into the process.
LIBRARY_PROPERTIES = {
    "plugin.library.paths": "loads each library it names into the process and runs its code",
    "ssl.engine.location": "loads an OpenSSL engine library into the process and runs its code",
}
# Refused unless the deployment lists the name in allowed_properties.
GUARDED_PROPERTIES = {
    "ssl.engine.id": "makes OpenSSL load the engine of that name, code from outside the provider",
    "ssl.providers": "makes OpenSSL load the providers of those names, code from outside the provider",
    "sasl.kerberos.kinit.cmd": "is run as a shell command",
    "internal.termination.signal": "installs a signal handler in the whole Airflow process, not just the producer",
}
METADATA_AUTHENTICATION = "sasl.oauthbearer.metadata.authentication.type"
# Rendered by librdkafka into its Kerberos shell command (`kinit ... -t "%{sasl.kerberos.keytab}" -k
# %{sasl.kerberos.principal}`): the principal unquoted, the keytab in double quotes.
_SAFE_KERBEROS = {
    "sasl.kerberos.principal": re.compile(r"[A-Za-z0-9._@/+=-]+"),
    "sasl.kerberos.keytab": re.compile(r'[^"$`\\\n\r]+'),
}
# Schema Registry properties that name its URLs (the registry client reads them, never librdkafka).
REGISTRY_URL_PROPERTY = "schema.registry.url"


def _callback_reason(path: str) -> str:
    if path == aws_msk_iam.CALLBACK:
        return (
            "is Amazon MSK's IAM login (sasl.mechanism AWS_MSK_IAM, or MSK's IAMOAuthBearerLoginCallbackHandler), "
            "which signs a token with the AWS identity of the machine it runs on and sends it to the broker the "
            "connection names, and the deployment has not allowed it"
        )
    if path == google_managed_kafka.CALLBACK:
        return (
            "is Google Managed Service for Apache Kafka's login (Google's GcpLoginCallbackHandler), which sends an "
            "access token of the machine's Google service account to the broker the connection names, and the "
            "deployment has not allowed it"
        )
    return f"names the token callback {path!r}, code that runs in the process, and it is not an allowed callback"


def environment_variable(option: str) -> str:
    return f"AIRFLOW__{SECTION.upper()}__{option.upper()}"


def _how_to_allow(option: str, value: str) -> str:
    return (
        f"add {value!r} to [{SECTION}] {option} (environment variable {environment_variable(option)}) in the "
        "Airflow configuration of the workers and of the API server (which runs the Connections Test)."
    )


def _listed(text: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in text.split(",") if item.strip())


@dataclass(frozen=True)
class PropertyPolicy:
    """The deployment's allowlists; the default allows nothing beyond the properties that are allowed as they are."""

    allowed_urls: tuple[str, ...] = ()
    allowed_files: tuple[str, ...] = ()
    allowed_library_paths: tuple[str, ...] = ()
    allowed_properties: tuple[str, ...] = ()
    callback_allowlist: tuple[str, ...] = ()

    @classmethod
    def from_options(cls, option: Callable[[str], str]) -> PropertyPolicy:
        """From the comma-separated values of the [kafka_connector] options (``option(name)`` gives each)."""
        return cls(*(_listed(option(name) or "") for name in OPTIONS))

    def check(self, properties: Mapping[str, str], layer: str) -> None:
        """Raise PropertyPolicyError for the first property of this layer (librdkafka names) that is refused."""
        for name, value in properties.items():
            self._check_property(name, value, layer)

    def check_registry_urls(self, urls: str, layer: str) -> None:
        """The Schema Registry URLs (comma-separated) of a layer: the client sends requests to each."""
        for url in _listed(urls):
            self._check_url(REGISTRY_URL_PROPERTY, _without_credentials(url), layer)

    def _check_property(self, name: str, value: str, layer: str) -> None:
        if name.startswith(RESERVED_PREFIX):
            raise _refused(name, layer, "is the provider's own and cannot be set")
        if name == OAUTH_CALLBACK:
            if value.strip() not in self.callback_allowlist:
                raise _refused(name, layer, _callback_reason(value.strip()), CALLBACK_ALLOWLIST, value.strip())
            return
        if name.endswith("_cb") or name in _OBJECT_PROPERTIES:
            raise _refused(
                name,
                layer,
                "needs a Python object, which a connection's extra or a task's properties (text) cannot give",
            )
        if name in _SAFE_KERBEROS and not _SAFE_KERBEROS[name].fullmatch(value):
            raise _refused(
                name,
                layer,
                "goes into the shell command librdkafka runs for Kerberos, and this value has characters a shell "
                "would interpret; give a plain principal and keytab path",
            )
        if name in URL_PROPERTIES:
            self._check_url(name, value.strip(), layer)
        elif name in SENT_FILE_PROPERTIES:
            self._check_file(name, value.strip(), layer)
        elif name in LIBRARY_PROPERTIES:
            for path in (path.strip() for path in value.split(";")):
                if path and not _path_listed(path, self.allowed_library_paths):
                    raise _refused(name, layer, LIBRARY_PROPERTIES[name], ALLOWED_LIBRARY_PATHS, path)
        elif name in self.allowed_properties:
            return
        elif name in GUARDED_PROPERTIES:
            raise _refused(name, layer, GUARDED_PROPERTIES[name], ALLOWED_PROPERTIES, name)
        elif name == METADATA_AUTHENTICATION and value.strip().lower() != "none":
            raise _refused(
                name,
                layer,
                f"is set to {value!r}, which makes the client fetch tokens from the cloud's instance metadata "
                "service with the machine's identity",
                ALLOWED_PROPERTIES,
                name,
            )
        elif name not in KNOWN_PROPERTIES:
            raise PropertyPolicyError(
                f"Property {name!r} in {layer} is refused: {unknown_property_message(name)} If it is a property of "
                f"a newer librdkafka, {_how_to_allow(ALLOWED_PROPERTIES, name)}"
            )

    def _check_url(self, name: str, url: str, layer: str) -> None:
        if url not in self.allowed_urls:
            raise _refused(
                name,
                layer,
                f"makes the client send requests to {url!r}, which is not an allowed URL",
                ALLOWED_URLS,
                url,
            )

    def _check_file(self, name: str, path: str, layer: str) -> None:
        if not _file_listed(path, self.allowed_files):
            raise _refused(
                name,
                layer,
                f"makes the client read {path!r} and send its content, and that file is not an allowed file",
                ALLOWED_FILES,
                path,
            )


DENY_ALL = PropertyPolicy()


def _refused(name: str, layer: str, why: str, option: str | None = None, value: str = "") -> PropertyPolicyError:
    message = f"Property {name!r} in {layer} is refused: it {why}."
    return PropertyPolicyError(f"{message} To allow it, {_how_to_allow(option, value)}" if option else message)


def _without_credentials(url: str) -> str:
    """The URL as it is listed: without the user and password that a registry URL may carry."""
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    host = parts.netloc.rsplit("@", 1)[1]
    return urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment))


def _real(path: str) -> str:
    return os.path.realpath(os.path.expanduser(path))


def _file_listed(path: str, allowed: Iterable[str]) -> bool:
    """An allowed file is listed itself, or lies in a listed directory (given with a trailing '/'); links and '..'
    are resolved on both sides, so neither leads out of what is listed."""
    real = _real(path)
    for entry in allowed:
        if entry.endswith("/"):
            if real.startswith(_real(entry).rstrip("/") + "/"):
                return True
        elif real == _real(entry):
            return True
    return False


def _path_listed(path: str, allowed: Iterable[str]) -> bool:
    """A library path is listed as written, or (a path with a directory) as the same file."""
    entries = tuple(allowed)
    if path in entries:
        return True
    return "/" in path and _file_listed(path, (entry for entry in entries if "/" in entry))
