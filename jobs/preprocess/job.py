"""Preprocessing on Spark: photographs -> Parquet of flattened uint8 pixels, one dir per size.

Each task decodes its images once and writes every size straight to Parquet with pyarrow
(the pixel bytes never cross into the JVM: measured below as the difference between
~95 and ~130 images/s on 2 cores). An image that fails becomes a quarantine row and the
batch goes on. Files are written under a temporary directory and each size is moved into
place whole, so a re-run skips finished sizes and never mixes old and new rows; a retried
task overwrites its own file (named by partition), never adds a second one, and a failed
attempt removes its half-written one (a killed one's is swept before a size is published).

The photographs come from a directory (local or HDFS) or, one hop, straight from an object
store (swift://, s3://): listed here, fetched by the tasks (jobs.preprocess.sources).
"""

import csv
import hashlib
import io
import json
import threading
import time
import uuid
from collections.abc import Callable

from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from jobs.dataset import fs, layout
from jobs.dataset.fs import PathLike
from jobs.preprocess import sources
from jobs.preprocess.config import PreprocessConfig
from jobs.preprocess.task import preprocess_labelled, quarantine_csv_bytes

IMAGES_PER_TASK = 256  # ~4 s a task here: between two tasks a core idles ~50 ms (measured)
# On HDFS a task's files cost one close, ~0.5 s with one DataNode (`TaskFiles.close`):
# ~30 s tasks keep that near 2 %, and a job of fewer images than the cores' share runs in
# one wave (1,000 images on 2 cores: 2 tasks, 10.6 s, against 4 tasks, 11.3 s; on local
# disk both 9.2 s).
IMAGES_PER_HDFS_TASK = 2048


