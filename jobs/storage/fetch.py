"""One object fetched into memory and verified as `drc stage get` verifies a download
(Store.matches: size, then the ETag's MD5 or our SHA-256 metadata), retried when the store
or the network falters. The one-hop preprocess's tasks fetch every photograph this way."""

import time
from collections.abc import Callable

from jobs.storage.base import ObjectInfo, Store, StoreError, bytes_digest

ATTEMPTS = 3
BACKOFF_S = 0.5  # doubled after each failed attempt: 0.5 s, 1 s


class Unfetchable(OSError):
    """An object that cannot be had whole: it goes to the quarantine table under `reason`
    (an OSError: the preprocess tasks treat it as they treat an unreadable file)."""

    def __init__(self, reason: str, detail: str):
        super().__init__(f"{reason}: {detail}")
        self.reason, self.detail = reason, detail


def fetch(store: Store, info: ObjectInfo, attempts: int = ATTEMPTS, backoff_s: float = BACKOFF_S,
          sleep: Callable[[float], None] = time.sleep) -> bytes:  # fmt: skip
    """The object's bytes, proven equal to what the listing described. A missing object
    fails at once; a store that refuses the credentials raises StoreError (every object
    would fail: the task fails, and Spark retries it); anything else is retried."""
    reason, detail = "unfetchable", ""
    for attempt in range(attempts):
        if attempt:
            sleep(backoff_s * 2 ** (attempt - 1))
        try:
            data = store.read(info.key)
            if store.matches(info, bytes_digest(data)):
                return data
        except StoreError as exc:
            if exc.kind == "auth":
                raise
            if exc.kind == "missing":
                raise Unfetchable("missing", exc.reason) from None
            reason, detail = "unfetchable", exc.reason
            continue
        reason = "unverified"
        detail = (f"the {len(data)} bytes fetched do not match the listing ({info.size} "
                  "bytes, its ETag or digest)")  # fmt: skip
    raise Unfetchable(reason, f"{detail}; {attempts} attempts")
