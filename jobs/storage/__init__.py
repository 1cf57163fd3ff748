"""Object stores behind one interface, chosen by URL scheme: file://, swift://, s3://, hdfs://."""

from collections.abc import Mapping
from urllib.parse import urlparse

from jobs.errors import DrcError
from jobs.storage.base import Store


def _file(url, parsed, env):
    from jobs.storage.local import FileStore

    return FileStore(url, parsed.path if parsed.scheme else url)


def _swift(url, parsed, env):
    from jobs.storage.swift import SwiftStore

    return SwiftStore(url, parsed.netloc, _prefix(parsed.path), env=env)


def _s3(url, parsed, env):
    from jobs.storage.s3 import S3Store

    return S3Store(url, parsed.netloc, _prefix(parsed.path), env=env)


def _hdfs(url, parsed, env):
    from jobs.storage.hdfs import HdfsStore

    return HdfsStore(url)


BACKENDS = {"": _file, "file": _file, "swift": _swift, "s3": _s3, "hdfs": _hdfs}
# Stores whose objects the one-hop preprocess fetches straight from (not a file system)
OBJECT_STORES = ("swift", "s3")


def is_object_store(url: object) -> bool:
    return urlparse(str(url)).scheme in OBJECT_STORES


def _prefix(path: str) -> str:
    """'/a/b' -> 'a/b/' so a prefix names a "directory", never half a name."""
    path = path.strip("/")
    return f"{path}/" if path else ""


def open_store(url: str, env: Mapping[str, str] | None = None) -> Store:
    """The store of `url`; its credentials from `env` (None: this process's environment)."""
    parsed = urlparse(url)
    backend = BACKENDS.get(parsed.scheme)
    if backend is None:
        raise DrcError(url, f"unsupported scheme {parsed.scheme!r} "
                            f"(supported: file://, swift://, s3://, hdfs://)")  # fmt: skip
    if parsed.scheme in OBJECT_STORES and not parsed.netloc:
        raise DrcError(url, "no container/bucket in the URL (swift://CONTAINER/prefix)")
    return backend(url, parsed, env)
