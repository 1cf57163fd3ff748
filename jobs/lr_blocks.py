"""Multinomial logistic regression on Spark over uint8 pixel blocks (the fast solver).

Why not only pyspark.ml: its features are float64 vectors, 8x the uint8 pixels (13.8 GB
at 128 px for 35,126 images), which does not fit in this machine's executors, so every
L-BFGS iteration re-reads spilled blocks. Here each Spark task owns a block of rows kept
as a uint8 .npy file (memory-mapped, so the page cache holds it across iterations),
computes the gradient with lr_math, and the driver runs scipy's L-BFGS on the sums.
"""

import hashlib
import json
import os
import resource
import time
from pathlib import Path

import numpy as np
from pyspark.sql import SparkSession
from pyspark.sql import functions as F
from scipy.optimize import minimize

from jobs import lr_math
from jobs.errors import DrcError

SPLIT_BUCKETS = 1000


def validation_column(fraction: float, seed: int):
    """Subject-level split as a Spark SQL expression: both eyes on the same side, and the
    same rows in PySpark, the Scala job and the numpy baseline (Murmur3 of subject, seed)."""
    return F.expr(f"pmod(hash(subject, {int(seed)}), {SPLIT_BUCKETS})") < int(
        round(fraction * SPLIT_BUCKETS)
    )


