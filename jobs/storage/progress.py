"""A thread-safe progress line: objects and bytes done of the total, and the rate."""

import sys
import threading
import time


def megabytes(n: float) -> str:
    return f"{n / 1e6:.1f} MB"


class TransferProgress:
    def __init__(self, label: str, objects: int, total_bytes: int, stream=None, every_s=None):
        self.label, self.objects, self.total_bytes = label, objects, total_bytes
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self.every_s = every_s if every_s is not None else (0.5 if self.tty else 5.0)
        self.done_objects = self.done_bytes = self.moved_bytes = 0
        self.start = self._last = time.monotonic()
        self._lock = threading.Lock()

    def moved(self, n: int) -> None:
        """Bytes that crossed the network (or disk) just now."""
        with self._lock:
            self.moved_bytes += n
            self.done_bytes += n
            self._maybe_print()

    def finished(self, skipped_bytes: int = 0) -> None:
        """One object settled; `skipped_bytes` counts objects that needed no transfer."""
        with self._lock:
            self.done_objects += 1
            self.done_bytes += skipped_bytes
            self._maybe_print()

    def rate(self) -> float:
        return self.moved_bytes / max(time.monotonic() - self.start, 1e-9)

    def line(self) -> str:
        return (f"{self.label}: {self.done_objects}/{self.objects} objects, "
                f"{megabytes(self.done_bytes)}/{megabytes(self.total_bytes)}, "
                f"{megabytes(self.rate())}/s")  # fmt: skip

    def _maybe_print(self) -> None:
        now = time.monotonic()
        if now - self._last >= self.every_s:
            self._last = now
            end = "" if self.tty else "\n"
            print(("\r" if self.tty else "") + self.line(), end=end, file=self.stream, flush=True)

    def close(self) -> None:
        if self.tty:
            print("\r" + self.line(), file=self.stream, flush=True)
