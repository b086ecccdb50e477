"""The one reader of what librdkafka reports, for a task's producer and for the Connections UI's Test.

librdkafka retries a refused password, an untrusted certificate or the wrong security protocol until its own
timeouts, and tells only its error callback or its log. A ``ClientWatch`` is given to the client as both
(``error_cb=watch.error``, ``logger=watch``); it removes the secrets from everything it keeps or logs, logs each
cause once, and records the first cause that retrying cannot mend, the last connection failure, and whether all
brokers are down. errors.py decides what is unrecoverable and how it is explained.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping
from typing import Any

from confluent_kafka import KafkaError

from airflow_provider_kafka_connector.errors import (
    client_certificate_refused,
    protocol_mismatch,
    unrecoverable_client_error,
)
from airflow_provider_kafka_connector.redaction import scrub

log = logging.getLogger(__name__)

# A plaintext client at a TLS listener sees the connection closed while asking for API versions; once could be
# a broker going down, repeatedly is the listener refusing the protocol.
_PLAINTEXT_AT_TLS_SIGN = "in state APIVERSION_QUERY"
_PLAINTEXT_AT_TLS_REPEATS = 3
# librdkafka's log line when none of its certificates is signed by a CA the broker named as trusted.
_CERTIFICATE_WITHHELD_SIGN = "not sending any client certificate"

_THREAD_PREFIX = re.compile(r"^\[thrd:[^]]*\]:\s*")
# The same failure repeats with other timings and counters: "(after 302ms in state AUTH_REQ)",
# "(after 0ms in state CONNECT, 4 identical error(s) suppressed)", "rdkafka#producer-7", ports.
_TIMING = re.compile(r"\s*\(after \d+ms in state \w+(?:, \d+ identical error\(s\) suppressed)?\)")
_NUMBER = re.compile(r"\d+")


def cause_of(line: str) -> str:
    """What stays the same when librdkafka logs the same failure again."""
    return _NUMBER.sub("N", _TIMING.sub("", line))


class ClientWatch:
    """librdkafka's error callback and logger in one: the first unrecoverable cause, the last failure."""

    def __init__(self, config: Mapping[str, str], secrets: Iterable[str] = ()) -> None:
        self._config = config
        self._secrets = list(secrets)
        self._logged: set[str] = set()
        self._closed_during_handshake = 0
        self._certificate_withheld = False
        #: The explanation of the first error that retrying cannot mend, secrets removed; None while there is none.
        self.cause: str | None = None
        #: The last error the error callback received (all brokers down included).
        self.last_error: KafkaError | None = None
        #: The last connection failure, from the error callback or a FAIL log line, secrets removed.
        self.last_failure: str | None = None
        #: Whether librdkafka has reported every broker down.
        self.all_brokers_down = False
        #: Set by the client's owner once a broker has answered: its credentials were accepted then.
        self.answered = False

    def error(self, error: KafkaError) -> None:
        """The client's ``error_cb``."""
        self.last_error = error
        if error.code() == KafkaError._ALL_BROKERS_DOWN:
            self.all_brokers_down = True
        else:
            self.last_failure = self._scrub(error.str())
        self._note(
            unrecoverable_client_error(
                error, self._config, certificate_withheld=self._certificate_withheld, authenticated=self.answered
            )
        )

    def log(self, level: int, fmt: str, *args: Any) -> None:
        """The client's ``logger``: confluent-kafka calls ``log(level, "%s [%s] %s", facility, client, message)``."""
        line = self._scrub(fmt % args)
        cause = cause_of(line)
        if cause not in self._logged:
            self._logged.add(cause)
            log.log(level, "librdkafka: %s", line)
        if len(args) == 3 and args[0] == "SSL" and _CERTIFICATE_WITHHELD_SIGN in str(args[2]):
            self._certificate_withheld = True
        if len(args) == 3 and args[0] == "FAIL":
            failure = _THREAD_PREFIX.sub("", self._scrub(str(args[2])))
            self.last_failure = failure
            self._note(self._failed_connection(failure))

    def _failed_connection(self, failure: str) -> str | None:
        """Some connection failures reach only the log: a plaintext client at a TLS listener is one. A broker that
        refuses the client's certificate also closes the connection while it asks for API versions, after a TLS
        alert that says why: that is no protocol mismatch."""
        refused = client_certificate_refused(self._config, failure, withheld=self._certificate_withheld)
        if refused:
            return refused
        if _PLAINTEXT_AT_TLS_SIGN not in failure:
            return None
        self._closed_during_handshake += 1
        if self._closed_during_handshake < _PLAINTEXT_AT_TLS_REPEATS:
            return None
        return protocol_mismatch(self._config, failure.rsplit(": ", 2)[-1])

    def _note(self, cause: str | None) -> None:
        if cause and self.cause is None:
            self.cause = self._scrub(cause)

    def _scrub(self, text: str) -> str:
        return scrub(text, self._secrets)
