"""Free TCP ports on the loopback interface: the one helper for every test, the broker and the benchmarks."""

from __future__ import annotations

import socket

LOOPBACK = "127.0.0.1"


def free_ports(count: int, host: str = LOOPBACK) -> list[int]:
    """`count` distinct ports that nothing listened on a moment ago.

    All are bound at once (so they differ), then released: something else may take one before it is used, and
    nothing listens on it until then (a "closed port" for tests of unreachable servers).
    """
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind((host, 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def free_port(host: str = LOOPBACK) -> int:
    """One port that nothing listened on a moment ago (see free_ports)."""
    return free_ports(1, host)[0]
