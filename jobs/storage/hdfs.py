"""`hdfs://namenode:port/path`: HDFS as a bucket, through hdfs-native (a native HDFS
client: the JVM's libhdfs ships only in the Hadoop release, which these machines cannot
fetch). HDFS keeps no user metadata this client can set, so the content's SHA-256 travels
in a hidden sidecar `.NAME.sha256` beside each file (listings skip names with a dot).

`python -m jobs.storage.hdfs roundtrip hdfs://nn:8020`: writes, reads back and removes a
file (the hadoop role's health check); one clear line on failure."""

import re
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from urllib.parse import urlparse

from jobs.dataset.fs import namenode_address
from jobs.errors import DrcError
from jobs.storage import base

WRITE_CHUNK = 4 << 20


def _client(url: str):
    """A client for the NameNode of `url`, once its RPC port answers (fs.namenode_address)."""
    from hdfs_native import Client

    if not urlparse(url).netloc:
        raise DrcError(url, "no NameNode in the URL (hdfs://HOST:PORT/path)")
    host, port = namenode_address(f"hdfs://{urlparse(url).netloc}")
    return Client(f"hdfs://{host}:{port}")


_RPC_ERROR = re.compile(r'RPCError\("(?:[\w.]+\.)?(\w+)", "(.*?)(?:\\n|"\))')


def _reason(exc: Exception) -> str:
    """hdfs-native's RPC errors carry Java's exception class, its message and its stack in
    one string: keep the class's name and the message's first line."""
    text = str(exc).strip() or type(exc).__name__
    rpc = _RPC_ERROR.search(text)
    reason = f"{rpc.group(1)}: {rpc.group(2)}" if rpc else text.splitlines()[0]
    return reason.replace('\\"', '"')[:300]


class HdfsStore(base.Store):
    def __init__(self, url: str):
        self.url = url
        self.root = PurePosixPath(urlparse(url).path or "/")
        self.client = _client(url)

    def _call(self, what: str, fn, *args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except FileNotFoundError as exc:
            raise base.store_error(self.url, "missing", what, _reason(exc)) from None
        except ConnectionError as exc:
            raise base.store_error(
                self.url, "unreachable", what, urlparse(self.url).netloc
            ) from exc
        except OSError as exc:
            raise base.store_error(self.url, "other", what, _reason(exc)) from None
        except RuntimeError as exc:  # hdfs-native's RPC errors (safe mode, permissions)
            raise base.store_error(self.url, "other", what, _reason(exc)) from None

    def _path(self, key: str) -> str:
        return str(self.root / base.safe_key(key, self.url))

    @staticmethod
    def _sidecar(path: str) -> str:
        p = PurePosixPath(path)
        return str(p.with_name(f".{p.name}.sha256"))

    def list(self) -> Iterator[base.ObjectInfo]:
        statuses = self._call(str(self.root), lambda: list(
            self.client.list_status(str(self.root), recursive=True)))  # fmt: skip
        for status in sorted(statuses, key=lambda s: s.path):
            key = PurePosixPath(status.path).relative_to(self.root)
            if status.isdir or any(part.startswith(".") for part in key.parts):
                continue
            yield base.ObjectInfo(key.as_posix(), int(status.length))

    def meta(self, key: str) -> base.ObjectMeta:
        try:
            with self.client.read(self._sidecar(self._path(key))) as handle:
                return base.ObjectMeta(handle.read().decode().strip() or None, segmented=False)
        except FileNotFoundError:
            # Written by another tool (a Spark job): no digest of ours. HDFS checks every
            # block's CRC as it is read, so a copy of the right size is the file.
            return base.ObjectMeta(sha256=None, segmented=True)

    def ensure_container(self) -> None:
        self._call(str(self.root), self.client.mkdirs, str(self.root), create_parent=True)

    def download(self, key: str, target: Path, progress: base.Progress) -> None:
        def copy():
            with self.client.read(self._path(key)) as src, Path(target).open("wb") as dst:
                while chunk := src.read(base.CHUNK):
                    dst.write(chunk)
                    progress(len(chunk))

        self._call(key, copy)

    def read(self, key: str) -> bytes:
        def whole() -> bytes:
            with self.client.read(self._path(key)) as handle:
                return handle.read()

        return self._call(key, whole)

    def upload(
        self, source: Path, key: str, digest: base.LocalDigest, progress: base.Progress
    ) -> None:
        path = self._path(key)
        parent = str(PurePosixPath(path).parent)
        partial = f"{parent}/.{PurePosixPath(path).name}.{uuid.uuid4().hex}.partial"

        def write():
            self.client.mkdirs(parent, create_parent=True)
            with Path(source).open("rb") as src, self.client.create(partial) as dst:
                while chunk := src.read(WRITE_CHUNK):
                    dst.write(chunk)
                    progress(len(chunk))
            # the data is whole before its name appears; the digest after it, so a file
            # with a digest is always the file the digest describes
            self.client.rename(partial, path, overwrite=True)
            with self.client.create(f"{partial}.sha256") as side:
                side.write(digest.sha256.encode())
            self.client.rename(f"{partial}.sha256", self._sidecar(path), overwrite=True)

        self._call(key, write)


def roundtrip(url: str) -> None:
    """Write, read back and remove a small file under /tmp of the file system at `url`."""
    parsed = urlparse(url)
    store = HdfsStore(f"hdfs://{parsed.netloc}/tmp/drc-check-{uuid.uuid4().hex}")
    payload = uuid.uuid4().bytes * 64

    def cycle():
        store.client.mkdirs(str(store.root), create_parent=True)
        with store.client.create(str(store.root / "probe")) as handle:
            handle.write(payload)
        with store.client.read(str(store.root / "probe")) as handle:
            back = handle.read()
        store.client.delete(str(store.root), recursive=True)
        if back != payload:
            raise OSError(
                f"the file read back ({len(back)} bytes) differs from the one "
                f"written ({len(payload)} bytes)"
            )

    store._call("round trip", cycle)


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] != "roundtrip":
        sys.exit("usage: python -m jobs.storage.hdfs roundtrip hdfs://HOST:PORT")
    try:
        roundtrip(sys.argv[2])
    except DrcError as exc:
        sys.exit(f"hdfs: error: {exc}")
    print(f"{sys.argv[2]}: write, read back and remove: ok")
