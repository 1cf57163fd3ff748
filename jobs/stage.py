"""Stage a data set from a "bucket" into the cluster's data directory.

Only `file://` (and plain paths) for now; object stores plug in behind `open_source`.
Copies go to a temporary name and are renamed once their size and digest match, so an
interrupted run leaves no half file under a real name and a re-run copies only what
is missing or different.
"""

import hashlib
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

from jobs.errors import DrcError

CHUNK = 1 << 20


@dataclass
class StageResult:
    copied: int = 0
    skipped: int = 0
    bytes_copied: int = 0


def source_dir(url: str) -> Path:
    """`file:///path` or a plain path -> the directory it names."""
    parsed = urlparse(url)
    if parsed.scheme not in ("", "file"):
        raise DrcError(url, f"unsupported source scheme {parsed.scheme!r} (supported: file://)")
    path = Path(parsed.path if parsed.scheme else url)
    if not path.is_dir():
        raise DrcError(path, "source directory does not exist")
    return path


def file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def stage(url: str, dest: Path) -> StageResult:
    """Copy every file of the source into `dest`, verified; skip what is already there."""
    src_dir = source_dir(url)
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    result = StageResult()
    for src in sorted(p for p in src_dir.iterdir() if p.is_file()):
        target = dest / src.name
        want = file_digest(src)  # once per file: it decides both the skip and the check
        if target.is_file() and target.stat().st_size == src.stat().st_size:
            if file_digest(target) == want:
                result.skipped += 1
                continue
        partial = dest / f".{src.name}.partial"
        shutil.copyfile(src, partial)
        if file_digest(partial) != want:
            partial.unlink()
            raise DrcError(src, "copy does not match its source (digest differs)")
        os.replace(partial, target)
        result.copied += 1
        result.bytes_copied += target.stat().st_size
    return result
