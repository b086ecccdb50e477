"""Producer properties written the Java client's way, turned into librdkafka's.

The spec sends users to Kafka's documentation, which describes the Java client, and its own defaults are in
Java form. librdkafka (under confluent-kafka) shares many of those names, knows some under other names, and
has nothing for others. Every Java producer property of Kafka 4.4 (ProducerConfig with its common client,
SASL and SSL settings), plus the consumer settings people copy along, has a row in
`JAVA_PRODUCER_PROPERTIES` that says what becomes of it: passed on under the same name, renamed, translated,
dropped with a warning, or rejected with an error that says what to use instead. Any other name is taken as
librdkafka's own and passed on for librdkafka to validate.

Pure logic: no Airflow and no confluent_kafka import.
"""

from __future__ import annotations

import difflib
import logging
import math
import re
import shlex
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from airflow_provider_kafka_connector import aws_msk_iam, google_managed_kafka
from airflow_provider_kafka_connector.exceptions import KafkaConfigurationError

log = logging.getLogger(__name__)

LIBRDKAFKA_CONFIGURATION_URL = "https://github.com/confluentinc/librdkafka/blob/master/CONFIGURATION.md"


class ProducerConfigError(KafkaConfigurationError):
    """The connection or the additional properties cannot make a producer configuration (still a ValueError)."""


Setting = tuple[str, str]
ValueRule = Callable[[str, Any], str]
Translator = Callable[[str, Any, Mapping[str, Any]], list[Setting]]

PASS = "pass"
RENAME = "rename"
TRANSLATE = "translate"
DROP = "drop"
REJECT = "reject"


@dataclass(frozen=True)
class JavaProperty:
    """What becomes of one Java client property in librdkafka's configuration."""

    outcome: str
    librdkafka_name: str = ""  # for pass and rename; empty means the Java name itself
    value: ValueRule | None = None  # for pass and rename; None takes any scalar as text
    translator: Translator | None = None
    reason: str = ""  # drop: why librdkafka does without it; reject: what to use instead

    def librdkafka_value(self, name: str, value: Any) -> str:
        return (self.value or _text)(name, value)

    def settings(self, name: str, value: Any, layer: Mapping[str, Any]) -> list[Setting]:
        if self.outcome in (PASS, RENAME):
            return [(self.librdkafka_name or name, self.librdkafka_value(name, value))]
        if self.outcome == TRANSLATE and self.translator is not None:
            return self.translator(name, value, layer)
        if self.outcome == DROP:
            log.warning("Additional property %r is ignored: it %s.", name, self.reason)
            return []
        raise ProducerConfigError(f"Additional property {name!r} cannot be used: {self.reason}.")


def translate_properties(properties: Mapping[str, Any]) -> dict[str, str]:
    """One layer of additional properties as librdkafka's configuration, Java names translated."""
    layer = {str(name).strip(): value for name, value in properties.items()}
    config: dict[str, str] = {}
    set_by: dict[str, str] = {}
    for raw_name, value in properties.items():
        name = str(raw_name).strip()
        for librdkafka_name, text in _settings(name, value, layer):
            if librdkafka_name in config:
                raise ProducerConfigError(
                    f"Additional properties set {librdkafka_name!r} twice: as {set_by[librdkafka_name]!r} "
                    f"and as {name!r}; keep one of them."
                )
            config[librdkafka_name] = text
            set_by[librdkafka_name] = name
    return config


def unknown_property_message(name: str) -> str:
    """What to tell a user whose property librdkafka does not know, with the closest known names."""
    useful_java_names = {java for java, row in JAVA_PRODUCER_PROPERTIES.items() if row.outcome not in (DROP, REJECT)}
    candidates = sorted(useful_java_names | LIBRDKAFKA_PRODUCER_PROPERTIES | set(LIBRDKAFKA_ALIASES))
    close = difflib.get_close_matches(name, candidates, n=3, cutoff=0.7)
    suggestion = f" Did you mean {' or '.join(repr(match) for match in close)}?" if close else ""
    return (
        f"{name!r} is neither a librdkafka producer property nor a Java client property this provider "
        f"translates.{suggestion} librdkafka's properties are listed at {LIBRDKAFKA_CONFIGURATION_URL}."
    )


def _settings(name: str, value: Any, layer: Mapping[str, Any]) -> list[Setting]:
    canonical = LIBRDKAFKA_ALIASES.get(name, name)
    if canonical == aws_msk_iam.TOKEN_CONFIG and _is_msk_layer(layer):
        return []  # the MSK login's translation merges it with the JAAS line's options
    row = JAVA_PRODUCER_PROPERTIES.get(canonical)
    if row is None:
        return [(canonical, _text(name, value))]
    if canonical != name:  # a librdkafka alias: its value follows the row, its messages name what the user wrote
        return [(canonical, row.librdkafka_value(name, value))]
    return row.settings(name, value, layer)


def _sibling(layer: Mapping[str, Any], canonical: str) -> Any:
    """The value another property of the same layer gives `canonical`, under its name or an alias."""
    for name, value in layer.items():
        if LIBRDKAFKA_ALIASES.get(name, name) == canonical:
            return value
    return None


# ---------------------------------------------------------------------------------------------------------------
# Values


def _text(name: str, value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (str, int, float)):
        return str(value)
    if isinstance(value, (list, tuple)) and all(isinstance(item, str) for item in value):
        return ",".join(value)
    raise ProducerConfigError(
        f"Additional property {name!r} has a value of type {type(value).__name__}; "
        "give a string, number, boolean or list of strings."
    )


def _whole_number(name: str, value: Any) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, str) and re.fullmatch(r"\s*[+-]?\d+\s*", value):
        return str(int(value))
    raise ProducerConfigError(f"Additional property {name!r} must be a whole number, not {value!r}.")


def _number(name: str, value: Any) -> str:
    if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
        return str(int(value)) if float(value).is_integer() else str(value)
    if isinstance(value, str):
        try:
            return _number(name, float(value))
        except (ValueError, ProducerConfigError):
            pass
    raise ProducerConfigError(f"Additional property {name!r} must be a number, not {value!r}.")


