"""Local paths and `hdfs://namenode:port/path` URLs behind one small set of file
operations. URLs go through fsspec (HDFS: hdfs-native's filesystem); local paths keep plain
os calls, which the preprocess tasks' hot path was measured with."""

import functools
import os
import posixpath
import shutil
import socket
import sys
from pathlib import Path
from urllib.parse import urlparse

from jobs.errors import DrcError

PathLike = str | Path


def is_remote(path: PathLike) -> bool:
    return "://" in str(path) and not str(path).startswith("file://")


def local(path: PathLike) -> Path:
    return Path(str(path).removeprefix("file://"))


def absolute(path: str) -> str:
    """A local path made absolute (executors run elsewhere); an hdfs:// URL already is."""
    return path if is_remote(path) else str(local(path).resolve())


def join(root: PathLike, *parts: str) -> PathLike:
    """root/part/...: a Path for a local root, a URL string for a remote one."""
    if is_remote(root):
        return posixpath.join(str(root).rstrip("/"), *parts)
    return local(root).joinpath(*parts)


def name(path: PathLike) -> str:
    return posixpath.basename(str(path).rstrip("/"))


def parent(path: PathLike) -> PathLike:
    if is_remote(path):
        return posixpath.dirname(str(path).rstrip("/"))
    return local(path).parent


DEFAULT_NAMENODE_PORT = 8020
DEFAULT_NAMENODE_HTTP_PORT = 9870
CONNECT_TIMEOUT_S = 5.0


@functools.cache
def namenode_address(url: str) -> tuple[str, int]:
    """The NameNode of an hdfs:// URL, once its RPC port answers (remembered per process).
    hdfs-native retries a dead NameNode for minutes: a quick TCP probe turns that into one
    clear line, for every reader of HDFS here (the stores, the jobs' file operations)."""
    parsed = urlparse(url)
    if not parsed.netloc:
        raise DrcError(url, "no NameNode in the URL (hdfs://HOST:PORT/path)")
    address = (parsed.hostname or "", parsed.port or DEFAULT_NAMENODE_PORT)
    try:
        socket.create_connection(address, timeout=CONNECT_TIMEOUT_S).close()
    except OSError as exc:
        raise DrcError(url, f"cannot reach the NameNode at {address[0]}:{address[1]} "
                            f"({exc})") from None  # fmt: skip
    return address


def namenode_ui(*paths: PathLike | None) -> str | None:
    """The web UI of the NameNode the first hdfs:// path names (HDFS's default HTTP port)."""
    for path in paths:
        if path and str(path).startswith("hdfs://"):
            host = urlparse(str(path)).hostname or ""
            return f"http://{host}:{DEFAULT_NAMENODE_HTTP_PORT}"
    return None


_INHERITED: list = []  # the HDFS filesystems a forked child inherits, held for it


def _hold_hdfs_clients_across_fork() -> None:
    """Before every fork (multiprocessing's, and a subprocess started with preexec_fn, as
    PySpark starts its JVM): fsspec empties its cached filesystems in the child, and freeing
    an hdfs-native client there waits forever for its runtime's threads, which fork did not
    copy. Held here, the child frees none of them (a few KB) and opens its own."""
    hdfs = sys.modules.get("hdfs_native.fsspec")
    if hdfs is not None:
        _INHERITED[:] = [fs for cls in (hdfs.HdfsFileSystem, hdfs.ViewfsFileSystem)
                         for fs in cls._cache.values()]  # fmt: skip


os.register_at_fork(before=_hold_hdfs_clients_across_fork)


def _fs(path: PathLike):
    """(filesystem, path as that filesystem names it)."""
    import fsspec

    if str(path).startswith("hdfs://"):
        namenode_address(f"hdfs://{urlparse(str(path)).netloc}")
    return fsspec.core.url_to_fs(str(path))


def _url(fs, stripped: str, like: PathLike) -> str:
    """A path the filesystem returned, as a full URL again (same scheme and NameNode)."""
    scheme, rest = str(like).split("://", 1)
    netloc = rest.split("/", 1)[0]
    return f"{scheme}://{netloc}/{stripped.lstrip('/')}"


