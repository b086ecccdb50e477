"""What the harness's services share: the end of a service's log for an error, waiting until a service's HTTP
endpoint answers, and a context manager that starts a service in a work directory and always stops it."""

from __future__ import annotations

import contextlib
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Protocol, TypeVar

from harness.locations import work_directory


class Service(Protocol):
    def stop(self) -> None: ...


S = TypeVar("S", bound=Service)


def log_tail(log_file: Path, lines: int = 40) -> str:
    text = log_file.read_text(errors="replace") if log_file.exists() else "(no log)"
    return "\n".join(text.splitlines()[-lines:])


def answers(url: str, headers: Mapping[str, str] | None = None) -> bool:
    """Whether url answers 200 now."""
    request = urllib.request.Request(url, headers=dict(headers or {}))
    try:
        with urllib.request.urlopen(request, timeout=2) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def wait_until_answers(
    process: subprocess.Popen[bytes],
    url: str,
    log_file: Path,
    what: str,
    timeout: float,
    headers: Mapping[str, str] | None = None,
    error: type[Exception] = RuntimeError,
) -> None:
    """Wait until url answers 200, at most timeout seconds; raise error with the tail of log_file if the process
    exits first or the time runs out."""
    deadline = time.monotonic() + timeout
    while not answers(url, headers):
        if process.poll() is not None:
            raise error(f"{what} exited with code {process.returncode}\n{log_tail(log_file)}")
        if time.monotonic() > deadline:
            raise error(f"{what} did not answer within {timeout:.0f} s\n{log_tail(log_file)}")
        time.sleep(0.1)


@contextlib.contextmanager
def running(start: Callable[[Path], S], work_dir: Path | None, prefix: str) -> Iterator[S]:
    """start(directory) a service, yield it, always stop it; a temporary work directory (no work_dir given, one named
    prefix...) is removed afterwards."""
    with work_directory(work_dir, prefix) as directory:
        service = start(directory)
        try:
            yield service
        finally:
            service.stop()
