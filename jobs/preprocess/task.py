"""The body of one preprocessing Spark task: images in, Parquet per size out, quarantine
rows back. Runs in the executors' Python workers and needs no Spark (the tests and the CNN
fixtures call it directly); the driver's side of the job is `jobs.preprocess.job`. The
photographs are files (paths) or, on the one-hop path, objects fetched from a store
(`jobs.preprocess.sources`): `read` turns one into its bytes."""

import contextlib
import csv
import io
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pyarrow.parquet as pq

from jobs.dataset import fs
from jobs.dataset.labels import parse_image_name
from jobs.dataset.layout import QUARANTINE_FIELDS, attempt_scratch, quarantine_part, size_part
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


class TaskFiles:
    """A task's files: one Parquet file per size and, when it quarantined any image, its
    part of the quarantine table; each written under a temporary name and renamed into
    place when complete, so a retried task overwrites its own files, never adds a second
    one. On HDFS every file's close waits for the NameNode (~0.5 s with one DataNode: see
    `close`), so the task's files are closed together, once; the driver writes no file
    with content before the output is whole (its size markers are empty: no block, no
    wait)."""

    def __init__(self, root: fs.PathLike, sizes: tuple[int, ...], part: int):
        self.final = {s: size_part(root, s, part) for s in sizes}
        self.table = quarantine_part(root, part)
        self.writers: dict[int, pq.ParquetWriter] = {}
        self.handles: list = []
        self.scratch: dict[fs.PathLike, str] = {}  # final: this attempt's file for it

    def _sink(self, final: fs.PathLike):
        """Where `final`'s content goes first: a local path (pyarrow writes it natively) or
        an open HDFS file, closed in `close`."""
        fs.makedirs(fs.parent(final))
        scratch = self.scratch[final] = attempt_scratch(final)
        if not fs.is_remote(final):
            return scratch
        handle = fs.open_write(scratch)
        self.handles.append(handle)
        return handle

    def write(self, rows: list[tuple[dict, dict[int, np.ndarray]]]) -> None:
        labels = label_columns([ident for ident, _ in rows])
        for size, final in self.final.items():
            if size not in self.writers:
                sink = self._sink(final)
                self.writers[size] = pq.ParquetWriter(sink, PIXELS_SCHEMA, **PARQUET_OPTIONS)
            table = pixels_table(labels, [pixels[size] for _, pixels in rows])
            self.writers[size].write_table(table)

    def abort(self) -> None:
        """A failed attempt removes its half-written files: nothing partial is left for the
        driver to publish, and the retried attempt writes its own whole."""
        for closing in [*self.writers.values(), *self.handles]:
            with contextlib.suppress(Exception):  # already failing: the first error counts
                closing.close()
        for scratch in self.scratch.values():
            with contextlib.suppress(OSError):
                fs.remove(scratch)

    def close(self, quarantined: list[dict]) -> None:
        for writer in self.writers.values():
            writer.close()  # the footer; a ParquetWriter given a file does not close it
        if quarantined:
            sink, data = self._sink(self.table), quarantine_csv_bytes(quarantined)
            if isinstance(sink, str):
                fs.local(sink).write_bytes(data)
            else:
                sink.write(data)
        else:  # an earlier attempt's part, if it quarantined what this one could read
            fs.remove(self.table)
        # hdfs-native's close asks the NameNode to complete the file as soon as the pipeline
        # acknowledged its last packet; with one DataNode that usually beats the DataNode's
        # block report, and the client then sleeps 500 ms before asking again (measured;
        # with 2+ DataNodes the hadoop role's num-committed-allowed removes the wait).
        # Closed together, the task's files wait once.
        with ThreadPoolExecutor(max(1, len(self.handles))) as pool:
            list(pool.map(lambda handle: handle.close(), self.handles))
        for final, scratch in self.scratch.items():
            fs.replace(scratch, final)


def quarantine_csv_bytes(rows: list[dict]) -> bytes:
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=QUARANTINE_FIELDS, extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    return text.getvalue().encode()


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
    """Body of one Spark task: writes its Parquet files and its quarantine part, yields the
    quarantine rows (the driver's counts)."""
    files = TaskFiles(root, sizes, part)  # fs.join keeps a URL a URL, a path a Path
    good: list[tuple[dict, dict[int, np.ndarray]]] = []
    quarantined: list[dict] = []
    try:
        for ident, pixels in process_paths(paths, sizes, levels, normalise, read):
            if pixels is None:
                quarantined.append({k: ident[k] for k in QUARANTINE_FIELDS})
                yield quarantined[-1]
            else:
                good.append((ident, pixels))
            if len(good) == FLUSH_IMAGES:
                files.write(good)
                good = []
            if done is not None:
                done.add(1)
        if good:
            files.write(good)
        files.close(quarantined)
    except BaseException:  # a failed or abandoned attempt: Spark runs the task again
        files.abort()
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
