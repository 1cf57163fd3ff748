"""put / get / verify / ls between a local directory and a store, in parallel, verified.

A download goes to `.NAME.partial` beside its target and is renamed only once it matches
the store (size, and MD5 or our SHA-256 metadata), so an interrupted `get` leaves no
half file under a real name and a re-run transfers only what is missing or wrong.
"""

import os
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

from jobs.errors import DrcError
from jobs.storage import open_store
from jobs.storage.base import ObjectInfo, Store, local_digest, safe_key
from jobs.storage.progress import TransferProgress, megabytes

JOBS = 8


@dataclass
class TransferResult:
    action: str
    url: str
    objects: int = 0
    transferred: int = 0
    bytes: int = 0
    present: int = 0
    size_only: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)
    seconds: float = 0.0

    def summary(self) -> str:
        rate = self.bytes / self.seconds if self.seconds else 0.0
        text = (f"{self.action} {self.url}: {self.objects} objects, {self.transferred} "
                f"transferred ({megabytes(self.bytes)}), {self.present} already present and "
                f"verified, {len(self.failed)} failed; {self.seconds:.1f} s "
                f"({megabytes(rate)}/s)")  # fmt: skip
        if self.size_only:
            text += f"; {self.size_only} segmented objects without our digest checked by size"
        return text


def _run_all(items: Iterable, work: Callable, result: TransferResult, jobs: int) -> None:
    """Run `work(item) -> (moved_bytes | None, proof)` in a thread pool and tally the
    outcomes here, in one thread; a DrcError fails that item, the rest go on."""
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        futures = [pool.submit(work, item) for item in items]
        for future in as_completed(futures):
            try:
                moved, how = future.result()
            except DrcError as exc:
                result.failed.append((exc.where, exc.reason))
                continue
            if moved is None:
                result.present += 1
            else:
                result.transferred += 1
                result.bytes += moved
            result.size_only += how == "size"


def _proof(store: Store, info: ObjectInfo, target: Path) -> str | None:
    """How the local file is proven equal to the object, or None. A file of the wrong
    size (e.g. cut off) is rejected from its stat, without reading it."""
    if not target.is_file() or target.stat().st_size != info.size:
        return None
    return store.matches(info, local_digest(target))


def _listing(store: Store) -> list[ObjectInfo]:
    infos = list(store.list())
    if not infos:
        raise DrcError(store.url, "no objects under this prefix")
    return infos


def get(url: str, dest: Path, jobs: int = JOBS) -> TransferResult:
    start = time.monotonic()
    store, dest = open_store(url), Path(dest)
    infos = _listing(store)
    result = TransferResult("get", url, objects=len(infos))
    progress = TransferProgress(f"get {url}", len(infos), sum(i.size for i in infos))

    def one(info: ObjectInfo) -> tuple[int | None, str]:
        target = dest / safe_key(info.key, url)
        how = _proof(store, info, target)
        if how:
            progress.finished(info.size)
            return None, how
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f".{target.name}.partial")
        for _attempt in range(2):  # one retry: a connection cut mid-body shows as a mismatch
            store.download(info.key, partial, progress.moved)
            how = store.matches(info, local_digest(partial))
            if how:
                os.replace(partial, target)
                progress.finished()
                return info.size, how
        partial.unlink(missing_ok=True)
        where = f"{url.rstrip('/')}/{info.key}"
        raise DrcError(where, "downloaded copy differs from the store (size or digest), twice")

    dest.mkdir(parents=True, exist_ok=True)
    _run_all(infos, one, result, jobs)
    progress.close()
    result.seconds = time.monotonic() - start
    return result


def put(source: Path, url: str, jobs: int = JOBS) -> TransferResult:
    start = time.monotonic()
    source = Path(source)
    if not source.is_dir():
        raise DrcError(source, "not a directory")
    files = sorted(p for p in source.rglob("*") if p.is_file() and not p.name.startswith("."))
    store = open_store(url)
    store.ensure_container()
    remote = {info.key: info for info in store.list()}
    result = TransferResult("put", url, objects=len(files))
    progress = TransferProgress(f"put {url}", len(files), sum(p.stat().st_size for p in files))

    def one(path: Path) -> tuple[int | None, str]:
        key = path.relative_to(source).as_posix()
        digest = local_digest(path)
        how = store.matches(remote[key], digest) if key in remote else None
        if how:
            progress.finished(digest.size)
            return None, how
        store.upload(path, key, digest, progress.moved)
        progress.finished()
        return digest.size, "sha256"

    _run_all(files, one, result, jobs)
    progress.close()
    result.seconds = time.monotonic() - start
    return result


@dataclass
class VerifyResult:
    url: str
    objects: int = 0
    ok: int = 0
    missing: list[str] = field(default_factory=list)
    different: list[str] = field(default_factory=list)
    size_only: int = 0

    def summary(self) -> str:
        text = (f"verify {self.url}: {self.objects} objects, {self.ok} match, "
                f"{len(self.missing)} missing, {len(self.different)} differ")  # fmt: skip
        if self.size_only:
            text += f" ({self.size_only} checked by size only)"
        return text


def verify(url: str, dest: Path, jobs: int = JOBS) -> VerifyResult:
    store, dest = open_store(url), Path(dest)
    infos = _listing(store)
    result = VerifyResult(url, objects=len(infos))

    def one(info: ObjectInfo) -> tuple[ObjectInfo, str | None, bool]:
        target = dest / safe_key(info.key, url)
        return info, _proof(store, info, target), target.is_file()

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        for info, how, exists in pool.map(one, infos):
            if not exists:
                result.missing.append(info.key)
            elif how is None:
                result.different.append(info.key)
            else:
                result.ok += 1
                result.size_only += how == "size"
    return result


def ls(url: str) -> list[ObjectInfo]:
    return list(open_store(url).list())
