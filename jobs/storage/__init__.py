"""Object stores behind one interface, chosen by URL scheme: file://, swift://, s3://, hdfs://."""

from urllib.parse import urlparse

from jobs.errors import DrcError
from jobs.storage.base import Store


def _file(url, parsed):
    from jobs.storage.local import FileStore

    return FileStore(url, parsed.path if parsed.scheme else url)


def _swift(url, parsed):
    from jobs.storage.swift import SwiftStore

    return SwiftStore(url, parsed.netloc, _prefix(parsed.path))


def _s3(url, parsed):
    from jobs.storage.s3 import S3Store

    return S3Store(url, parsed.netloc, _prefix(parsed.path))


def _hdfs(url, parsed):
    from jobs.storage.hdfs import HdfsStore

    return HdfsStore(url)


BACKENDS = {"": _file, "file": _file, "swift": _swift, "s3": _s3, "hdfs": _hdfs}


def _prefix(path: str) -> str:
    """'/a/b' -> 'a/b/' so a prefix names a "directory", never half a name."""
    path = path.strip("/")
    return f"{path}/" if path else ""


def open_store(url: str) -> Store:
    parsed = urlparse(url)
    backend = BACKENDS.get(parsed.scheme)
    if backend is None:
        raise DrcError(url, f"unsupported scheme {parsed.scheme!r} "
                            f"(supported: file://, swift://, s3://, hdfs://)")  # fmt: skip
    if parsed.scheme in ("swift", "s3") and not parsed.netloc:
        raise DrcError(url, "no container/bucket in the URL (swift://CONTAINER/prefix)")
    return backend(url, parsed)