def default_partitions(spark: SparkSession, n_images: int, output: PathLike) -> int:
    """Enough tasks to keep every core busy and to balance uneven images, not thousands:
    whole waves, so that no core is left with a tail; at least two on local disk (balance
    costs nothing there), one on HDFS (each task end costs a close)."""
    cores = spark.sparkContext.defaultParallelism
    per_task, least = (IMAGES_PER_HDFS_TASK, 1) if fs.is_remote(output) else (IMAGES_PER_TASK, 2)
    waves = max(least, -(-n_images // (per_task * cores)))
    return max(1, min(n_images, waves * cores))


class Progress:
    """Prints images done / total and the rate every few seconds while a job runs."""

    def __init__(self, counter, total: int, say: Callable[[str], None], every: float = 5.0,
                 label: str = "preprocess"):  # fmt: skip
        self.counter, self.total, self.say, self.every = counter, total, say, every
        self.label = label
        self.stop = threading.Event()
        self.start = time.perf_counter()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self.stop.wait(self.every):
            self.say(self.line())

    def line(self) -> str:
        done, secs = self.counter.value, time.perf_counter() - self.start
        return f"{self.label}: {done}/{self.total} images, {done / max(secs, 1e-9):.1f} images/s"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join()


def sizes_to_do(output: PathLike, sizes: tuple[int, ...]) -> tuple[int, ...]:
    """Sizes not yet complete. Without its quarantine table an output is not whole (cut
    off before the table was moved into place, or written by an older layout): redo every
    size."""
    if not fs.exists(layout.quarantine_dir(output)):
        return tuple(sizes)
    return tuple(s for s in sizes if not fs.exists(layout.size_complete(output, s)))


def source_digest(images: dict) -> str:
    """What an output was made from, in one value: the photographs' names."""
    return hashlib.sha256("\n".join(sorted(images)).encode()).hexdigest()[:16]


def drop_if_stale(output: PathLike, digest: str, normalise: str, say) -> None:
    """An output made from other photographs or another normalisation is derived data of
    something else: its sizes are removed, so that none of them is kept and mixed with
    the new ones (a re-run with the same inputs keeps every finished size)."""
    if not fs.exists(layout.summary(output)):
        return
    before = json.loads(fs.read_text(layout.summary(output)) or "{}")
    why = []
    if before.get("source_digest", digest) != digest:
        why.append("other photographs")
    if before.get("normalise", "none") != normalise:
        why.append(f"--normalise {before.get('normalise', 'none')}")
    if not why:
        return
    say(f"preprocess: {output} was made from {' and '.join(why)}: redoing every size")
    for old in fs.glob(layout.size_dir(output, "*")):
        fs.rmtree(old)
    fs.rmtree(layout.quarantine_dir(output))  # without it every size is redone


def read_quarantine(output: PathLike) -> list[dict]:
    """The quarantine table: every task's part (an older output's one quarantine.csv too),
    sorted by image."""
    return _read_parts(fs.glob(fs.join(layout.quarantine_dir(output), "*.csv")))


def _read_parts(parts: list[PathLike]) -> list[dict]:
    rows = []
    for part in parts:
        rows += csv.DictReader(io.StringIO(fs.read_text(part)))
    return sorted(rows, key=lambda row: row["image"])


def publish_quarantine(table: PathLike, bad: list[dict]) -> None:
    """The tasks' parts, checked against the rows Spark counted (one successful attempt a
    task): a part left by an attempt Spark did not count (a lost executor's, one that read
    a photograph the counted attempt could not) is replaced by the counted rows."""
    fs.makedirs(table)
    layout.drop_attempt_scratch(table)
    parts = fs.glob(fs.join(table, "*.csv"))
    if [row["image"] for row in _read_parts(parts)] != [b["image"] for b in bad]:
        for part in parts:
            fs.remove(part)
        fs.write_bytes(layout.quarantine_part(fs.parent(table), 0), quarantine_csv_bytes(bad))


def write_seed_csv(spark: SparkSession, output: PathLike, size: int) -> None:
    """The 2015 text format: level first, then every pixel value, comma-separated."""
    df = spark.read.parquet(str(layout.size_dir(output, size))).where(F.col("level").isNotNull())
    lines = df.rdd.map(lambda r: ",".join([str(r.level), *map(str, r.pixels)]))
    target = layout.seed_csv_dir(output, size)
    tmp = fs.join(fs.parent(target), f"{layout.scratch_prefix()}{fs.name(target)}")
    fs.rmtree(tmp)
    lines.saveAsTextFile(str(tmp))
    fs.replace(tmp, target)


def run(spark: SparkSession, cfg: PreprocessConfig, say: Callable[[str], None] = print) -> dict:
    """Preprocess every image of `cfg.input` into `cfg.output`; returns the summary it writes
    and, under "quarantine", the quarantine table's rows (so no caller reads them back)."""
    cfg = cfg.resolved()  # executors run elsewhere: absolute paths only
    output, sizes = fs.join(cfg.output), cfg.sizes
    fs.makedirs(output)
    for stale in fs.glob(fs.join(output, f"{layout.scratch_prefix()}*")):  # a killed run's
        fs.rmtree(stale)  # half-written pass
    source = sources.Source.of(cfg.input)  # a store's credentials, from this process only
    images = sources.list_photographs(cfg.input)
    digest = source_digest(images)
    drop_if_stale(output, digest, cfg.normalise, say)
    todo = sizes_to_do(output, sizes)
    start = time.perf_counter()
    started = time.time()
    if todo:
        sc = spark.sparkContext
        n_parts = cfg.partitions or default_partitions(spark, len(images), output)
        done = sc.accumulator(0)
        levels = sources.read_labels(cfg.labels) if cfg.labels else {}
        # each path (or listed object) travels with its grade: a broadcast of the labels
        # cost 0.2 s a job
        rows = [(item, levels.get(stem)) for stem, item in images.items()]
        tmp = fs.join(output, f"{layout.scratch_prefix()}{uuid.uuid4().hex}")
        root, normalise = str(tmp), cfg.normalise
        tasks = sc.parallelize(rows, n_parts).mapPartitionsWithIndex(
            lambda part, rows: preprocess_labelled(
                part, rows, root, todo, done, normalise, source
            )  # fmt: skip
        )
        hop = f", fetched from {cfg.input} one hop" if source.one_hop else ""
        say(f"preprocess: {len(images)} images -> sizes {list(todo)} in {n_parts} tasks{hop}")
        with Progress(done, len(images), say) as progress:
            bad = sorted(tasks.collect(), key=lambda b: b["image"])
            say(progress.line())
        for size in todo:
            written = layout.size_dir(tmp, size)
            fs.makedirs(written)
            layout.drop_attempt_scratch(written)
            fs.write_text(layout.size_complete(tmp, size), "")  # empty: no block to wait on
            fs.replace(written, layout.size_dir(output, size))
        publish_quarantine(layout.quarantine_dir(tmp), bad)
        fs.replace(layout.quarantine_dir(tmp), layout.quarantine_dir(output))  # last: whole
        fs.rmtree(tmp)
    elapsed = time.perf_counter() - start
    if cfg.seed_csv:
        for size in sizes:
            write_seed_csv(spark, output, size)
    if not todo:  # else the rows Spark counted, which the published table holds
        bad = read_quarantine(output)
    reasons = sorted({b["reason"] for b in bad})
    summary = {
        "images": len(images),
        "quarantined": len(bad),
        "quarantine_reasons": {r: sum(b["reason"] == r for b in bad) for r in reasons},
        "sizes": list(sizes),
        "sizes_written": list(todo),
        "normalise": cfg.normalise,
        "source_digest": digest,
        "started": started,  # Unix time, to line the job up with other records
        "seconds": elapsed,
        "images_per_s": len(images) / elapsed if todo and elapsed > 0 else None,
    }
    fs.write_text(layout.summary(output), json.dumps(summary, indent=2) + "\n")
    return {**summary, "quarantine": bad}
