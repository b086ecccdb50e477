"""OAUTHBEARER tokens from a token callback, handed to librdkafka by the provider's plugin (_native/delivery_tally.c)
instead of confluent-kafka's ``oauth_cb``.

From 2.13, confluent-kafka makes a client with an ``oauth_cb`` wait for the first token in steps of a whole second
(``wait_for_oauth_token_set`` in its confluent_kafka.c sleeps one second before it first looks), so every task with a
token callback took a second longer to start however fast the callback answered. A client made with
``token_properties()`` gets the plugin's token refresh callback instead: librdkafka queues each refresh for
``poll()``, the provider polls right after making the client, and the plugin calls ``_refresh`` here, which asks the
token callback and sets the token. Where the plugin is not available, callbacks.py falls back to ``oauth_cb``.
"""

from __future__ import annotations

import ctypes
import threading
from collections.abc import Callable
from functools import cache
from typing import Any

from airflow_provider_kafka_connector import native_tally

TOKEN_PROPERTY = "kafka_connector.token_source"
_REFRESH = ctypes.CFUNCTYPE(None, ctypes.c_int, ctypes.c_void_p, ctypes.c_char_p)
_ERROR_SIZE = 512

TokenCallback = Callable[[str], Any]
_callbacks: dict[int, TokenCallback] = {}
_callbacks_lock = threading.Lock()


@cache
def _library() -> ctypes.CDLL | None:
    found = native_tally.find_plugin()
    if isinstance(found, str):
        return None
    library = found[1]
    if not hasattr(library, "token_source_take"):  # a plugin built from an older source: oauth_cb as before
        return None
    library.token_source_take.restype = ctypes.c_int
    library.token_source_release.argtypes = [ctypes.c_int]
    library.token_source_set_token.argtypes = [
        ctypes.c_void_p,
        ctypes.c_char_p,
        ctypes.c_int64,
        ctypes.c_char_p,
        ctypes.POINTER(ctypes.c_char_p),
        ctypes.c_size_t,
        ctypes.c_char_p,
        ctypes.c_size_t,
    ]
    library.token_source_set_token.restype = ctypes.c_int
    library.token_source_fail.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
    library.token_source_fail.restype = ctypes.c_int
    library.token_source_set_function.argtypes = [_REFRESH]
    library.token_source_set_function(_refresh_function)
    return library


def take_slot(callback: TokenCallback) -> int | None:
    """A token source for a new client that this callback serves; None where the plugin cannot be used."""
    library = _library()
    if library is None or native_tally.is_unusable():
        return None
    slot = int(library.token_source_take())
    if slot < 0:
        return None
    with _callbacks_lock:
        _callbacks[slot] = callback
    return slot


def release_slot(slot: int) -> None:
    """For a client that was never made: librdkafka frees the slot of a client when it destroys it."""
    library = _library()
    if library is not None:
        library.token_source_release(slot)


def token_properties(config: dict[str, Any], slot: int) -> dict[str, Any]:
    """The configuration with the plugin loaded (once, after the user's plugins) and serving this token source."""
    found = native_tally.find_plugin()
    assert not isinstance(found, str)
    path = found[0]
    paths = [item for item in str(config.get("plugin.library.paths") or "").split(";") if item]
    # plugin.library.paths first: librdkafka loads the plugins when it is set, and the plugin takes TOKEN_PROPERTY.
    without = {name: value for name, value in config.items() if name != "plugin.library.paths"}
    return {
        "plugin.library.paths": ";".join(paths if path in paths else [*paths, path]),
        TOKEN_PROPERTY: str(slot),
        **without,
    }


def _refresh(slot: int, client: int, oauthbearer_config: bytes) -> None:
    """Called by the plugin from the thread that polls the client: set its token, or why there is none."""
    library = _library()
    assert library is not None
    with _callbacks_lock:
        callback = _callbacks.get(slot)
    try:
        if callback is None:
            raise RuntimeError("no token callback for this client")
        token, expiry, principal, extensions = _answer(callback(oauthbearer_config.decode()))
        pairs = [item.encode() for pair in extensions.items() for item in pair]
        error = ctypes.create_string_buffer(_ERROR_SIZE)
        if library.token_source_set_token(
            client,
            token.encode(),
            int(expiry * 1000),
            principal.encode(),
            (ctypes.c_char_p * len(pairs))(*pairs),
            len(pairs),
            error,
            _ERROR_SIZE,
        ):
            raise ValueError(error.value.decode(errors="replace"))
    except Exception as error:  # librdkafka reports the reason as the login's failure
        library.token_source_fail(client, str(error).encode(errors="replace"))


_refresh_function = _REFRESH(_refresh)  # kept for the process's life: the plugin holds its address


def _answer(answer: Any) -> tuple[str, float, str, dict[str, str]]:
    """confluent-kafka's oauth_cb contract: (token, expiry in seconds since the epoch[, principal[, extensions]])."""
    if not isinstance(answer, tuple) or not 2 <= len(answer) <= 4:
        raise TypeError("a token callback must return (token, expiry[, principal[, extensions]])")
    token, expiry, *rest = answer
    principal = rest[0] if rest else ""
    extensions = rest[1] if len(rest) > 1 else {}
    return str(token), float(expiry), str(principal or ""), {str(k): str(v) for k, v in dict(extensions).items()}
