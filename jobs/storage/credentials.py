"""A store's credentials, carried from the driver to the Spark tasks that fetch from it.

The driver picks the variables the URL's store reads from its own environment (where
`drc` and the run_jobs role put them); the tasks get them inside the job's closure, which
Spark ships over its authenticated, encrypted RPC (spark.network.crypto.enabled). So they
never appear in a command line (the job's JSON config is one), a Spark conf (the UI lists
spark.executorEnv.*) or a log: the value's repr names the variables only.
"""

import os
from collections.abc import Mapping
from urllib.parse import urlparse

# What SwiftStore and S3Store read (jobs/storage/swift.py, s3.py), by URL scheme
VARIABLES = {
    "swift": ("ST_AUTH", "ST_USER", "ST_KEY", "OS_AUTH_URL", "OS_USERNAME", "OS_PASSWORD",
              "OS_PROJECT_NAME", "OS_USER_DOMAIN_NAME", "OS_PROJECT_DOMAIN_NAME"),
    "s3": ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
           "AWS_ENDPOINT_URL", "AWS_DEFAULT_REGION", "AWS_REGION"),
}  # fmt: skip


class StoreEnv(Mapping[str, str]):
    """The store's variables, read-only; printed, it shows their names, never a value."""

    def __init__(self, values: Mapping[str, str]):
        self._values = dict(values)

    def __getitem__(self, name: str) -> str:
        return self._values[name]

    def __iter__(self):
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __repr__(self) -> str:
        return f"StoreEnv({', '.join(sorted(self._values))})"

    __str__ = __repr__


def store_env(url: str, environ: Mapping[str, str] | None = None) -> StoreEnv:
    """The variables of `environ` (default: this process's) that the store of `url` reads."""
    environ = os.environ if environ is None else environ
    names = VARIABLES.get(urlparse(url).scheme, ())
    return StoreEnv({name: environ[name] for name in names if environ.get(name)})
