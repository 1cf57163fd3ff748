"""Free loopback ports, so test servers never collide with a running demo."""

import socket


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def free_port_block(count: int, start: int = 20000, stop: int = 60000) -> int:
    """First port of `count` consecutive free ports (Swift's servers sit side by side)."""
    for base in range(start, stop, count):
        try:
            socks = []
            for port in range(base, base + count):
                sock = socket.socket()
                socks.append(sock)
                sock.bind(("127.0.0.1", port))
            return base
        except OSError:
            continue
        finally:
            for sock in socks:
                sock.close()
    raise RuntimeError(f"no {count} consecutive free ports in {start}..{stop}")
