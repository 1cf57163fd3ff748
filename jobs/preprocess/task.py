"""The body of one preprocessing Spark task: images in, Parquet per size out, quarantine
rows back. Runs in the executors' Python workers and needs no Spark (the tests and the CNN
fixtures call it directly); the driver's side of the job is `jobs.preprocess.job`. The
photographs are files (paths) or, on the one-hop path, objects fetched from a store
(`jobs.preprocess.sources`): `read` turns one into its bytes."""

import contextlib
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pyarrow.parquet as pq

from jobs.dataset import fs
from jobs.dataset.labels import parse_image_name
from jobs.dataset.layout import size_dir
from jobs.dataset.parquet import PARQUET_OPTIONS, PIXELS_SCHEMA, label_columns, pixels_table
from jobs.preprocess.images import ImageRejected, preprocess_bytes
from jobs.preprocess.sources import Item, Source, stem

FLUSH_IMAGES = 32  # images per Parquet row group: bounds each task's memory
READ_AHEAD = 4  # photographs read while the one before them decodes (~1 MB each)


def read_ahead(
    paths: Iterable[Item], ahead: int = READ_AHEAD, read: Callable[[Item], bytes] = fs.read_bytes
) -> Iterator[tuple[Item, bytes | OSError]]:
    """(path, its bytes or the OSError reading it raised), in order, with up to `ahead`
    reads in flight on a thread: an HDFS read's round trips (~4 ms an image, measured), or
    an object store's, overlap the decoding of the image before it instead of adding to it.
    Any other error (a store refusing the credentials) fails the task."""

    def attempt(path: Item) -> bytes | OSError:
        try:
            return read(path)
        except OSError as exc:
            return exc

    with ThreadPoolExecutor(1) as pool:
        pending: deque = deque()
        for path in paths:
            pending.append((path, pool.submit(attempt, path)))
            if len(pending) > ahead:
                done, future = pending.popleft()
                yield done, future.result()
        while pending:
            done, future = pending.popleft()
            yield done, future.result()


def process_paths(
    paths: Iterable[Item],
    sizes: tuple[int, ...],
    levels: dict[str, int],
    normalise: str = "none",
    read: Callable[[Item], bytes] = fs.read_bytes,
) -> Iterator[tuple[dict, dict[int, np.ndarray] | None]]:
    """(identity, {size: HxWx3 uint8 pixels}) per image; pixels is None and identity carries
    `reason` and `detail` for an image that goes to quarantine."""
    for path, data in read_ahead(paths, read=read):
        image = stem(path)
        try:
            name = parse_image_name(image)
            ident = {"image": image, "subject": name.subject, "eye": name.eye}
        except ValueError:
            ident = {"image": image, "subject": None, "eye": None}
        ident["level"] = levels.get(image)
        if isinstance(data, OSError):
            # a fetch's own reason (missing, unverified, unfetchable), else unreadable
            reason = getattr(data, "reason", "unreadable")
            yield {**ident, "reason": reason, "detail": getattr(data, "detail", str(data))}, None
            continue
        try:
            resized, ident["format"] = preprocess_bytes(data, sizes, normalise)
        except ImageRejected as exc:
            yield {**ident, "reason": exc.reason, "detail": exc.detail}, None
        except OSError as exc:
            yield {**ident, "reason": "unreadable", "detail": str(exc)}, None
        else:
            yield ident, resized


class SizeWriters:
    """One Parquet file per size for one task (local or on HDFS), renamed into place when
    complete: a retried task overwrites its own file, never adds a second one."""

    def __init__(self, root: fs.PathLike, sizes: tuple[int, ...], part: int):
        self.final = {s: fs.join(size_dir(root, s), f"part-{part:05d}.parquet") for s in sizes}
        self.writers: dict[int, pq.ParquetWriter] = {}
        self.handles: list = []

    def _open(self, final: fs.PathLike) -> pq.ParquetWriter:
        fs.makedirs(fs.parent(final))
        if not fs.is_remote(final):
            return pq.ParquetWriter(f"{final}.partial", PIXELS_SCHEMA, **PARQUET_OPTIONS)
        handle = fs.open_write(f"{final}.partial")
        self.handles.append(handle)
        return pq.ParquetWriter(handle, PIXELS_SCHEMA, **PARQUET_OPTIONS)

    def write(self, rows: list[tuple[dict, dict[int, np.ndarray]]]) -> None:
        labels = label_columns([ident for ident, _ in rows])
        for size, final in self.final.items():
            if size not in self.writers:
                self.writers[size] = self._open(final)
            table = pixels_table(labels, [pixels[size] for _, pixels in rows])
            self.writers[size].write_table(table)

    def abort(self) -> None:
        """A failed attempt removes its half-written files: nothing partial is left for the
        size to publish, and the retried attempt writes its own whole."""
        for closing in [*self.writers.values(), *self.handles]:
            with contextlib.suppress(Exception):  # already failing: the first error counts
                closing.close()
        for size in self.writers:
            with contextlib.suppress(OSError):
                fs.remove(f"{self.final[size]}.partial")

    def close(self) -> None:
        for writer in self.writers.values():
            writer.close()
        # An HDFS file's close waits ~0.5 s for the NameNode to complete it (measured with
        # hdfs-native): the sizes' files are closed together, not one after another.
        with ThreadPoolExecutor(max(1, len(self.handles))) as pool:
            list(pool.map(lambda handle: handle.close(), self.handles))
        for size in self.writers:
            fs.replace(f"{self.final[size]}.partial", self.final[size])


def preprocess_partition(
    part: int,
    paths: Iterable[Item],
    root: str,
    sizes: tuple[int, ...],
    levels,
    done=None,
    normalise: str = "none",
    read: Callable[[Item], bytes] = fs.read_bytes,
) -> Iterator[dict]:
    """Body of one Spark task: writes its Parquet files, yields only quarantine rows."""
    writers = SizeWriters(root, sizes, part)  # fs.join keeps a URL a URL, a path a Path
    good: list[tuple[dict, dict[int, np.ndarray]]] = []
    try:
        for ident, pixels in process_paths(paths, sizes, levels, normalise, read):
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
    except BaseException:  # a failed or abandoned attempt: Spark runs the task again
        writers.abort()
        raise


def preprocess_labelled(
    part: int,
    rows: Iterable[tuple[Item, int | None]],
    root: str,
    sizes: tuple[int, ...],
    done,
    normalise: str = "none",
    source: Source | None = None,
) -> Iterator[dict]:
    """`preprocess_partition` over (path, level) pairs, the form the driver ships them in;
    `source` says how to read them (None: paths)."""
    rows = list(rows)
    levels = {stem(path): level for path, level in rows if level is not None}
    read = source.reader() if source else fs.read_bytes
    return preprocess_partition(
        part, [path for path, _ in rows], root, sizes, levels, done, normalise, read
    )
