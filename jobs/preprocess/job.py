"""Preprocessing on Spark: photographs -> Parquet of flattened uint8 pixels, one dir per size.

Each task decodes its images once and writes every size straight to Parquet with pyarrow
(the pixel bytes never cross into the JVM: measured below as the difference between
~95 and ~130 images/s on 2 cores). An image that fails becomes a quarantine row and the
batch goes on. Files are written under a temporary directory and each size is moved into
place whole, so a re-run skips finished sizes and never mixes old and new rows; a retried
task overwrites its own file (named by partition), never adds a second one.
"""

import csv
import json
import shutil
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from jobs.dataset import layout
from jobs.dataset.labels import list_images, read_labels
from jobs.preprocess.config import PreprocessConfig
from jobs.preprocess.task import preprocess_labelled


def default_partitions(spark: SparkSession, n_images: int) -> int:
    """Enough tasks to keep every core busy and to balance uneven images, not thousands."""
    cores = spark.sparkContext.defaultParallelism
    # ~256 images a task (3.5 s here): between two tasks a core idles ~50 ms (measured);
    # whole waves, so that no core is left with a tail
    waves = max(2, -(-n_images // (256 * cores)))
    return max(1, min(n_images, waves * cores))


class Progress:
    """Prints images done / total and the rate every few seconds while a job runs."""

    def __init__(self, counter, total: int, say: Callable[[str], None], every: float = 5.0):
        self.counter, self.total, self.say, self.every = counter, total, say, every
        self.stop = threading.Event()
        self.start = time.perf_counter()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self.stop.wait(self.every):
            self.say(self.line())

    def line(self) -> str:
        done, secs = self.counter.value, time.perf_counter() - self.start
        return f"preprocess: {done}/{self.total} images, {done / max(secs, 1e-9):.1f} images/s"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join()


def sizes_to_do(output: Path, sizes: tuple[int, ...]) -> tuple[int, ...]:
    """Sizes not yet complete. Without its quarantine table an output is not whole (cut
    off before the table was written, or written by an older layout): redo every size."""
    if not layout.quarantine_csv(output).is_file():
        return tuple(sizes)
    return tuple(s for s in sizes if not layout.size_complete(output, s).exists())


def write_quarantine(bad: list[dict], output: Path) -> None:
    target = layout.quarantine_dir(output)
    tmp = output / f"{layout.scratch_prefix()}{uuid.uuid4().hex}"
    tmp.mkdir()
    with (tmp / layout.quarantine_csv(output).name).open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=layout.QUARANTINE_FIELDS)
        writer.writeheader()
        writer.writerows(bad)
    shutil.rmtree(target, ignore_errors=True)
    tmp.rename(target)


def read_quarantine(output: Path) -> list[dict]:
    with layout.quarantine_csv(output).open(newline="") as handle:
        return list(csv.DictReader(handle))


def write_seed_csv(spark: SparkSession, output: Path, size: int) -> None:
    """The 2015 text format: level first, then every pixel value, comma-separated."""
    df = spark.read.parquet(str(layout.size_dir(output, size))).where(F.col("level").isNotNull())
    lines = df.rdd.map(lambda r: ",".join([str(r.level), *map(str, r.pixels)]))
    target = layout.seed_csv_dir(output, size)
    tmp = target.with_name(f"{layout.scratch_prefix()}{target.name}")
    shutil.rmtree(tmp, ignore_errors=True)
    lines.saveAsTextFile(str(tmp))
    shutil.rmtree(target, ignore_errors=True)
    tmp.rename(target)


def run(spark: SparkSession, cfg: PreprocessConfig, say: Callable[[str], None] = print) -> dict:
    """Preprocess every image of `cfg.input` into `cfg.output`; returns the summary it writes."""
    cfg = cfg.resolved()  # executors run elsewhere: absolute paths only
    output, sizes = Path(cfg.output), cfg.sizes
    output.mkdir(parents=True, exist_ok=True)
    for stale in output.glob(f"{layout.scratch_prefix()}*"):  # a killed run's half-written pass
        shutil.rmtree(stale)
    images = list_images(Path(cfg.input))
    todo = sizes_to_do(output, sizes)
    start = time.perf_counter()
    started = time.time()
    if todo:
        sc = spark.sparkContext
        n_parts = cfg.partitions or default_partitions(spark, len(images))
        done = sc.accumulator(0)
        levels = read_labels(Path(cfg.labels)) if cfg.labels else {}
        # each path travels with its grade: a broadcast of the labels cost 0.2 s a job
        rows = [(str(path), levels.get(stem)) for stem, path in images.items()]
        tmp = output / f"{layout.scratch_prefix()}{uuid.uuid4().hex}"
        root = str(tmp)
        tasks = sc.parallelize(rows, n_parts).mapPartitionsWithIndex(
            lambda part, rows: preprocess_labelled(part, rows, root, todo, done)
        )
        say(f"preprocess: {len(images)} images -> sizes {list(todo)} in {n_parts} tasks")
        with Progress(done, len(images), say) as progress:
            bad = sorted(tasks.collect(), key=lambda b: b["image"])
            say(progress.line())
        for size in todo:
            target, written = layout.size_dir(output, size), layout.size_dir(tmp, size)
            written.mkdir(parents=True, exist_ok=True)
            layout.size_complete(tmp, size).touch()
            shutil.rmtree(target, ignore_errors=True)
            written.rename(target)
        write_quarantine(bad, output)
        shutil.rmtree(tmp)
    elapsed = time.perf_counter() - start
    if cfg.seed_csv:
        for size in sizes:
            write_seed_csv(spark, output, size)
    bad = read_quarantine(output)
    reasons = sorted({b["reason"] for b in bad})
    summary = {
        "images": len(images),
        "quarantined": len(bad),
        "quarantine_reasons": {r: sum(b["reason"] == r for b in bad) for r in reasons},
        "sizes": list(sizes),
        "sizes_written": list(todo),
        "started": started,  # Unix time, to line the job up with other records
        "seconds": elapsed,
        "images_per_s": len(images) / elapsed if todo and elapsed > 0 else None,
    }
    layout.summary(output).write_text(json.dumps(summary, indent=2) + "\n")
    return summary
