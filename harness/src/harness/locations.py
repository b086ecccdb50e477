"""Where the harness keeps its downloads, and the source checkout it is imported from (if it is)."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
CACHE_ENV = "KAFKA_HARNESS_CACHE"


def source_checkout() -> Path | None:
    """The repository root when the harness is imported from its source tree (<repo>/harness/src/harness, as an
    editable install is), else None (installed into site-packages)."""
    distribution_dir = PACKAGE_DIR.parents[1]
    if PACKAGE_DIR.parent.name == "src" and (distribution_dir / "pyproject.toml").is_file():
        return distribution_dir.parent
    return None


def cache_dir() -> Path:
    """$KAFKA_HARNESS_CACHE; else the repository's .cache/ (git-ignored) when run from a source checkout; else the
    user's cache directory ($XDG_CACHE_HOME or ~/.cache)/kafka-connector-harness. Never inside site-packages."""
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV])
    repo = source_checkout()
    if repo is not None:
        return repo / ".cache"
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "kafka-connector-harness"


@contextlib.contextmanager
def work_directory(work_dir: Path | None, prefix: str) -> Iterator[Path]:
    """work_dir as given (kept afterwards), or a new temporary directory that is removed afterwards."""
    if work_dir is not None:
        yield work_dir
        return
    directory = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        yield directory
    finally:
        shutil.rmtree(directory, ignore_errors=True)
