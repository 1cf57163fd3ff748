"""`file:///dir`: a directory as a bucket (the demo's default, and the tests' reference)."""

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

from jobs.errors import DrcError
from jobs.storage.base import (
    CHUNK,
    LocalDigest,
    ObjectInfo,
    ObjectMeta,
    Progress,
    Store,
    local_digest,
)


class FileStore(Store):
    def __init__(self, url: str, path: str):
        self.url = url
        self.root = Path(path)

    def list(self) -> Iterator[ObjectInfo]:
        if not self.root.is_dir():
            raise DrcError(self.url, "directory does not exist")
        for path in sorted(self.root.rglob("*")):
            if path.is_file() and not path.name.startswith("."):
                key = path.relative_to(self.root).as_posix()
                yield ObjectInfo(key, path.stat().st_size)

    def meta(self, key: str) -> ObjectMeta:
        # No stored digest: the caller hashes the file itself (see matches()).
        return ObjectMeta(sha256=None, segmented=False)

    def matches(self, info: ObjectInfo, local: LocalDigest) -> str | None:
        if local.size != info.size:
            return None
        return "sha256" if local_digest(self.root / info.key).sha256 == local.sha256 else None

    def ensure_container(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)

    def download(self, key: str, target: Path, progress: Progress) -> None:
        self._copy(self.root / key, target, progress)

    def read(self, key: str) -> bytes:
        return (self.root / key).read_bytes()

    def upload(self, source: Path, key: str, digest: LocalDigest, progress: Progress) -> None:
        target = self.root / key
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f".{target.name}.partial")
        self._copy(source, partial, progress)
        os.replace(partial, target)

    @staticmethod
    def _copy(source: Path, target: Path, progress: Progress) -> None:
        with source.open("rb") as src, target.open("wb") as dst:
            while chunk := src.read(CHUNK):
                dst.write(chunk)
                progress(len(chunk))
        shutil.copystat(source, target)
