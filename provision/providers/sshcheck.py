"""Is a freshly provisioned machine's sshd answering? (A banner, within a deadline.)"""

import socket
import time


def ssh_answers(host: str, timeout_s: float, port: int = 22) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((host, port), timeout=5) as conn:
                if conn.recv(64).startswith(b"SSH-"):
                    return True
        except OSError:
            pass
        time.sleep(min(5.0, max(0.0, deadline - time.monotonic())))
    return False
