"""The uint8 pixel blocks the fast LR solver trains on, and their sums (no pyspark import:
the Spark calls go through the session they are given).

Why blocks and not only pyspark.ml: its features are float64 vectors, 8x the uint8 pixels
(13.8 GB at 128 px for 35,126 images), which does not fit in this machine's executors, so
every L-BFGS iteration re-reads spilled blocks. Here each block of rows is kept as a uint8
.npy file (memory-mapped, so the page cache holds it across iterations) and a loss/gradient
evaluation is one sum over the blocks, in Spark (`SparkSums`) or in this process (`LocalSums`).

Nodes share no disk: a block lives in the cache of the node that reads it (DRC_CACHE_DIR,
set per node by the spark role), built there from its Parquet file (local or hdfs://) the
first time a task on that node needs it, and built again wherever it is missing (a node
lost, a cache cleared). A block's descriptor carries its labels, so no other file is read.
"""

import hashlib
import json
import os
import resource
from pathlib import Path

import numpy as np

from jobs.dataset import fs, layout, split
from jobs.errors import DrcError
from jobs.lr import kernels

CACHE_ENV = "DRC_CACHE_DIR"
READ_BATCH_BYTES = 32 << 20  # pixels read per Parquet batch while a block is built


def limit_reader_batch(spark, size: int) -> None:
    """Parquet's vectorised reader holds 4,096 rows a batch by default: 800 MB of pixels at
    256 px, which ran the executor out of heap. Keep a batch near 32 MB instead."""
    rows = max(16, (32 << 20) // (size * size * 3))
    spark.conf.set("spark.sql.parquet.columnarReaderBatchSize", str(rows))


def cache_root() -> Path:
    """This node's block cache (the driver's and each executor's own)."""
    base = os.environ.get(CACHE_ENV) or str(Path.home() / ".cache" / "drc")
    return Path(base) / "lr-blocks"


def block_path(block: dict) -> Path:
    return cache_root() / block["key"] / f"{block['name']}.npy"


def blocks_key(files: list[tuple[str, int]], size: int, fraction: float, seed: int,
               made: str = "") -> str:  # fmt: skip
    """Names a set of blocks: the Parquet files (full path, bytes), the size, the split and
    what the output says of how it was made (`made`: its markers' text). Names and bytes
    alone are not enough: two `drc features` runs write equal names of equal sizes."""
    text = json.dumps([[(str(f), n) for f, n in files], size, fraction, seed, made])
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def row_width(parquet) -> int:
    """Bytes a row: size x size x 3 for pixels; for `drc features` output, the features."""
    if not parquet.metadata.num_rows:
        return 0
    return len(parquet.read_row_group(0, columns=["pixels"]).column(0)[0].as_py())


def build_blocks(source: str, part: int, key: str, size: int, fraction: float,
                 seed: int) -> list[dict]:  # fmt: skip
    """One Parquet file -> its training and validation blocks in this node's cache, and
    their descriptors. Pixels are read a batch at a time into the memory-mapped block."""
    import pyarrow.parquet as pq

    with fs.open_read(source) as handle:
        parquet = pq.ParquetFile(handle)
        width = row_width(parquet)
        meta = parquet.read(columns=["image", "level", "subject"]).to_pydict()
        labelled = [lv is not None for lv in meta["level"]]
        held_out = {s: split.is_validation(s, fraction, seed) for s in set(meta["subject"])}
        side = [held_out[s] for s in meta["subject"]]
        out, arrays = [], {}
        root = cache_root() / key
        root.mkdir(parents=True, exist_ok=True)
        for validation in (False, True):
            rows = [i for i, ok in enumerate(labelled) if ok and side[i] == validation]
            if not rows:
                continue
            block = {"key": key, "name": f"block-{part:05d}-{'val' if validation else 'train'}",
                     "source": source, "part": part, "size": size, "fraction": fraction,
                     "seed": seed, "validation": validation, "n": len(rows), "width": width,
                     "level": [int(meta["level"][i]) for i in rows],
                     "image": [meta["image"][i] for i in rows]}  # fmt: skip
            partial = block_path(block).with_name(f".{block['name']}.{os.getpid()}.npy")
            x = np.lib.format.open_memmap(partial, mode="w+", dtype=np.uint8,
                                          shape=(len(rows), width))  # fmt: skip
            arrays[validation] = (x, {r: j for j, r in enumerate(rows)}, partial, block)
            out.append(block)
        batch_rows = max(16, READ_BATCH_BYTES // width)
        first = 0
        for batch in parquet.iter_batches(batch_size=batch_rows, columns=["pixels"]):
            for i, pixels in enumerate(batch.column(0).to_pylist(), start=first):
                if labelled[i] and len(pixels) != width:
                    raise DrcError(source, f"{meta['image'][i]} has {len(pixels)} values, "
                                           f"the file's first row {width}")  # fmt: skip
                if labelled[i]:
                    x, where, _, _ = arrays[side[i]]
                    x[where[i]] = np.frombuffer(pixels, dtype=np.uint8)
            first += batch.num_rows
    for x, _, partial, block in arrays.values():
        x.flush()
        del x
        os.replace(partial, block_path(block))  # whole or absent: a reader never sees half
    return out


def prepare_blocks(spark, data: fs.PathLike, size: int, fraction: float, seed: int) -> list[dict]:
    """The blocks of DATA/size=N with this split: built on the executors, one Spark task per
    Parquet file, once (the driver keeps their descriptors); executors missing one later
    build it again from its Parquet file."""
    source = layout.size_dir(data, size)
    files = [(str(f), n) for f, n, is_dir in fs.listdir(source)
             if not is_dir and fs.name(f).endswith(".parquet")]  # fmt: skip
    if not files:
        raise DrcError(source, "no Parquet for this size: run `drc preprocess` with it first")
    key = blocks_key(files, size, fraction, seed, layout.run_record(data, size))
    manifest = cache_root() / key / "manifest.json"
    if manifest.exists():
        return json.loads(manifest.read_text())
    jobs = [(f, i) for i, (f, _) in enumerate(files)]
    blocks = (
        spark.sparkContext.parallelize(jobs, len(jobs))
        .flatMap(lambda job: build_blocks(job[0], job[1], key, size, fraction, seed))
        .collect()
    )
    manifest.parent.mkdir(parents=True, exist_ok=True)
    tmp = manifest.with_name(f".manifest.{os.getpid()}.json")
    tmp.write_text(json.dumps(blocks))
    os.replace(tmp, manifest)
    return blocks


def training_blocks(blocks: list[dict]) -> list[dict]:
    train = [b for b in blocks if not b["validation"]]
    if not train:
        raise DrcError("train-lr", "no labelled images on the training side of the split")
    return train


def pixels(block: dict) -> np.ndarray:
    """The block's rows, memory-mapped from this node's cache (built first if missing)."""
    path = block_path(block)
    if not path.exists():
        build_blocks(block["source"], block["part"], block["key"], block["size"],
                     block["fraction"], block["seed"])  # fmt: skip
    return np.load(path, mmap_mode="r")


def load(block: dict) -> tuple[np.ndarray, np.ndarray]:
    return pixels(block), np.asarray(block["level"], dtype=np.int64)


def levels(blocks: list[dict]) -> np.ndarray:
    return np.concatenate([np.asarray(b["level"], dtype=np.int64) for b in blocks])


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
        # every evaluation ships the groups with its tasks: without the image names
        light = [{k: v for k, v in b.items() if k != "image"} for b in train]
        groups = balanced_groups(light, self.sc.defaultParallelism)
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

    flat = np.asarray(pixels(block)).reshape(-1)
    usable = flat[: len(flat) // 8 * 8]
    start = time.perf_counter()
    usable.view(np.uint64).sum()
    return usable.nbytes / (time.perf_counter() - start) / 1e9
