"""A batch's delivery outcomes counted in C by the provider's librdkafka plugin (_native/delivery_tally.c).

confluent-kafka builds a Message object and calls Python for every delivery report it serves; for a batch that is
most of its cost beyond a bare produce loop. A producer made with plugin_properties() has a librdkafka interceptor
that keeps, in C, what the batch's summary needs; its messages are produced without a Python callback and
NativeDeliveryTally reads the outcome. Where the plugin is not installed (the pure wheel, or no C compiler at install
time) or cannot load (not Linux, a librdkafka without plugin support), the producer falls back to DeliveryTally's
Python callback, and the first batch of the process logs a WARNING that says why: the guarantees are the same, only
slower.
"""

from __future__ import annotations

import ctypes
import logging
import sys
import threading
from functools import cache
from importlib.machinery import EXTENSION_SUFFIXES
from pathlib import Path
from typing import Any

from confluent_kafka import KafkaError

log = logging.getLogger(__name__)

# The plugin's configuration property that names a producer's tally, and its number of tallies (SLOTS in the C).
TALLY_PROPERTY = "kafka_connector.delivery_tally"
_SLOTS = 256
_LIBRARY_NAME = "_delivery_tally"


_WITHOUT_IT = (
    "batches count their delivery reports in Python, about a third slower. The Linux wheels on PyPI (x86_64, "
    "aarch64) carry it: 'pip install --force-reinstall --no-deps --only-binary :all: "
    "airflow-provider-kafka-connector'; an install from source builds it where a C compiler is found"
)


@cache
def find_plugin() -> tuple[str, ctypes.CDLL] | str:
    """The installed plugin's path and its ctypes handle, or why there is none to use."""
    if not sys.platform.startswith("linux"):
        return f"the delivery-tally plugin is built for Linux only, not {sys.platform}"
    package = Path(__file__).parent
    # A source build names it as an extension module of the Python that built it, a platform wheel
    # _delivery_tally.so; it uses no Python API, so an editable checkout's build by another Python serves as well.
    built = [package / f"{_LIBRARY_NAME}{suffix}" for suffix in EXTENSION_SUFFIXES]
    path = next((path for path in [*built, *sorted(package.glob(f"{_LIBRARY_NAME}*.so"))] if path.is_file()), None)
    if path is None:
        return (
            "this installation has no delivery-tally plugin (it came from the pure py3-none-any wheel, or was built "
            "from source without a C compiler)"
        )
    try:
        # Kept for the process's life: librdkafka opens the same file for each producer and closes it when the
        # producer is destroyed, and the tallies (static in the plugin) must outlive that.
        library = ctypes.CDLL(str(path))
    except OSError as error:
        return f"the delivery-tally plugin {path} does not load ({error})"
    int64s = ctypes.POINTER(ctypes.c_int64)
    library.delivery_tally_reset.argtypes = [ctypes.c_int]
    library.delivery_tally_reset.restype = None
    library.delivery_tally_counts.argtypes = [ctypes.c_int, int64s]
    library.delivery_tally_counts.restype = ctypes.c_int32
    library.delivery_tally_partition.argtypes = [ctypes.c_int, ctypes.c_int32, int64s]
    library.delivery_tally_partition.restype = ctypes.c_int
    return str(path), library


def plugin_status() -> str:
    """What a bug report needs: the plugin's path, or why batches count in Python."""
    found = find_plugin()
    return f"available ({found[0]})" if isinstance(found, tuple) else f"not in use: {found}"


@cache
def _plugin() -> tuple[str, ctypes.CDLL] | None:
    """The plugin for a batch's producer; the first batch of a process without one says why, once."""
    found = find_plugin()
    if isinstance(found, str):
        log.warning("%s: %s.", found[0].upper() + found[1:], _WITHOUT_IT)
        return None
    return found


class _Slots:
    """The plugin's tallies, each held by one producer from its creation until it is destroyed."""

    def __init__(self) -> None:
        self._free = list(range(_SLOTS - 1, -1, -1))
        self._lock = threading.Lock()

    def take(self) -> int | None:
        with self._lock:
            return self._free.pop() if self._free else None

    def give_back(self, slot: int) -> None:
        with self._lock:
            self._free.append(slot)


_slots = _Slots()
_unusable = threading.Event()  # set once a producer could not load the plugin: this process stops trying


def take_slot() -> int | None:
    """A tally for a new producer (NativeDeliveryTally resets it for each batch); None when the plugin cannot be
    used (or all tallies are taken)."""
    if _plugin() is None or _unusable.is_set():
        return None
    return _slots.take()


def release_slot(slot: int) -> None:
    """After the producer holding it has been destroyed (its interceptor runs until then)."""
    _slots.give_back(slot)


def plugin_properties(config: dict[str, Any], slot: int) -> dict[str, Any]:
    """The configuration with the plugin loaded and counting into this tally (after any plugins of the user's)."""
    plugin = _plugin()
    assert plugin is not None
    paths = [path for path in str(config.get("plugin.library.paths") or "").split(";") if path]
    # plugin.library.paths first: librdkafka loads the plugins when it is set, and the plugin takes TALLY_PROPERTY.
    without = {name: value for name, value in config.items() if name != "plugin.library.paths"}
    return {"plugin.library.paths": ";".join([*paths, plugin[0]]), TALLY_PROPERTY: str(slot), **without}


def is_unusable() -> bool:
    """A producer of this process could not load the plugin."""
    return _unusable.is_set()


def mark_unusable(reason: str) -> None:
    if not _unusable.is_set():
        log.warning("librdkafka did not load the delivery-tally plugin (%s): %s.", reason, _WITHOUT_IT)
        _unusable.set()


class NativeDeliveryTally:
    """DeliveryTally's interface over a plugin tally: no callback per message (on_delivery is None)."""

    on_delivery = None

    def __init__(self, topic: str, slot: int) -> None:
        """Counts from zero: a producer's earlier sends have all been reported before another one starts."""
        plugin = _plugin()
        assert plugin is not None
        self.topic = topic
        self._slot = slot
        self._library = plugin[1]
        self._library.delivery_tally_reset(slot)

    def _counts(self) -> tuple[int, int, int, int]:
        counts = (ctypes.c_int64 * 3)()
        partitions = self._library.delivery_tally_counts(self._slot, counts)
        return counts[0], counts[1], counts[2], partitions

    @property
    def reported(self) -> int:
        acknowledged, failed, _, _ = self._counts()
        return acknowledged + failed

    @property
    def acknowledged(self) -> int:
        return self._counts()[0]

    @property
    def failed(self) -> int:
        return self._counts()[1]

    @property
    def first_error(self) -> KafkaError | None:
        _, failed, code, _ = self._counts()
        return KafkaError(code) if failed else None

    def summary(self) -> dict[str, Any]:
        """The same summary as DeliveryTally.summary()."""
        acknowledged, _, _, partition_count = self._counts()
        ends = (ctypes.c_int64 * 4)()
        partitions: dict[str, dict[str, int]] = {}
        timestamps: list[int] = []
        for partition in range(partition_count):
            if self._library.delivery_tally_partition(self._slot, partition, ends):
                partitions[str(partition)] = {"first_offset": ends[0], "last_offset": ends[1]}
                timestamps += [ends[2], ends[3]]
        return {
            "topic": self.topic,
            "count": acknowledged,
            "partitions": partitions,
            "first_timestamp": min(timestamps, default=None),
            "last_timestamp": max(timestamps, default=None),
        }
