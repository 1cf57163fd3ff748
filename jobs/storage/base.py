"""The one interface every object store implements, and the rules for trusting a copy."""

import hashlib
import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from jobs.errors import DrcError

CHUNK = 1 << 20
# Our own whole-object digest, stored as object metadata on upload: the store's ETag is
# not the content's MD5 for segmented (SLO / multipart) objects, so it cannot vouch for them.
SHA256_META = "drc-sha256"
_MD5 = re.compile(r"^[0-9a-f]{32}$")

Progress = Callable[[int], None]  # called with the bytes moved since the last call


@dataclass(frozen=True)
class ObjectInfo:
    key: str  # relative to the URL's prefix, "/"-separated
    size: int
    etag: str | None = None  # as the listing gives it, quotes stripped

    @property
    def etag_md5(self) -> str | None:
        """The ETag when it is a plain content MD5 (not a segmented object's)."""
        return self.etag if self.etag and _MD5.match(self.etag) else None


@dataclass(frozen=True)
class ObjectMeta:
    sha256: str | None  # what we recorded on upload, if we uploaded it
    segmented: bool  # SLO/DLO or multipart: the ETag is not the content's MD5


@dataclass(frozen=True)
class LocalDigest:
    size: int
    md5: str
    sha256: str


def _digest(chunks: Iterable[bytes]) -> LocalDigest:
    md5, sha = hashlib.md5(usedforsecurity=False), hashlib.sha256()
    size = 0
    for chunk in chunks:
        md5.update(chunk)
        sha.update(chunk)
        size += len(chunk)
    return LocalDigest(size, md5.hexdigest(), sha.hexdigest())


def local_digest(path: Path) -> LocalDigest:
    with Path(path).open("rb") as handle:
        return _digest(iter(lambda: handle.read(CHUNK), b""))


def bytes_digest(data: bytes) -> LocalDigest:
    """The digest of an object fetched into memory (the one-hop preprocess's)."""
    return _digest([data])


class StoreError(DrcError):
    """A store's failure, with its kind: a caller that retries tells the kinds apart."""

    def __init__(self, where: object, reason: str, kind: str):
        super().__init__(where, reason)
        self.kind = kind


def store_error(url: str, kind: str, what: str, detail: str) -> StoreError:
    """One phrasing for every store: kind is auth, missing, unreachable or other."""
    reason = {
        "auth": f"authentication failed ({detail})",
        "missing": f"{what}: not found ({detail})",
        "unreachable": f"cannot reach {detail}",
    }.get(kind, f"{what}: {detail}")
    return StoreError(url, reason, kind)


def safe_key(key: str, where: object) -> PurePosixPath:
    """A key as a relative path that cannot escape the destination directory."""
    path = PurePosixPath(key)
    if not key or path.is_absolute() or ".." in path.parts:
        raise DrcError(where, f"refusing object name {key!r} (absolute or '..')")
    return path


class Store(ABC):
    """A bucket/container with a prefix. Keys are relative to that prefix."""

    url: str

    @abstractmethod
    def list(self) -> Iterator[ObjectInfo]: ...

    @abstractmethod
    def meta(self, key: str) -> ObjectMeta:
        """One metadata request (HEAD) about the object."""

    @abstractmethod
    def download(self, key: str, target: Path, progress: Progress) -> None: ...

    @abstractmethod
    def read(self, key: str) -> bytes:
        """The whole object, in memory (a photograph: ~1-4 MB), never on a disk."""

    @abstractmethod
    def upload(self, source: Path, key: str, digest: LocalDigest, progress: Progress) -> None:
        """Store `source` under `key`, as segments when large, recording `digest.sha256`."""

    def ensure_container(self) -> None:  # noqa: B027 - stores that need one override it
        """Create the bucket/container for an upload if it does not exist."""

    def matches(self, info: ObjectInfo, local: LocalDigest) -> str | None:
        """How the local copy was proven equal to the object ('md5', 'sha256',
        'size'), or None when it differs."""
        if local.size != info.size:
            return None
        if info.etag_md5 and info.etag_md5 == local.md5:
            return "md5"
        meta = self.meta(info.key)
        if meta.sha256:
            return "sha256" if meta.sha256 == local.sha256 else None
        # A segmented object uploaded by another tool: its size is all we can check.
        return "size" if meta.segmented else None
