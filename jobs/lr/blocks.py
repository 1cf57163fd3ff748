"""The uint8 pixel blocks the fast LR solver trains on, and their sums (no pyspark import:
the Spark calls go through the session they are given).

Why blocks and not only pyspark.ml: its features are float64 vectors, 8x the uint8 pixels
(13.8 GB at 128 px for 35,126 images), which does not fit in this machine's executors, so
every L-BFGS iteration re-reads spilled blocks. Here each block of rows is kept as a uint8
.npy file (memory-mapped, so the page cache holds it across iterations) and a loss/gradient
evaluation is one sum over the blocks, in Spark (`SparkSums`) or in this process (`LocalSums`).
"""

import hashlib
import json
import os
import resource
from pathlib import Path

import numpy as np

from jobs.dataset import layout, split
from jobs.errors import DrcError
from jobs.lr import kernels


def limit_reader_batch(spark, size: int) -> None:
    """Parquet's vectorised reader holds 4,096 rows a batch by default: 800 MB of pixels at
    256 px, which ran the executor out of heap. Keep a batch near 32 MB instead."""
    rows = max(16, (32 << 20) // (size * size * 3))
    spark.conf.set("spark.sql.parquet.columnarReaderBatchSize", str(rows))


def write_block(part: int, rows, root: str) -> list[dict]:
    """Spark task: one partition of the Parquet -> train and validation uint8 blocks."""
    out = []
    data = {True: ([], [], []), False: ([], [], [])}
    for r in rows:
        pixels, levels, images = data[bool(r.validation)]
        pixels.append(np.frombuffer(r.pixels, dtype=np.uint8))
        levels.append(r.level)
        images.append(r.image)
    for validation, (pixels, levels, images) in data.items():
        if not pixels:
            continue
        name = f"block-{part:05d}-{'val' if validation else 'train'}"
        x_path = Path(root) / f"{name}.npy"
        np.save(f"{x_path}.partial.npy", np.stack(pixels))
        np.savez(Path(root) / f"{name}-meta.npz", level=np.array(levels, np.int64),
                 image=np.array(images))  # fmt: skip
        os.replace(f"{x_path}.partial.npy", x_path)
        out.append({"x": str(x_path), "meta": str(Path(root) / f"{name}-meta.npz"),
                    "n": len(levels), "validation": validation})  # fmt: skip
    return out


def prepare_blocks(spark, data: Path, size: int, fraction: float, seed: int) -> list[dict]:
    """The uint8 blocks for DATA/size=N with this split, built once and reused."""
    data = data.resolve()
    source = layout.size_dir(data, size)
    files = sorted((p.name, p.stat().st_size) for p in source.glob("*.parquet"))
    key = hashlib.sha256(json.dumps([files, fraction, seed]).encode()).hexdigest()[:16]
    root = layout.blocks_dir(data, size, key)
    manifest = root / "manifest.json"
    if manifest.exists():
        return json.loads(manifest.read_text())
    root.mkdir(parents=True, exist_ok=True)
    limit_reader_batch(spark, size)
    df = (
        spark.read.parquet(str(source))
        .where("level IS NOT NULL")
        .selectExpr(
            "image", "level", f"{split.sql_condition(fraction, seed)} AS validation", "pixels"
        )  # fmt: skip
    )
    root_s = str(root)
    blocks = df.rdd.mapPartitionsWithIndex(lambda i, rows: write_block(i, rows, root_s)).collect()
    tmp = root / "manifest.json.partial"
    tmp.write_text(json.dumps(blocks))
    os.replace(tmp, manifest)
    return blocks


def training_blocks(blocks: list[dict]) -> list[dict]:
    train = [b for b in blocks if not b["validation"]]
    if not train:
        raise DrcError("train-lr", "no labelled images on the training side of the split")
    return train


def load(block: dict) -> tuple[np.ndarray, np.ndarray]:
    return np.load(block["x"], mmap_mode="r"), np.load(block["meta"])["level"]


def levels(blocks: list[dict]) -> np.ndarray:
    return np.concatenate([np.load(b["meta"])["level"] for b in blocks])


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _sums_task(block: dict):
    x, _ = load(block)
    return kernels.feature_sums(x)


def _gradient_task(block: dict, params, kernel: str) -> tuple:
    w_raw, b_raw, cw = params
    x, y = load(block)
    loss, gx, gs = kernels.KERNELS[kernel](x, y, cw[y], w_raw, b_raw)
    return loss, gx, gs, float(cw[y].sum()), _peak_rss_mb()


def _add(a: tuple, b: tuple) -> tuple:
    return (a[0] + b[0], a[1] + b[1], a[2] + b[2], a[3] + b[3], max(a[4], b[4]))


def _add_sums(a: tuple, b: tuple) -> tuple:
    return a[0] + b[0], a[1] + b[1], a[2] + b[2]


def _group_sum(task, blocks: list[dict], add=_add) -> tuple:
    """One task's blocks, summed where they are computed."""
    out = task(blocks[0])
    for block in blocks[1:]:
        out = add(out, task(block))
    return out


def balanced_groups(blocks: list[dict], groups: int) -> list[list[dict]]:
    """Blocks dealt into `groups` lists of near-equal rows (largest first, to the
    lightest group), so every core finishes an evaluation at the same time."""
    out: list[list[dict]] = [[] for _ in range(min(groups, len(blocks)))]
    rows = [0] * len(out)
    for block in sorted(blocks, key=lambda b: -b["n"]):
        lightest = rows.index(min(rows))
        out[lightest].append(block)
        rows[lightest] += block["n"]
    return out


class LocalSums:
    """The sums in this process, no Spark: the baseline a Spark run is compared with."""

    def __init__(self, train: list[dict], kernel: str) -> None:
        self.train, self.kernel = train, kernel

    def feature_sums(self) -> tuple:
        return _group_sum(_sums_task, self.train, _add_sums)

    def gradient_sums(self, params) -> tuple:
        return _group_sum(lambda b: _gradient_task(b, params, self.kernel), self.train)


class SparkSums:
    """One Spark task per core, each summing its share of the blocks, and a plain reduce
    on the driver: an evaluation is then one stage of as many tasks as cores. (A task and
    a 2 MB gradient per block, tree-reduced, cost ~1 s an evaluation in Spark overhead.)"""

    def __init__(self, spark, train: list[dict], kernel: str) -> None:
        self.sc, self.kernel = spark.sparkContext, kernel
        groups = balanced_groups(train, self.sc.defaultParallelism)
        self.rdd = self.sc.parallelize(groups, len(groups))

    def feature_sums(self) -> tuple:
        return self.rdd.map(lambda group: _group_sum(_sums_task, group, _add_sums)).reduce(
            _add_sums
        )

    def gradient_sums(self, params) -> tuple:
        bc, kernel = self.sc.broadcast(params), self.kernel
        try:
            return self.rdd.map(
                lambda group: _group_sum(lambda b: _gradient_task(b, bc.value, kernel), group)
            ).reduce(_add)
        finally:
            bc.destroy()


def read_bandwidth_gbs(block: dict) -> float:
    """Single-core read speed of one memory-mapped block: a rate, so one block tells it
    (reading every block again would add a whole iteration's I/O to each run)."""
    import time

    flat = np.asarray(np.load(block["x"], mmap_mode="r")).reshape(-1)
    usable = flat[: len(flat) // 8 * 8]
    start = time.perf_counter()
    usable.view(np.uint64).sum()
    return usable.nbytes / (time.perf_counter() - start) / 1e9
