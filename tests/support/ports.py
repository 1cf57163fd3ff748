"""Free loopback ports, so test servers never collide with a running demo.

Ports come from below the kernel's ephemeral range (32768 and up on Linux): a port the
kernel hands out as "free" can be taken a moment later by any outgoing connection (an SSH
session, the NameNode's own clients) before the daemon it was meant for binds it, and two
such picks can even repeat. Each port is handed out once per test session.
"""

import random
import socket

_LOW, _HIGH = 20000, 32000  # below ip_local_port_range's default start
_handed_out: set[int] = set()
_pick = random.Random()


def _bindable(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_port() -> int:
    for _ in range(1000):  # bounded: the range holds 12,000 ports
        port = _pick.randrange(_LOW, _HIGH)
        if port not in _handed_out and _bindable(port):
            _handed_out.add(port)
            return port
    raise RuntimeError(f"no free port in {_LOW}..{_HIGH} after 1000 tries")


def free_port_block(count: int, start: int = _LOW, stop: int = _HIGH) -> int:
    """First port of `count` consecutive free ports (Swift's servers sit side by side)."""
    for base in range(start, stop - count, count):
        block = range(base, base + count)
        if not _handed_out.intersection(block) and all(_bindable(p) for p in block):
            _handed_out.update(block)
            return base
    raise RuntimeError(f"no {count} consecutive free ports in {start}..{stop}")
