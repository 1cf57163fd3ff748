"""Calls to a cloud API from many threads: a shared request rate cap, and retries with
exponential backoff for the errors worth retrying (rate limits, timeouts, 5xx)."""

import threading
import time
from collections.abc import Callable


class RateLimiter:
    def __init__(self, per_second: float):
        self.interval = 1.0 / per_second
        self._next = time.monotonic()
        self._lock = threading.Lock()

    def wait(self) -> None:
        with self._lock:
            now = time.monotonic()
            delay = self._next - now
            self._next = max(now, self._next) + self.interval
        if delay > 0:
            time.sleep(delay)


def call_with_retry(
    fn: Callable,
    *,
    limiter: RateLimiter,
    retryable: Callable[[Exception], bool],
    attempts: int = 5,
    backoff_s: float = 1.0,
    max_backoff_s: float = 30.0,
):
    for attempt in range(1, attempts + 1):
        limiter.wait()
        try:
            return fn()
        except Exception as exc:
            if attempt == attempts or not retryable(exc):
                raise
            time.sleep(min(max_backoff_s, backoff_s * 2 ** (attempt - 1)))
    raise AssertionError("unreachable")
