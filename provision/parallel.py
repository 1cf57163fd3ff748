"""Run one step on every node at once; time grows with the slowest node, not the count."""

from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor


def run_parallel(fn: Callable, items: Iterable, max_workers: int = 32) -> tuple[list, list]:
    """(results, errors): every item runs to the end, so the caller knows exactly what was
    made before it re-raises the first error (and can clean up the rest)."""
    items = list(items)
    results, errors = [], []
    if not items:
        return results, errors
    with ThreadPoolExecutor(max_workers=min(max_workers, len(items))) as pool:
        futures = [pool.submit(fn, item) for item in items]
        for future in futures:
            try:
                results.append(future.result())
            except Exception as exc:  # noqa: BLE001 - collected, re-raised by the caller
                errors.append(exc)
    return results, errors