def limit_reader_batch(spark: SparkSession, size: int) -> None:
    """Parquet's vectorised reader holds 4,096 rows a batch by default: 800 MB of pixels at
    256 px, which ran the executor out of heap. Keep a batch near 32 MB instead."""
    rows = max(16, (32 << 20) // (size * size * 3))
    spark.conf.set("spark.sql.parquet.columnarReaderBatchSize", str(rows))


def _write_block(part: int, rows, root: str) -> list[dict]:
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


def prepare_blocks(
    spark: SparkSession, data: Path, size: int, fraction: float, seed: int
) -> list[dict]:
    """The uint8 blocks for DATA/size=N with this split, built once and reused."""
    source = data.resolve() / f"size={size}"
    files = sorted((p.name, p.stat().st_size) for p in source.glob("*.parquet"))
    key = hashlib.sha256(json.dumps([files, fraction, seed]).encode()).hexdigest()[:16]
    root = data.resolve() / "_blocks" / f"size={size}" / key
    manifest = root / "manifest.json"
    if manifest.exists():
        return json.loads(manifest.read_text())
    root.mkdir(parents=True, exist_ok=True)
    limit_reader_batch(spark, size)
    df = (
        spark.read.parquet(str(source))
        .where(F.col("level").isNotNull())
        .withColumn("validation", validation_column(fraction, seed))
        .select("image", "level", "validation", "pixels")
    )
    root_s = str(root)
    blocks = df.rdd.mapPartitionsWithIndex(lambda i, rows: _write_block(i, rows, root_s)).collect()
    tmp = root / "manifest.json.partial"
    tmp.write_text(json.dumps(blocks))
    os.replace(tmp, manifest)
    return blocks


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _load(block: dict) -> tuple[np.ndarray, np.ndarray]:
    return np.load(block["x"], mmap_mode="r"), np.load(block["meta"])["level"]


def _sums_task(block: dict):
    x, _ = _load(block)
    s, sq, n = lr_math.feature_sums(x)
    return s, sq, n


def _gradient_task(block: dict, params, kernel: str) -> tuple:
    w_raw, b_raw, cw = params
    x, y = _load(block)
    loss, gx, gs = lr_math.KERNELS[kernel](x, y, cw[y], w_raw, b_raw)
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


def training_blocks(blocks: list[dict]) -> list[dict]:
    train = [b for b in blocks if not b["validation"]]
    if not train:
        raise DrcError("train-lr", "no labelled images on the training side of the split")
    return train


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


class Trainer:
    """L-BFGS on the driver; the loss and gradient from one Spark job per evaluation.

    `gradient_sums` is the only thing that differs between Spark and the numpy baseline.
    """

    def __init__(self, train_blocks: list[dict], d: int, reg: float, balance: bool,
                 standardize: bool, gradient_sums, feature_sums) -> None:  # fmt: skip
        self.blocks, self.d, self.reg = train_blocks, d, reg
        self.gradient_sums = gradient_sums
        levels = np.concatenate([np.load(b["meta"])["level"] for b in train_blocks])
        self.class_weight = lr_math.class_weights(levels) if balance else np.ones(5)
        self.stats = (
            lr_math.stats_from_sums(*feature_sums()) if standardize
            else lr_math.Stats.identity(d)
        )  # fmt: skip
        self.iterations: list[float] = []
        self.worker_peak_mb = 0.0

    def _split(self, theta):
        k = lr_math.N_CLASSES
        return theta[: self.d * k].reshape(self.d, k), theta[self.d * k :]

    def value_and_grad(self, theta):
        start = time.perf_counter()
        w, b = self._split(theta)
        w_raw, b_raw = lr_math.raw_weights(w, b, self.stats)
        loss, gx, gs, n_w, peak = self.gradient_sums((w_raw, b_raw, self.class_weight))
        self.worker_peak_mb = max(self.worker_peak_mb, peak)
        value, gw, gb = lr_math.objective(loss, gx, gs, n_w, w, self.stats, self.reg)
        self.iterations.append(time.perf_counter() - start)
        return value, np.concatenate([gw.ravel(), gb])

    def fit(self, max_iter: int, tol: float = 1e-6) -> tuple[np.ndarray, np.ndarray]:
        theta0 = np.zeros(self.d * lr_math.N_CLASSES + lr_math.N_CLASSES)
        result = minimize(self.value_and_grad, theta0, jac=True, method="L-BFGS-B",
                          options={"maxiter": max_iter, "ftol": tol})  # fmt: skip
        self.result = result
        return lr_math.raw_weights(*self._split(result.x), self.stats)


def spark_trainer(spark: SparkSession, blocks: list[dict], d: int, kernel: str = "fused",
                  **options) -> Trainer:  # fmt: skip
    """One Spark task per core, each summing its share of the blocks, and a plain reduce
    on the driver: an evaluation is then one stage of as many tasks as cores. (A task and
    a 2 MB gradient per block, tree-reduced, cost ~1 s an evaluation in Spark overhead.)"""
    sc = spark.sparkContext
    train = training_blocks(blocks)
    groups = balanced_groups(train, sc.defaultParallelism)
    rdd = sc.parallelize(groups, len(groups))

    def feature_sums():
        return rdd.map(lambda group: _group_sum(_sums_task, group, _add_sums)).reduce(_add_sums)

    def gradient_sums(params):
        bc = sc.broadcast(params)
        try:
            return rdd.map(
                lambda group: _group_sum(lambda b: _gradient_task(b, bc.value, kernel), group)
            ).reduce(_add)
        finally:
            bc.destroy()

    return Trainer(train, d, gradient_sums=gradient_sums, feature_sums=feature_sums, **options)


def numpy_trainer(blocks: list[dict], d: int, kernel: str = "fused", **options) -> Trainer:
    """The same model on one machine, no Spark: the baseline the Spark run is compared to."""
    train = training_blocks(blocks)

    def feature_sums():
        return _group_sum(_sums_task, train, _add_sums)

    def gradient_sums(params):
        return _group_sum(lambda b: _gradient_task(b, params, kernel), train)

    return Trainer(train, d, gradient_sums=gradient_sums, feature_sums=feature_sums, **options)


def predict_blocks(blocks: list[dict], w_raw, b_raw) -> tuple[list[str], np.ndarray, np.ndarray]:
    images, truth, pred = [], [], []
    for b in blocks:
        meta = np.load(b["meta"])
        images += meta["image"].tolist()
        truth.append(meta["level"])
        x = np.load(b["x"], mmap_mode="r")
        pred.append(lr_math.predict(x, w_raw, b_raw))
    if not truth:
        return [], np.zeros(0, np.int64), np.zeros(0, np.int64)
    return images, np.concatenate(truth), np.concatenate(pred)
