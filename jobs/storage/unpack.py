"""Extract a zip archive that came split in parts (train.zip.001, .002 ...) as one.

The parts are read through one seekable view of their concatenation, so the joined
archive is never written to disk. Only images and CSVs are extracted, never outside DEST.
"""

import glob
import io
import os
import zipfile
from bisect import bisect_right
from dataclasses import dataclass, field
from pathlib import Path

from jobs.errors import DrcError
from jobs.storage.base import safe_key

EXTRACT_SUFFIXES = {".jpeg", ".jpg", ".png", ".tif", ".tiff", ".csv"}


class ConcatReader(io.RawIOBase):
    """Read-only, seekable view of files laid end to end."""

    def __init__(self, paths: list[Path]):
        self.paths = [Path(p) for p in paths]
        self.starts, total = [], 0
        for path in self.paths:
            self.starts.append(total)
            total += path.stat().st_size
        self.size, self.pos = total, 0
        self.handles = [path.open("rb") for path in self.paths]

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self.pos, io.SEEK_END: self.size}[whence]
        self.pos = max(0, base + offset)
        return self.pos

    def readinto(self, buffer) -> int:
        if self.pos >= self.size:
            return 0
        index = bisect_right(self.starts, self.pos) - 1
        handle = self.handles[index]
        handle.seek(self.pos - self.starts[index])
        count = handle.readinto(memoryview(buffer))  # stops at this part's end
        self.pos += count
        return count

    def close(self) -> None:
        for handle in self.handles:
            handle.close()
        super().close()


@dataclass
class UnpackResult:
    extracted: int = 0
    present: int = 0
    bytes: int = 0
    refused: list[tuple[str, str]] = field(default_factory=list)

    def summary(self) -> str:
        return (
            f"unpacked {self.extracted} files ({self.bytes} bytes), {self.present} already "
            f"present, {len(self.refused)} skipped (not an image/CSV, or unsafe path)"
        )


def expand_parts(parts: list[str]) -> list[Path]:
    """Parts as given, or one glob expanded in name order (.001 < .002 < ...)."""
    if len(parts) == 1 and any(c in parts[0] for c in "*?["):
        found = sorted(glob.glob(parts[0]))
        if not found:
            raise DrcError(parts[0], "no file matches this pattern")
        return [Path(p) for p in found]
    for part in parts:
        if not Path(part).is_file():
            raise DrcError(part, "archive part does not exist")
    return [Path(p) for p in parts]


def unpack(parts: list[Path], dest: Path) -> UnpackResult:
    dest = Path(dest)
    result = UnpackResult()
    with ConcatReader(parts) as raw, io.BufferedReader(raw, 1 << 20) as joined:
        try:
            archive = zipfile.ZipFile(joined)
        except zipfile.BadZipFile:
            where = f"{parts[0]} (+{len(parts) - 1} parts)"
            raise DrcError(where, "not a zip archive, or a part is missing") from None
        with archive:
            for entry in archive.infolist():
                if entry.is_dir():
                    continue
                try:
                    rel = safe_key(entry.filename, entry.filename)
                except DrcError as exc:
                    result.refused.append((entry.filename, exc.reason))
                    continue
                if Path(rel.name).suffix.lower() not in EXTRACT_SUFFIXES:
                    result.refused.append((entry.filename, "not an image or CSV"))
                    continue
                target = dest / rel
                if target.is_file() and target.stat().st_size == entry.file_size:
                    result.present += 1
                    continue
                target.parent.mkdir(parents=True, exist_ok=True)
                partial = target.with_name(f".{target.name}.partial")
                # ZipFile checks each member's CRC-32 as it is read: a damaged part fails here.
                try:
                    with archive.open(entry) as src, partial.open("wb") as out:
                        while chunk := src.read(1 << 20):
                            out.write(chunk)
                except (zipfile.BadZipFile, EOFError) as exc:
                    partial.unlink(missing_ok=True)
                    result.refused.append((entry.filename, f"damaged in the archive: {exc}"))
                    continue
                os.replace(partial, target)
                result.extracted += 1
                result.bytes += entry.file_size
    return result