def exists(path: PathLike) -> bool:
    if not is_remote(path):
        return local(path).exists()
    fs, p = _fs(path)
    return fs.exists(p)


def isfile(path: PathLike) -> bool:
    if not is_remote(path):
        return local(path).is_file()
    fs, p = _fs(path)
    return fs.isfile(p)


def read_bytes(path: PathLike) -> bytes:
    if not is_remote(path):
        return local(path).read_bytes()
    fs, p = _fs(path)
    with fs.open(p, "rb") as handle:
        if hasattr(handle, "read_range_stream"):
            # hdfs-native's read() gathers the file in a fresh buffer and copies it again into
            # Python's: two ~1 MB allocations a photograph, each a new mmap faulted in page
            # by page. Its 64 kB packets joined once cost ~17 % less CPU (1,000 photographs
            # read: 1.5 CPU-s, was 1.8).
            return b"".join(handle.read_range_stream(0, len(handle)))
        return handle.read()


def open_read(path: PathLike):
    """A binary file to read, seekable (Parquet's reader jumps to the footer)."""
    if not is_remote(path):
        return local(path).open("rb")
    fs, p = _fs(path)
    return fs.open(p, "rb")


def read_text(path: PathLike) -> str:
    return read_bytes(path).decode()


def open_write(path: PathLike):
    """A binary file to write (whole-file replace on HDFS)."""
    if not is_remote(path):
        return local(path).open("wb")
    fs, p = _fs(path)
    return fs.open(p, "wb")


def write_bytes(path: PathLike, data: bytes) -> None:
    """Written under a temporary name, then renamed over `path`: readers see all or nothing."""
    partial = join(parent(path), f".{name(path)}.partial")
    with open_write(partial) as handle:
        handle.write(data)
    replace(partial, path)


def write_text(path: PathLike, text: str) -> None:
    write_bytes(path, text.encode())


def makedirs(path: PathLike) -> None:
    if not is_remote(path):
        local(path).mkdir(parents=True, exist_ok=True)
        return
    fs, p = _fs(path)
    fs.makedirs(p, exist_ok=True)


def rmtree(path: PathLike) -> None:
    """Remove a directory and everything under it; nothing there is not an error."""
    if not is_remote(path):
        shutil.rmtree(local(path), ignore_errors=True)
        return
    fs, p = _fs(path)
    if fs.exists(p):
        fs.rm(p, recursive=True)


def remove(path: PathLike) -> None:
    """Remove one file; nothing there is not an error."""
    if not is_remote(path):
        local(path).unlink(missing_ok=True)
        return
    fs, p = _fs(path)
    if fs.exists(p):
        fs.rm(p)


def replace(src: PathLike, dst: PathLike) -> None:
    """Rename `src` to `dst`, over a file there (a directory there is removed first)."""
    if not is_remote(src):
        if local(dst).is_dir() and not local(src).is_file():
            shutil.rmtree(local(dst))
        os.replace(local(src), local(dst))
        return
    fs, s = _fs(src)
    _, d = _fs(dst)
    if fs.isdir(d) and not fs.isfile(s):
        fs.rm(d, recursive=True)
    fs.mv(s, d, overwrite=True)


def glob(pattern: PathLike) -> list[PathLike]:
    if not is_remote(pattern):
        return sorted(local(pattern).parent.glob(local(pattern).name))
    fs, p = _fs(pattern)
    return [_url(fs, hit, pattern) for hit in sorted(fs.glob(p))]


def listdir(path: PathLike) -> list[tuple[PathLike, int, bool]]:
    """(path, size, is_dir) of each entry, sorted by name."""
    if not is_remote(path):
        return [(p, p.stat().st_size if p.is_file() else 0, p.is_dir())
                for p in sorted(local(path).iterdir())]  # fmt: skip
    fs, p = _fs(path)
    entries = fs.ls(p, detail=True)
    return sorted((_url(fs, e["name"], path), int(e.get("size") or 0), e["type"] == "directory")
                  for e in entries)  # fmt: skip
