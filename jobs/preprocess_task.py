"""The body of one preprocessing Spark task: images in, Parquet per size out, quarantine
rows back. Runs in the executors' Python workers and needs no Spark (the tests and the CNN
fixtures call it directly); the driver's side of the job is `jobs.preprocess`."""

import os
from collections.abc import Iterable, Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from jobs.images import ImageRejected, preprocess_bytes
from jobs.labels import parse_image_name
from jobs.layout import PIXELS_SCHEMA

FLUSH_IMAGES = 32  # images per Parquet row group: bounds each task's memory


def process_paths(
    paths: Iterable[str], sizes: tuple[int, ...], levels: dict[str, int]
) -> Iterator[tuple[dict, dict[int, bytes] | None]]:
    """(identity, {size: pixel bytes}) per image; pixels is None and identity carries
    `reason` and `detail` for an image that goes to quarantine."""
    for path in paths:
        stem = Path(path).stem
        try:
            name = parse_image_name(stem)
            ident = {"image": stem, "subject": name.subject, "eye": name.eye}
        except ValueError:
            ident = {"image": stem, "subject": None, "eye": None}
        ident["level"] = levels.get(stem)
        try:
            resized, ident["format"] = preprocess_bytes(Path(path).read_bytes(), sizes)
        except ImageRejected as exc:
            yield {**ident, "reason": exc.reason, "detail": exc.detail}, None
        except OSError as exc:
            yield {**ident, "reason": "unreadable", "detail": str(exc)}, None
        else:
            yield ident, {size: pixels.tobytes() for size, pixels in resized.items()}


class SizeWriters:
    """One Parquet file per size for one task, renamed into place when complete."""

    def __init__(self, root: Path, sizes: tuple[int, ...], part: int):
        self.final = {s: root / f"size={s}" / f"part-{part:05d}.parquet" for s in sizes}
        self.writers: dict[int, pq.ParquetWriter] = {}

    def write(self, rows: list[tuple[dict, dict[int, bytes]]]) -> None:
        columns = {f.name: [ident.get(f.name) for ident, _ in rows] for f in PIXELS_SCHEMA}
        for size, final in self.final.items():
            columns["pixels"] = [pixels[size] for _, pixels in rows]
            if size not in self.writers:
                final.parent.mkdir(parents=True, exist_ok=True)
                self.writers[size] = pq.ParquetWriter(
                    f"{final}.partial", PIXELS_SCHEMA, compression="snappy"
                )
            self.writers[size].write_table(pa.table(columns, schema=PIXELS_SCHEMA))

    def close(self) -> None:
        for size, writer in self.writers.items():
            writer.close()
            os.replace(f"{self.final[size]}.partial", self.final[size])


def preprocess_partition(
    part: int, paths: Iterable[str], root: str, sizes: tuple[int, ...], levels, done=None
) -> Iterator[dict]:
    """Body of one Spark task: writes its Parquet files, yields only quarantine rows."""
    writers = SizeWriters(Path(root), sizes, part)
    good: list[tuple[dict, dict[int, bytes]]] = []
    for ident, pixels in process_paths(paths, sizes, levels):
        if pixels is None:
            yield {k: ident[k] for k in ("image", "reason", "detail")}
        else:
            good.append((ident, pixels))
        if len(good) == FLUSH_IMAGES:
            writers.write(good)
            good = []
        if done is not None:
            done.add(1)
    if good:
        writers.write(good)
    writers.close()
