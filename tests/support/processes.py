"""Interrupt a command at a chosen moment, bounded in time."""

import signal
import subprocess
import time
from collections.abc import Callable


def kill_when(proc: subprocess.Popen, ready: Callable[[], bool], timeout_s: float = 300,
              poll_s: float = 0.01) -> None:  # fmt: skip
    """SIGKILL `proc` as soon as `ready()` holds (or at the deadline); assert it was still
    running then, so the test really interrupted it."""
    deadline = time.monotonic() + timeout_s
    try:
        while time.monotonic() < deadline and proc.poll() is None and not ready():
            time.sleep(poll_s)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL, "the command ended before it could be killed"
