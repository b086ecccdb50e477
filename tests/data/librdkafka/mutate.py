"""Mutation check of the librdkafka classification: each mutation must make a unit test fail (files restored after).

Run from the repository root: .venv/bin/python tests/data/librdkafka/mutate.py
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
E = ROOT / "airflow_provider_kafka_connector/errors.py"
W = ROOT / "airflow_provider_kafka_connector/client_watch.py"
MUTATIONS = [
    ("_PLAINTEXT_AT_TLS_REPEATS 3 -> 1", W, "_PLAINTEXT_AT_TLS_REPEATS = 3", "_PLAINTEXT_AT_TLS_REPEATS = 1"),
    ("_PLAINTEXT_AT_TLS_REPEATS 3 -> 2", W, "_PLAINTEXT_AT_TLS_REPEATS = 3", "_PLAINTEXT_AT_TLS_REPEATS = 2"),
    ("_PLAINTEXT_AT_TLS_REPEATS 3 -> 4", W, "_PLAINTEXT_AT_TLS_REPEATS = 3", "_PLAINTEXT_AT_TLS_REPEATS = 4"),
    ("auth branch off", E, "if code == KafkaError._AUTHENTICATION:", "if False:"),
    ("TLS certificate branch off", E, 'if code == KafkaError._SSL and "certificate" in reason:', "if False:"),
    ("protocol mismatch branch off", E, 'if "security.protocol" in reason or', "if False and "),
    ("fatal branch off", E, "if error.fatal():", "if False:"),
    (
        "delivery: unknown topic branch off",
        E,
        "if code in (KafkaError.UNKNOWN_TOPIC_OR_PART, KafkaError._UNKNOWN_TOPIC):",
        "if False:",
    ),
    ("delivery: too large branch off", E, "elif code == KafkaError.MSG_SIZE_TOO_LARGE:", "elif False:"),
    ("delivery: authorization branch off", E, "elif code == KafkaError.TOPIC_AUTHORIZATION_FAILED:", "elif False:"),
    ("delivery: timed out branch off", E, "elif code == KafkaError._MSG_TIMED_OUT:", "elif False:"),
    ("refused client certificate: error callback branch off", E, "    if refused:\n        return refused\n", ""),
    ("refused client certificate: log branch off", W, "        if refused:\n            return refused\n", ""),
    ("alert 42 bad_certificate not a certificate alert", E, '    42: "bad_certificate",\n', ""),
    ("alert 46 certificate_unknown not a certificate alert", E, '    46: "certificate_unknown",\n', ""),
    (
        "no client certificate configured: test inverted",
        E,
        "if not any(config.get(name) for name in CLIENT_CERTIFICATE_PROPERTIES):",
        "if any(config.get(name) for name in CLIENT_CERTIFICATE_PROPERTIES):",
    ),
    ("withheld certificate branch off", E, "    elif withheld:", "    elif False:"),
    ("withheld certificate line never recognised", W, '"not sending any client certificate"', '"never logged"'),
    ("TLS file hints off", E, "for pattern, hint in _CLIENT_TLS_FILE_HINTS:", "for pattern, hint in ():"),
    ("TLS file hint: unreadable key off", E, r'r"ssl\.key\.(location|pem) failed: .*(PEM lib|bad decrypt)"', 'r"^$"'),
    ("TLS file hint: key mismatch off", E, 're.compile(r"key values mismatch")', 're.compile(r"^$")'),
    ("TLS file hint: keystore password off", E, r'r"PKCS#12 .*mac verify failure"', 'r"^$"'),
    ("TLS file hint: unreadable file off", E, r'r"ssl\.[\w.]+\.location .*(system lib|No such file)"', 'r"^$"'),
]
TESTS = ["tests/test_client_watch.py", "tests/test_errors.py"]
for name, path, old, new in MUTATIONS:
    original = path.read_text()
    assert original.count(old) == 1, (name, original.count(old))
    try:
        path.write_text(original.replace(old, new))
        r = subprocess.run(
            [
                str(ROOT / ".venv/bin/python"),
                "-m",
                "pytest",
                *TESTS,
                "-q",
                "-p",
                "no:cacheprovider",
                "-k",
                "not importing_the_exceptions",
            ],
            cwd=ROOT,
            env={"PYTHONPATH": ".", "PATH": "/usr/bin:/bin"},
            capture_output=True,
            text=True,
        )
    finally:
        path.write_text(original)
    failed = re.findall(r"^FAILED (\S+)", r.stdout, re.M)
    summary = r.stdout.strip().splitlines()[-1]
    print(f"{name}: {'KILLED' if failed else 'SURVIVED'} ({summary})")
    for f in failed:
        print("    ", f)
    sys.stdout.flush()