def _boolean(name: str, value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower()
    raise ProducerConfigError(f"Additional property {name!r} must be true or false, not {value!r}.")


def _is_true(name: str, value: Any) -> bool:
    return _boolean(name, value) == "true"


def _one_of(*choices: str) -> ValueRule:
    """A value from a fixed list, matched without regard to case and written as librdkafka spells it."""
    by_lower_case = {choice.lower(): choice for choice in choices}

    def choose(name: str, value: Any) -> str:
        chosen = by_lower_case.get(str(value).strip().lower()) if isinstance(value, (str, int)) else None
        if chosen is None:
            raise ProducerConfigError(
                f"Additional property {name!r} must be one of {', '.join(choices)}, not {value!r}."
            )
        return chosen

    return choose


def _upper_case(name: str, value: Any) -> str:
    return _text(name, value).strip().upper()


def _acks(name: str, value: Any) -> str:
    text = str(value).strip().lower() if isinstance(value, (str, int)) and not isinstance(value, bool) else None
    if text in ("all", "-1"):
        return "all"
    if text in ("0", "1"):
        return text
    raise ProducerConfigError(f"Additional property {name!r} must be all, -1, 0 or 1, not {value!r}.")


def _server_list(name: str, value: Any) -> str:
    if isinstance(value, str):
        items = value.split(",")
    elif isinstance(value, (list, tuple)) and all(isinstance(item, str) for item in value):
        items = list(value)
    else:
        raise ProducerConfigError(
            f"Additional property {name!r} must be 'host:port,host:port' or a list of 'host:port' strings."
        )
    return ",".join(item.strip() for item in items if item.strip())


def _batch_size(name: str, value: Any) -> str:
    size = _whole_number(name, value)
    if int(size) < 1:
        raise ProducerConfigError(
            f"Additional property {name!r} must be at least 1 in librdkafka; Java's 0 (no batching) is "
            "'batch.num.messages': 1 there."
        )
    return size


def _socket_buffer_bytes(name: str, value: Any) -> str:
    size = _whole_number(name, value)
    return "0" if size == "-1" else size  # the operating system's default: -1 in Java, 0 in librdkafka


def _kibibytes(name: str, value: Any) -> str:
    size = int(_whole_number(name, value))
    return str(max(1, math.ceil(size / 1024)))


def _endpoint_identification(name: str, value: Any) -> str:
    text = value.strip().lower() if isinstance(value, str) else None
    if text == "https":
        return "https"
    if text in ("", "none"):
        return "none"  # Java disables host name verification with an empty value
    raise ProducerConfigError(f"Additional property {name!r} must be 'https', or '' to disable it, not {value!r}.")


def _class_name(name: str, value: Any) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ProducerConfigError(f"Additional property {name!r} must be a Java class name.")
    return value.strip().removeprefix("class ").strip()  # as Java logs it: "class org.apache..."


def _list_items(name: str, value: Any) -> list[str]:
    return [item for item in re.split(r"[\s,:]+", _text(name, value)) if item]


# ---------------------------------------------------------------------------------------------------------------
# Translations: sasl.jaas.config


class JaasSyntaxError(KafkaConfigurationError):
    """A JAAS line that cannot be read; the message never quotes the line."""


@dataclass(frozen=True)
class JaasEntry:
    login_module: str
    control_flag: str
    options: dict[str, str]


_JAAS_CONTROL_FLAGS = ("required", "requisite", "sufficient", "optional")
_JAAS_ESCAPES = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v"}
_JAAS_OPTION_FORMAT = (
    "each option must be written key=value, and a value must be quoted unless it is one plain word (letters, "
    "digits, '.', '-', '_' or '$', not starting with a digit), as in password='my secret'"
)
_DIGITS = "0123456789"


def parse_jaas_config(text: str) -> list[JaasEntry]:
    """Read `<LoginModule> <flag> (key=value)*;` as Kafka 4.4's own parser (JaasConfig) does.

    One difference: where Java silently ends a quoted value at the end of its line, this refuses the line.
    """
    tokens = list(_jaas_tokens(text))
    entries = []
    position = 0
    while position < len(tokens):
        entry, position = _jaas_entry(tokens, position)
        entries.append(entry)
    if not entries:
        raise JaasSyntaxError("it names no login module")
    return entries


def _jaas_tokens(text: str) -> Iterator[tuple[str, str]]:
    """(kind, text) pairs as java.io.StreamTokenizer reads them with the syntax Kafka sets up.

    kind is 'word', 'quoted', 'number' (which Java gives no text, so it cannot be a value), or any other
    character standing for itself, such as ';' and '='.
    """
    position = 0
    while position < len(text):
        char = text[position]
        if char <= " ":
            position += 1
        elif char in _DIGITS + "." or (char == "-" and text[position + 1 : position + 2] in tuple(_DIGITS + ".")):
            position = _after_jaas_number(text, position)
            yield "number", ""
        elif _is_jaas_word_start(char):
            end = position + 1
            while end < len(text) and (_is_jaas_word_start(text[end]) or text[end] in _DIGITS + ".-"):
                end += 1
            yield "word", text[position:end]
            position = end
        elif char in "\"'":
            value, position = _jaas_quoted(text, position)
            yield "quoted", value
        elif char == "/":
            position = _after_jaas_comment(text, position)
        else:
            yield char, char
            position += 1


def _is_jaas_word_start(char: str) -> bool:
    return (char.isascii() and char.isalpha()) or char in "_$" or ord(char) >= 160


def _after_jaas_number(text: str, position: int) -> int:
    position += text[position] == "-"
    seen_dot = False
    while position < len(text) and (text[position] in _DIGITS or (text[position] == "." and not seen_dot)):
        seen_dot = seen_dot or text[position] == "."
        position += 1
    return position


def _after_jaas_comment(text: str, position: int) -> int:
    if text.startswith("/*", position):
        end = text.find("*/", position + 2)
        return len(text) if end < 0 else end + 2
    line_ends = [index for index in (text.find("\n", position), text.find("\r", position)) if index >= 0]
    return min(line_ends, default=len(text))


def _jaas_quoted(text: str, position: int) -> tuple[str, int]:
    quote = text[position]
    chars: list[str] = []
    position += 1
    while position < len(text) and text[position] not in (quote, "\n", "\r"):
        if text[position] != "\\":
            chars.append(text[position])
            position += 1
            continue
        if position + 1 >= len(text):
            break
        char, position = _jaas_escape(text, position + 1)
        chars.append(char)
    if position >= len(text) or text[position] != quote:
        raise JaasSyntaxError("a quoted value is not closed on its line")
    return "".join(chars), position + 1


def _jaas_escape(text: str, position: int) -> tuple[str, int]:
    """The character a backslash escape stands for, and where the text goes on."""
    first = text[position]
    if not "0" <= first <= "7":
        return _JAAS_ESCAPES.get(first, first), position + 1
    digits = first
    position += 1
    longest = 3 if first <= "3" else 2
    while len(digits) < longest and position < len(text) and "0" <= text[position] <= "7":
        digits += text[position]
        position += 1
    return chr(int(digits, 8)), position


def _jaas_entry(tokens: list[tuple[str, str]], position: int) -> tuple[JaasEntry, int]:
    kind, login_module = tokens[position]
    if kind not in ("word", "quoted") or not login_module:
        raise JaasSyntaxError("it must start with the login module's class name")
    if position + 1 >= len(tokens):
        raise JaasSyntaxError("the login module has no control flag; write 'required' after it")
    kind, flag = tokens[position + 1]
    if kind not in ("word", "quoted") or flag.lower() not in _JAAS_CONTROL_FLAGS:
        raise JaasSyntaxError(f"the login module's control flag must be one of {', '.join(_JAAS_CONTROL_FLAGS)}")
    options: dict[str, str] = {}
    position += 2
    while position < len(tokens) and tokens[position][0] != ";":
        key, equals, value = (tokens[position : position + 3] + [("", "")] * 3)[:3]
        if key[0] not in ("word", "quoted") or equals[0] != "=" or value[0] not in ("word", "quoted"):
            raise JaasSyntaxError(_JAAS_OPTION_FORMAT)
        options[key[1]] = value[1]
        position += 3
    if position >= len(tokens):
        raise JaasSyntaxError("it does not end with ';'")
    return JaasEntry(login_module, flag.lower(), options), position + 1


_UNSECURED_OAUTH_JAAS = (
    "uses OAuthBearerLoginModule without a token endpoint: the Java client then makes its own unsigned "
    "(unsecured) tokens, which only a test broker accepts. For an identity provider's tokens, add "
    "'sasl.login.callback.handler.class': 'org.apache.kafka.common.security.oauthbearer."
    "OAuthBearerLoginCallbackHandler', 'sasl.oauthbearer.token.endpoint.url' and the options clientId, clientSecret "
    "and (if needed) scope to the JAAS line; or set librdkafka's 'sasl.oauthbearer.method': 'oidc', "
    "'sasl.oauthbearer.token.endpoint.url', 'sasl.oauthbearer.client.id' and 'sasl.oauthbearer.client.secret'"
)
_KERBEROS_INSTEAD_OF_JAAS = (
    "uses Krb5LoginModule, which librdkafka does not take as a JAAS line: it runs kinit itself. Remove "
    "'sasl.jaas.config' and set 'sasl.mechanism': 'GSSAPI', 'sasl.kerberos.principal' (the JAAS principal), "
    "'sasl.kerberos.keytab' (keyTab) and 'sasl.kerberos.service.name' (usually 'kafka')"
)
_CREDENTIAL_LOGIN_MODULES = ("PlainLoginModule", "ScramLoginModule")


def _jaas_credentials(name: str, value: Any, layer: Mapping[str, Any]) -> list[Setting]:
    """PLAIN and SCRAM JAAS lines become sasl.username and sasl.password; errors never quote the line."""
    if not isinstance(value, str):
        raise ProducerConfigError(f"Additional property {name!r} must be a JAAS line as text.")
    try:
        entries = parse_jaas_config(value)
    except JaasSyntaxError as error:
        raise ProducerConfigError(f"Additional property {name!r} cannot be read: {error}.") from None
    if len(entries) != 1:
        raise ProducerConfigError(
            f"Additional property {name!r} holds {len(entries)} login modules; a client uses exactly one."
        )
    entry = entries[0]
    module = entry.login_module.rsplit(".", 1)[-1]
    if module in _CREDENTIAL_LOGIN_MODULES:
        return _credentials(name, module, entry.options)
    login_handler = _sibling_class(layer, "sasl.login.callback.handler.class")
    if entry.login_module == _MSK_LOGIN_MODULE or (
        module == "OAuthBearerLoginModule" and login_handler in _MSK_HANDLERS
    ):
        return _msk_iam(name, entry.options, layer)
    if module == "OAuthBearerLoginModule" and login_handler == _GOOGLE_LOGIN_HANDLER:
        return []  # the login callback handler brings Google's token callback; Google's line has no options
    if module == "OAuthBearerLoginModule":
        return _oauth_client_credentials(name, entry.options, layer)
    if module == "Krb5LoginModule":
        raise ProducerConfigError(f"Additional property {name!r} {_KERBEROS_INSTEAD_OF_JAAS}.")
    shown = repr(module) if re.fullmatch(r"[A-Za-z_$][\w$]*LoginModule", module) else "its login module"
    raise ProducerConfigError(
        f"Additional property {name!r} uses {shown}, which librdkafka cannot run. For PLAIN or SCRAM use "
        "PlainLoginModule or ScramLoginModule with username and password options, or set 'sasl.username' and "
        "'sasl.password' directly."
    )


def _credentials(name: str, module: str, options: Mapping[str, str]) -> list[Setting]:
    for required in ("username", "password"):
        if required not in options:
            raise ProducerConfigError(f"Additional property {name!r}: the {module} line has no {required} option.")
    if options.get("tokenauth", "false").lower() == "true":
        raise ProducerConfigError(
            f"Additional property {name!r} asks for delegation token authentication (tokenauth=true), "
            "which librdkafka does not support."
        )
    ignored = len(set(options) - {"username", "password", "tokenauth"})
    if ignored:
        log.warning(
            "Additional property %r: only the username and password options are used; %d other option(s) ignored.",
            name,
            ignored,
        )
    return [("sasl.username", options["username"]), ("sasl.password", options["password"])]


# The OAuthBearerLoginModule options of the client-credentials login, and librdkafka's property for each.
_OAUTH_JAAS_OPTIONS = {
    "clientId": "sasl.oauthbearer.client.credentials.client.id",
    "clientSecret": "sasl.oauthbearer.client.credentials.client.secret",
    "scope": "sasl.oauthbearer.scope",
}
_OAUTH_EXTENSION_PREFIX = "extension_"


def _oauth_client_credentials(name: str, options: Mapping[str, str], layer: Mapping[str, Any]) -> list[Setting]:
    """An OAuthBearerLoginModule line (KIP-768's client-credentials login) as librdkafka's OIDC login.

    The token endpoint, and since Kafka 4.1 the client's id and secret, are properties of their own, which may come
    in another layer (the connection's extra beside a task's line); librdkafka says which one is missing. A line
    with neither client credentials nor the OAuth login callback handler or a token endpoint beside it is the Java
    client's unsecured-token login, which no real broker accepts."""
    handler = _sibling(layer, "sasl.login.callback.handler.class")
    oauth_handler = handler is not None and _class_name(name, handler) in _OAUTH_LOGIN_HANDLERS
    credentials = "clientId" in options or "clientSecret" in options
    endpoint = _sibling(layer, "sasl.oauthbearer.token.endpoint.url")
    if any(option.startswith("unsecuredLogin") for option in options) or not (oauth_handler or credentials or endpoint):
        raise ProducerConfigError(f"Additional property {name!r} {_UNSECURED_OAUTH_JAAS}.")
    settings = [
        (_OAUTH_JAAS_OPTIONS[option], value) for option, value in options.items() if option in _OAUTH_JAAS_OPTIONS
    ]
    extensions = [
        f"{key[len(_OAUTH_EXTENSION_PREFIX) :]}={value}"
        for key, value in options.items()
        if key.startswith(_OAUTH_EXTENSION_PREFIX)
    ]
    if extensions:
        settings.append(("sasl.oauthbearer.extensions", ",".join(extensions)))
    if handler is None and _sibling(layer, "sasl.oauthbearer.method") is None:
        settings.append(("sasl.oauthbearer.method", "oidc"))
    ignored = sum(
        1 for key in options if key not in _OAUTH_JAAS_OPTIONS and not key.startswith(_OAUTH_EXTENSION_PREFIX)
    )
    if ignored:
        log.warning("Additional property %r: %d OAuthBearerLoginModule option(s) ignored.", name, ignored)
    return settings


# ---------------------------------------------------------------------------------------------------------------
# Translations: Amazon MSK's IAM authentication (AWS's Java library aws-msk-iam-auth), as aws_msk_iam's callback

_MSK_PACKAGE = "software.amazon.msk.auth.iam."
_MSK_LOGIN_MODULE = _MSK_PACKAGE + "IAMLoginModule"
_MSK_HANDLERS = frozenset(
    {_MSK_PACKAGE + "IAMClientCallbackHandler", _MSK_PACKAGE + "IAMOAuthBearerLoginCallbackHandler"}
)
_MSK_SETTINGS_FROM = (
    "the JAAS line's options awsProfileName, awsRoleArn, awsRoleSessionName, awsRoleExternalId and awsStsRegion"
)


# Google Managed Service for Apache Kafka's login for Java clients (its managed-kafka-auth-login-handler).
_GOOGLE_LOGIN_HANDLER = "com.google.cloud.hosted.kafka.auth.GcpLoginCallbackHandler"


def _is_msk_layer(layer: Mapping[str, Any]) -> bool:
    jaas = _sibling(layer, "sasl.jaas.config")
    login_handler = _sibling_class(layer, "sasl.login.callback.handler.class")
    return (isinstance(jaas, str) and _MSK_LOGIN_MODULE in jaas) or login_handler in _MSK_HANDLERS


def _msk_iam(name: str, options: Mapping[str, str], layer: Mapping[str, Any]) -> list[Setting]:
    ignored = sorted(set(options) - set(aws_msk_iam.HONOURED_OPTIONS))
    if ignored:
        log.warning(
            "Additional property %r: the MSK IAM login uses %s; these options are ignored: %s.",
            name,
            _MSK_SETTINGS_FROM,
            ", ".join(ignored),
        )
    given = _sibling(layer, aws_msk_iam.TOKEN_CONFIG)
    text = " ".join(
        filter(None, (_text(aws_msk_iam.TOKEN_CONFIG, given) if given else "", aws_msk_iam.token_config(options)))
    )
    settings = [("oauth_cb", aws_msk_iam.CALLBACK)]
    return [*settings, (aws_msk_iam.TOKEN_CONFIG, text)] if text else settings


def _mechanism(name: str, value: Any, layer: Mapping[str, Any]) -> list[Setting]:
    mechanism = _upper_case(name, value)
    if mechanism != aws_msk_iam.MECHANISM:
        return [("sasl.mechanism", mechanism)]
    jaas = _sibling(layer, "sasl.jaas.config")
    if not (isinstance(jaas, str) and _MSK_LOGIN_MODULE in jaas):
        raise ProducerConfigError(
            f"Additional property {name!r} is {aws_msk_iam.MECHANISM}, Amazon MSK's IAM login: give it as MSK's "
            f"documentation does, with 'sasl.jaas.config': '{_MSK_LOGIN_MODULE} required;' beside it."
        )
    return [("sasl.mechanism", "OAUTHBEARER")]  # librdkafka sends MSK's token over OAUTHBEARER


def _sibling_class(layer: Mapping[str, Any], canonical: str) -> str:
    value = _sibling(layer, canonical)
    return value.strip() if isinstance(value, str) else ""


def _client_callback_handler(name: str, value: Any, layer: Mapping[str, Any]) -> list[Setting]:
    if _class_name(name, value) in _MSK_HANDLERS:
        return []  # the MSK JAAS line (or login callback handler) brings the token callback
    log.warning("Additional property %r is ignored: it %s.", name, _JAVA_CLASSES)
    return []


# ---------------------------------------------------------------------------------------------------------------
# Translations: serializers


_SERIALIZERS_THE_OPERATOR_MATCHES = frozenset(
    {
        "org.apache.kafka.common.serialization.StringSerializer",
        "org.apache.kafka.common.serialization.ByteArraySerializer",
    }
)


def _serializer(name: str, value: Any, layer: Mapping[str, Any]) -> list[Setting]:
    class_name = _class_name(name, value)
    if class_name in _SERIALIZERS_THE_OPERATOR_MATCHES:
        return []  # the operator sends str as UTF-8 and bytes unchanged, which is what these two do
    raise ProducerConfigError(
        f"Additional property {name!r} names {class_name!r}, a Java serializer that cannot run here. The operator "
        "serializes messages itself (str as UTF-8, bytes unchanged, other values as JSON text): remove the "
        "property, or name StringSerializer or ByteArraySerializer. For Avro or JSON Schema (Confluent's "
        "KafkaAvroSerializer, KafkaJsonSchemaSerializer), give the operator value_schema or key_schema and "
        "schema_type, with 'schema.registry.url' for a registry."
    )


def _string_encoding(name: str, value: Any, layer: Mapping[str, Any]) -> list[Setting]:
    if isinstance(value, str) and value.strip().upper().replace("-", "") == "UTF8":
        return []
    raise ProducerConfigError(
        f"Additional property {name!r} must be UTF-8: the operator encodes str as UTF-8; "
        "send bytes to use another encoding."
    )


# ---------------------------------------------------------------------------------------------------------------
# Translations: TLS stores


_STORE_TYPES = ("JKS", "PKCS12", "PEM")
_store_type_value = _one_of(*_STORE_TYPES)


def _store_type(layer: Mapping[str, Any], name: str) -> str | None:
    value = layer.get(name)
    return None if value is None else _store_type_value(name, value)


def _validated_store_type(name: str, value: Any, layer: Mapping[str, Any]) -> list[Setting]:
    _store_type_value(name, value)
    return []  # read by the location and PEM text rows of the same store


def _truststore_location(name: str, value: Any, layer: Mapping[str, Any]) -> list[Setting]:
    location = _text(name, value)
    store_type = _store_type(layer, "ssl.truststore.type")
    if store_type == "PEM":
        return [("ssl.ca.location", location)]
    unset = " ('ssl.truststore.type' is not set, and Java's default is JKS)" if store_type is None else ""
    store_type = store_type or "JKS"
    raise ProducerConfigError(
        f"Additional property {name!r} names a {store_type} truststore{unset}, which librdkafka cannot read: it "
        f"needs the CA certificates as PEM. Export them with 'keytool -list -rfc -keystore {location} -storetype "
        f"{store_type} -storepass <truststore password> > ca.pem', then set 'ssl.ca.location' to ca.pem (or keep "
        "'ssl.truststore.location' and set 'ssl.truststore.type': 'PEM'). If the file already is PEM, add "
        "'ssl.truststore.type': 'PEM'."
    )


def _truststore_certificates(name: str, value: Any, layer: Mapping[str, Any]) -> list[Setting]:
    if _store_type(layer, "ssl.truststore.type") not in (None, "PEM"):
        raise ProducerConfigError(f"Additional property {name!r} holds PEM text: set 'ssl.truststore.type' to PEM.")
    if "ssl.truststore.location" in layer:
        raise ProducerConfigError(
            "Additional properties give both 'ssl.truststore.location' and 'ssl.truststore.certificates'; keep one."
        )
    return [("ssl.ca.pem", _text(name, value))]


def _truststore_password(name: str, value: Any, layer: Mapping[str, Any]) -> list[Setting]:
    if _store_type(layer, "ssl.truststore.type") == "PEM":
        log.warning("Additional property %r is ignored: a PEM truststore has no password.", name)
    return []  # a JKS or PKCS12 truststore is refused by its location, with the command that converts it


def _keystore_location(name: str, value: Any, layer: Mapping[str, Any]) -> list[Setting]:
    location = _text(name, value)
    store_type = _store_type(layer, "ssl.keystore.type")
    if store_type in (None, "PKCS12"):  # librdkafka's own ssl.keystore.location is a PKCS#12 file
        return [("ssl.keystore.location", location)]
    if store_type == "PEM":  # one file with the private key and the certificate chain; OpenSSL picks each out
        return [("ssl.certificate.location", location), ("ssl.key.location", location)]
    raise ProducerConfigError(
        f"Additional property {name!r} names a JKS keystore, which librdkafka cannot read. Convert it with "
        f"'keytool -importkeystore -srckeystore {location} -srcstoretype JKS -destkeystore keystore.p12 "
        "-deststoretype PKCS12', then set 'ssl.keystore.type': 'PKCS12', 'ssl.keystore.location' to keystore.p12 "
        "and 'ssl.keystore.password'."
    )


def _keystore_password(name: str, value: Any, layer: Mapping[str, Any]) -> list[Setting]:
    store_type = _store_type(layer, "ssl.keystore.type")
    if store_type == "PEM":
        raise ProducerConfigError(
            f"Additional property {name!r} cannot be used with a PEM keystore, which has no store password; "
            "give the private key's passphrase as 'ssl.key.password'."
        )
    if store_type == "JKS":
        return []  # the JKS location is refused with the command that converts it
    return [("ssl.keystore.password", _text(name, value))]


def _keystore_pem(librdkafka_name: str) -> Translator:
    def translate(name: str, value: Any, layer: Mapping[str, Any]) -> list[Setting]:
        if _store_type(layer, "ssl.keystore.type") not in (None, "PEM"):
            raise ProducerConfigError(f"Additional property {name!r} holds PEM text: set 'ssl.keystore.type' to PEM.")
        return [(librdkafka_name, _text(name, value))]

    return translate


# TLS 1.3 suites are not chosen through OpenSSL's cipher list, which refuses their names; OpenSSL enables them all.
_TLS13_SUITES = frozenset(
    {
        "TLS_AES_128_GCM_SHA256",
        "TLS_AES_256_GCM_SHA384",
        "TLS_CHACHA20_POLY1305_SHA256",
        "TLS_AES_128_CCM_SHA256",
        "TLS_AES_128_CCM_8_SHA256",
    }
)


def _cipher_suites(name: str, value: Any, layer: Mapping[str, Any]) -> list[Setting]:
    suites = _list_items(name, value)
    tls12_suites = [suite for suite in suites if suite not in _TLS13_SUITES]
    if len(tls12_suites) < len(suites):
        log.warning("Additional property %r: TLS 1.3 suites are left out; OpenSSL enables all of them.", name)
    return [(name, ":".join(tls12_suites))] if tls12_suites else []


# ---------------------------------------------------------------------------------------------------------------
# Translations: compression, partitioning, OAuth, Kerberos


def _compression_level(codec: str) -> Translator:
    def translate(name: str, value: Any, layer: Mapping[str, Any]) -> list[Setting]:
        level = _whole_number(name, value)
        chosen = _sibling(layer, "compression.type")
        if chosen is not None and str(chosen).strip().lower() != codec:
            log.warning("Additional property %r is ignored: 'compression.type' is %r.", name, chosen)
            return []
        return [("compression.level", level)]

    return translate


_PARTITIONERS_BY_JAVA_CLASS = {
    "org.apache.kafka.clients.producer.internals.DefaultPartitioner": "murmur2_random",
    "org.apache.kafka.clients.producer.UniformStickyPartitioner": "random",
}
_LIBRDKAFKA_PARTITIONERS = (
    "murmur2_random (Java's default: the key's murmur2 hash), murmur2, random (keys ignored), consistent, "
    "consistent_random, fnv1a, fnv1a_random"
)


def _partitioner_class(name: str, value: Any, layer: Mapping[str, Any]) -> list[Setting]:
    class_name = _class_name(name, value)
    if not class_name:
        return []
    if class_name in _PARTITIONERS_BY_JAVA_CLASS:
        return [("partitioner", _PARTITIONERS_BY_JAVA_CLASS[class_name])]
    if class_name.endswith("RoundRobinPartitioner"):
        raise ProducerConfigError(
            f"Additional property {name!r}: librdkafka has no round-robin partitioner; to spread messages without "
            "regard to their keys, set 'partitioner': 'random'."
        )
    raise ProducerConfigError(
        f"Additional property {name!r} names a Java class, which librdkafka cannot run; set 'partitioner' to one "
        f"of librdkafka's: {_LIBRDKAFKA_PARTITIONERS}."
    )


def _ignore_keys(name: str, value: Any, layer: Mapping[str, Any]) -> list[Setting]:
    return [("partitioner", "random")] if _is_true(name, value) else []


_OAUTH_LOGIN_HANDLERS = frozenset(
    {
        "org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginCallbackHandler",
        "org.apache.kafka.common.security.oauthbearer.secured.OAuthBearerLoginCallbackHandler",
    }
)


def _login_callback_handler(name: str, value: Any, layer: Mapping[str, Any]) -> list[Setting]:
    class_name = _class_name(name, value)
    if not class_name:
        return []
    if class_name in _OAUTH_LOGIN_HANDLERS:
        return [("sasl.oauthbearer.method", "oidc")]  # librdkafka's own OAuth client-credentials login
    if class_name in _MSK_HANDLERS:
        return [] if _sibling(layer, "sasl.jaas.config") is not None else _msk_iam(name, {}, layer)
    if class_name == _GOOGLE_LOGIN_HANDLER:
        return [("oauth_cb", google_managed_kafka.CALLBACK)]
    raise ProducerConfigError(
        f"Additional property {name!r} names a Java class, which librdkafka cannot run. For OAuth, set "
        "'sasl.oauthbearer.method': 'oidc' with 'sasl.oauthbearer.token.endpoint.url', "
        "'sasl.oauthbearer.client.id' and 'sasl.oauthbearer.client.secret'."
    )


_JWT_BEARER_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
_OAUTH_PACKAGE = "org.apache.kafka.common.security.oauthbearer."


def _jwt_retriever(name: str, value: Any, layer: Mapping[str, Any]) -> list[Setting]:
    class_name = _class_name(name, value)
    if class_name in ("", f"{_OAUTH_PACKAGE}DefaultJwtRetriever", f"{_OAUTH_PACKAGE}ClientCredentialsJwtRetriever"):
        return []  # librdkafka's default grant is client_credentials
    if class_name == f"{_OAUTH_PACKAGE}JwtBearerJwtRetriever":
        return [("sasl.oauthbearer.grant.type", _JWT_BEARER_GRANT)]
    raise ProducerConfigError(
        f"Additional property {name!r}: librdkafka gets OAuth tokens only from the token endpoint, with the "
        f"client_credentials grant or, with 'sasl.oauthbearer.grant.type': '{_JWT_BEARER_GRANT}', a JWT assertion."
    )


def _kinit_command(name: str, value: Any, layer: Mapping[str, Any]) -> list[Setting]:
    command = _text(name, value).strip()
    if re.search(r"\s", command):
        return [(name, command)]  # already a librdkafka command line
    # Java names the kinit program; librdkafka wants the whole command, so give it its default with that program.
    kinit = shlex.quote(command)
    arguments = '-t "%{sasl.kerberos.keytab}" -k %{sasl.kerberos.principal}'
    return [(name, f"{kinit} -R {arguments} || {kinit} {arguments}")]


# ---------------------------------------------------------------------------------------------------------------
# The table


def _same(value: ValueRule | None = None) -> JavaProperty:
    return JavaProperty(PASS, value=value)


def _renamed(librdkafka_name: str, value: ValueRule | None = None) -> JavaProperty:
    return JavaProperty(RENAME, librdkafka_name=librdkafka_name, value=value)


def _translated(translator: Translator) -> JavaProperty:
    return JavaProperty(TRANSLATE, translator=translator)


def _dropped(reason: str) -> JavaProperty:
    return JavaProperty(DROP, reason=reason)


def _rejected(instead: str) -> JavaProperty:
    return JavaProperty(REJECT, reason=instead)


_JAVA_CLASSES = "names Java classes, which librdkafka cannot load"
_JAVA_METRICS = "configures the Java client's metrics, which librdkafka does not have"
_JAVA_TLS = "configures Java's TLS implementation; librdkafka uses OpenSSL with its defaults"
_JAVA_LOGIN = "tunes the Java client's OAuth login and token refresh; librdkafka has no such setting"
_KERBEROS_RENEWAL = (
    "tunes the Java client's Kerberos ticket renewal; librdkafka runs 'sasl.kerberos.kinit.cmd' "
    "every 'sasl.kerberos.min.time.before.relogin' instead"
)
_TOKEN_VALIDATION = "configures how a broker validates OAuth tokens, which a producer does not do"
_CONSUMER_SETTING = "is a consumer setting, which a producer does not use"

# Every property of the Java producer's configuration in Kafka 4.4, read from kafka-clients 4.4.0
# (ProducerConfig.configDef()), and the consumer-only ones, which people copy along with them.
JAVA_PRODUCER_PROPERTIES: dict[str, JavaProperty] = {
    # Same name in librdkafka; the value is checked and written as librdkafka spells it.
    "acks": _same(_acks),
    "batch.size": _same(_batch_size),
    "bootstrap.servers": _same(_server_list),
    "client.dns.lookup": _same(_one_of("use_all_dns_ips", "resolve_canonical_bootstrap_servers_only")),
    "client.id": _same(),
    "client.rack": _same(),
    "compression.type": _same(_one_of("none", "gzip", "snappy", "lz4", "zstd")),
    "connections.max.idle.ms": _same(_whole_number),
    "delivery.timeout.ms": _same(_whole_number),
    "enable.idempotence": _same(_boolean),
    "enable.metrics.push": _same(_boolean),
    "linger.ms": _same(_number),
    "max.in.flight.requests.per.connection": _same(_whole_number),
    "metadata.max.age.ms": _same(_whole_number),
    "metadata.recovery.rebootstrap.trigger.ms": _same(_whole_number),
    "metadata.recovery.strategy": _same(_one_of("none", "rebootstrap")),
    "reconnect.backoff.max.ms": _same(_whole_number),
    "reconnect.backoff.ms": _same(_whole_number),
    "request.timeout.ms": _same(_whole_number),
    "retries": _same(_whole_number),
    "retry.backoff.max.ms": _same(_whole_number),
    "retry.backoff.ms": _same(_whole_number),
    "sasl.kerberos.min.time.before.relogin": _same(_whole_number),
    "sasl.kerberos.service.name": _same(),
    "sasl.oauthbearer.assertion.algorithm": _same(_one_of("RS256", "ES256")),
    "sasl.oauthbearer.assertion.claim.aud": _same(),
    "sasl.oauthbearer.assertion.claim.exp.seconds": _same(_whole_number),
    "sasl.oauthbearer.assertion.claim.iss": _same(),
    "sasl.oauthbearer.assertion.claim.jti.include": _same(_boolean),
    "sasl.oauthbearer.assertion.claim.nbf.seconds": _same(_whole_number),
    "sasl.oauthbearer.assertion.claim.sub": _same(),
    "sasl.oauthbearer.assertion.file": _same(),
    "sasl.oauthbearer.assertion.private.key.file": _same(),
    "sasl.oauthbearer.assertion.private.key.passphrase": _same(),
    "sasl.oauthbearer.client.credentials.client.id": _same(),
    "sasl.oauthbearer.client.credentials.client.secret": _same(),
    "sasl.oauthbearer.scope": _same(),
    "sasl.oauthbearer.sub.claim.name": _same(),
    "sasl.oauthbearer.token.endpoint.url": _same(),
    "security.protocol": _same(_one_of("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL")),
    "socket.connection.setup.timeout.ms": _same(_whole_number),
    "ssl.endpoint.identification.algorithm": _same(_endpoint_identification),
    "ssl.key.password": _same(),
    "transaction.timeout.ms": _same(_whole_number),
    # Another name in librdkafka.
    "buffer.memory": _renamed("queue.buffering.max.kbytes", _kibibytes),
    "max.request.size": _renamed("message.max.bytes", _whole_number),
    "receive.buffer.bytes": _renamed("socket.receive.buffer.bytes", _socket_buffer_bytes),
    "send.buffer.bytes": _renamed("socket.send.buffer.bytes", _socket_buffer_bytes),
    "sasl.oauthbearer.assertion.template.file": _renamed("sasl.oauthbearer.assertion.jwt.template.file"),
    # Translated: the librdkafka settings depend on the value, or on other properties of the same layer.
    "sasl.jaas.config": _translated(_jaas_credentials),
    # Upper-cased under its librdkafka alias 'sasl.mechanisms' too; only 'sasl.mechanism' takes MSK's AWS_MSK_IAM.
    "sasl.mechanism": JavaProperty(TRANSLATE, value=_upper_case, translator=_mechanism),
    "sasl.client.callback.handler.class": _translated(_client_callback_handler),
    "key.serializer": _translated(_serializer),
    "value.serializer": _translated(_serializer),
    "ssl.truststore.type": _translated(_validated_store_type),
    "ssl.truststore.location": _translated(_truststore_location),
    "ssl.truststore.certificates": _translated(_truststore_certificates),
    "ssl.truststore.password": _translated(_truststore_password),
    "ssl.keystore.type": _translated(_validated_store_type),
    "ssl.keystore.location": _translated(_keystore_location),
    "ssl.keystore.password": _translated(_keystore_password),
    "ssl.keystore.key": _translated(_keystore_pem("ssl.key.pem")),
    "ssl.keystore.certificate.chain": _translated(_keystore_pem("ssl.certificate.pem")),
    "ssl.cipher.suites": _translated(_cipher_suites),
    "compression.gzip.level": _translated(_compression_level("gzip")),
    "compression.lz4.level": _translated(_compression_level("lz4")),
    "compression.zstd.level": _translated(_compression_level("zstd")),
    "partitioner.class": _translated(_partitioner_class),
    "partitioner.ignore.keys": _translated(_ignore_keys),
    "sasl.login.callback.handler.class": _translated(_login_callback_handler),
    "sasl.oauthbearer.jwt.retriever.class": _translated(_jwt_retriever),
    "sasl.kerberos.kinit.cmd": _translated(_kinit_command),
    # Dropped with a warning: librdkafka has no counterpart, and a producer works as well without.
    "bootstrap.resolve.timeout.ms": _dropped(
        "bounds Java's DNS resolution of bootstrap servers, which librdkafka retries on its own"
    ),
    "buffer.memory.allocation.strategy": _dropped("chooses how the Java client allocates batch memory"),
    "interceptor.classes": _dropped(_JAVA_CLASSES),
    "max.block.ms": _dropped(
        "bounds how long Java's send() blocks; librdkafka does not block, and the operator waits for each "
        "message up to 'delivery.timeout.ms'"
    ),
    "metadata.cluster.check.enable": _dropped("enables a Java client check of misrouted connections"),
    "metadata.max.idle.ms": _dropped("sets when the Java client forgets an idle topic's metadata"),
    "metric.reporters": _dropped(_JAVA_CLASSES),
    "metrics.num.samples": _dropped(_JAVA_METRICS),
    "metrics.recording.level": _dropped(_JAVA_METRICS),
    "metrics.sample.window.ms": _dropped(_JAVA_METRICS),
    "partitioner.adaptive.partitioning.enable": _dropped("tunes the Java client's default partitioner"),
    "partitioner.availability.timeout.ms": _dropped("tunes the Java client's default partitioner"),
    "partitioner.rack.aware": _dropped("tunes the Java client's default partitioner"),
    "sasl.kerberos.ticket.renew.jitter": _dropped(_KERBEROS_RENEWAL),
    "sasl.kerberos.ticket.renew.window.factor": _dropped(_KERBEROS_RENEWAL),
    "sasl.login.class": _dropped(_JAVA_CLASSES),
    "sasl.login.connect.timeout.ms": _dropped(_JAVA_LOGIN),
    "sasl.login.read.timeout.ms": _dropped(_JAVA_LOGIN),
    "sasl.login.refresh.buffer.seconds": _dropped(_JAVA_LOGIN),
    "sasl.login.refresh.min.period.seconds": _dropped(_JAVA_LOGIN),
    "sasl.login.refresh.window.factor": _dropped(_JAVA_LOGIN),
    "sasl.login.refresh.window.jitter": _dropped(_JAVA_LOGIN),
    "sasl.login.retry.backoff.max.ms": _dropped(_JAVA_LOGIN),
    "sasl.login.retry.backoff.ms": _dropped(_JAVA_LOGIN),
    "sasl.oauthbearer.allow.unverified.audience": _dropped(_TOKEN_VALIDATION),
    "sasl.oauthbearer.allow.unverified.issuer": _dropped(_TOKEN_VALIDATION),
    "sasl.oauthbearer.clock.skew.seconds": _dropped(_TOKEN_VALIDATION),
    "sasl.oauthbearer.expected.audience": _dropped(_TOKEN_VALIDATION),
    "sasl.oauthbearer.expected.issuer": _dropped(_TOKEN_VALIDATION),
    "sasl.oauthbearer.header.urlencode": _dropped("makes the Java client URL-encode OAuth client credentials"),
    "sasl.oauthbearer.jwks.endpoint.refresh.ms": _dropped(_TOKEN_VALIDATION),
    "sasl.oauthbearer.jwks.endpoint.retry.backoff.max.ms": _dropped(_TOKEN_VALIDATION),
    "sasl.oauthbearer.jwks.endpoint.retry.backoff.ms": _dropped(_TOKEN_VALIDATION),
    "sasl.oauthbearer.jwks.endpoint.url": _dropped(_TOKEN_VALIDATION),
    "sasl.oauthbearer.jwt.validator.class": _dropped(_JAVA_CLASSES),
    "sasl.oauthbearer.scope.claim.name": _dropped(_TOKEN_VALIDATION),
    "security.providers": _dropped(_JAVA_CLASSES),
    "socket.connection.setup.timeout.max.ms": _dropped("caps the Java client's growing connection set-up timeout"),
    "ssl.enabled.protocols": _dropped(_JAVA_TLS),
    "ssl.engine.factory.class": _dropped(_JAVA_CLASSES),
    "ssl.keymanager.algorithm": _dropped(_JAVA_TLS),
    "ssl.protocol": _dropped(_JAVA_TLS),
    "ssl.provider": _dropped(_JAVA_TLS),
    "ssl.secure.random.implementation": _dropped(_JAVA_TLS),
    "ssl.trustmanager.algorithm": _dropped(_JAVA_TLS),
    "transaction.two.phase.commit.enable": _dropped(
        "only matters with 'transactional.id', which this provider does not use"
    ),
    # Rejected, with what to do instead.
    "config.providers": _rejected(
        "Java config providers are not run, so their ${provider:path:key} placeholders would stay unresolved; "
        "keep secrets in the Airflow connection (login, password, extra) or an Airflow secrets backend"
    ),
    "transactional.id": _rejected(
        "the operator derives one per task instance with exactly_once=True (transactions that survive Airflow "
        "retries); remove it and set exactly_once=True, or leave it out ('enable.idempotence' already keeps "
        "librdkafka's own retries from writing duplicates)"
    ),
    # StringSerializer's own options: the operator always encodes str as UTF-8.
    "key.serializer.encoding": _translated(_string_encoding),
    "value.serializer.encoding": _translated(_string_encoding),
    "serializer.encoding": _translated(_string_encoding),
    # Consumer settings (the spec's defaults include session.timeout.ms).
    **{
        name: _dropped(_CONSUMER_SETTING)
        for name in (
            "auto.commit.interval.ms",
            "auto.offset.reset",
            "check.crcs",
            "default.api.timeout.ms",
            "enable.auto.commit",
            "exclude.internal.topics",
            "fetch.max.bytes",
            "fetch.max.wait.ms",
            "fetch.min.bytes",
            "group.id",
            "group.instance.id",
            "group.protocol",
            "group.remote.assignor",
            "heartbeat.interval.ms",
            "internal.throw.on.fetch.stable.offset.unsupported",
            "isolation.level",
            "key.deserializer",
            "max.partition.fetch.bytes",
            "max.poll.interval.ms",
            "max.poll.records",
            "partition.assignment.strategy",
            "session.timeout.ms",
            "share.acknowledgement.mode",
            "share.acquire.mode",
            "value.deserializer",
        )
    },
}

# librdkafka accepts both names of each pair; one name per property keeps a layer's overrides exact.
# Where the Java client has one of the two names, that name is kept.
LIBRDKAFKA_ALIASES: dict[str, str] = {
    "metadata.broker.list": "bootstrap.servers",
    "request.required.acks": "acks",
    "message.timeout.ms": "delivery.timeout.ms",
    "queue.buffering.max.ms": "linger.ms",
    "message.send.max.retries": "retries",
    "compression.codec": "compression.type",
    "sasl.mechanisms": "sasl.mechanism",
    "max.in.flight": "max.in.flight.requests.per.connection",
    "sasl.oauthbearer.client.id": "sasl.oauthbearer.client.credentials.client.id",
    "sasl.oauthbearer.client.secret": "sasl.oauthbearer.client.credentials.client.secret",
}

# The librdkafka 2.16 properties a producer can set as text (no callbacks, nothing deprecated or consumer-only),
# from the installed library's own list (rd_kafka_conf_properties_show); used to suggest names.
LIBRDKAFKA_PRODUCER_PROPERTIES = frozenset(
    """
    acks allow.auto.create.topics api.version.request.timeout.ms batch.num.messages batch.size bootstrap.servers
    broker.address.family broker.address.ttl builtin.features client.dns.lookup client.id client.rack
    compression.codec compression.level compression.type connections.max.idle.ms debug delivery.report.only.error
    delivery.timeout.ms enable.gapless.guarantee enable.idempotence enable.metrics.push enable.random.seed
    enable.sasl.oauthbearer.unsecure.jwt enable.ssl.certificate.verification enabled_events https.ca.location
    https.ca.pem internal.termination.signal linger.ms log.connection.close log.queue log.thread.name log_level
    max.in.flight max.in.flight.requests.per.connection message.copy.max.bytes message.max.bytes
    message.send.max.retries message.timeout.ms metadata.broker.list metadata.max.age.ms
    metadata.recovery.rebootstrap.trigger.ms metadata.recovery.strategy partitioner plugin.library.paths
    queue.buffering.backpressure.threshold queue.buffering.max.kbytes queue.buffering.max.messages
    queue.buffering.max.ms receive.message.max.bytes reconnect.backoff.max.ms reconnect.backoff.ms
    request.required.acks request.timeout.ms retries retry.backoff.max.ms retry.backoff.ms sasl.kerberos.keytab
    sasl.kerberos.kinit.cmd sasl.kerberos.min.time.before.relogin sasl.kerberos.principal sasl.kerberos.service.name
    sasl.mechanism sasl.mechanisms sasl.oauthbearer.assertion.algorithm sasl.oauthbearer.assertion.claim.aud
    sasl.oauthbearer.assertion.claim.exp.seconds sasl.oauthbearer.assertion.claim.iss
    sasl.oauthbearer.assertion.claim.jti.include sasl.oauthbearer.assertion.claim.nbf.seconds
    sasl.oauthbearer.assertion.claim.sub sasl.oauthbearer.assertion.file sasl.oauthbearer.assertion.jwt.template.file
    sasl.oauthbearer.assertion.private.key.file sasl.oauthbearer.assertion.private.key.passphrase
    sasl.oauthbearer.assertion.private.key.pem sasl.oauthbearer.client.credentials.client.id
    sasl.oauthbearer.client.credentials.client.secret sasl.oauthbearer.client.id sasl.oauthbearer.client.secret
    sasl.oauthbearer.config sasl.oauthbearer.extensions sasl.oauthbearer.grant.type
    sasl.oauthbearer.metadata.authentication.type sasl.oauthbearer.method sasl.oauthbearer.scope
    sasl.oauthbearer.sub.claim.name sasl.oauthbearer.token.endpoint.url sasl.password sasl.username
    security.protocol socket.connection.setup.timeout.ms socket.keepalive.enable socket.max.fails
    socket.nagle.disable socket.receive.buffer.bytes socket.send.buffer.bytes socket.timeout.ms
    ssl.ca.certificate.stores ssl.ca.location ssl.ca.pem ssl.certificate.location ssl.certificate.pem
    ssl.cipher.suites ssl.crl.location ssl.curves.list ssl.endpoint.identification.algorithm ssl.engine.id
    ssl.key.location ssl.key.password ssl.key.pem ssl.keystore.location ssl.keystore.password ssl.providers
    ssl.sigalgs.list statistics.interval.ms sticky.partitioning.linger.ms topic.blacklist
    topic.metadata.propagation.max.ms topic.metadata.refresh.fast.interval.ms topic.metadata.refresh.interval.ms
    topic.metadata.refresh.sparse transaction.timeout.ms transactional.id
    """.split()
)
