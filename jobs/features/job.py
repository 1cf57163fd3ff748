"""`drc features` on Spark: distributed inference of the pretrained backbone over a
preprocess output, one task per input Parquet file (each executor's Python worker loads
the backbone once). Files are written under a scratch directory and the size directory
is moved into place whole, as preprocess does: a re-run skips a finished output and a
killed run leaves nothing that looks finished."""

import json
import time
import uuid
from collections.abc import Callable

from pyspark.sql import SparkSession

from jobs.dataset import fs, layout
from jobs.errors import DrcError
from jobs.features.config import FeaturesConfig
from jobs.features.task import features_file
from jobs.preprocess.job import Progress


def run(spark: SparkSession, cfg: FeaturesConfig, say: Callable[[str], None] = print) -> dict:
    cfg = cfg.resolved()
    source = layout.size_dir(cfg.data, cfg.size)
    listed = sorted((str(f), n) for f, n, is_dir in fs.listdir(source) if not is_dir
                    and fs.name(f).endswith(".parquet")) if fs.exists(source) else []  # fmt: skip
    files = [f for f, _ in listed]
    if not files:
        raise DrcError(source, "no Parquet for this size: run `drc preprocess` with it first")
    out = fs.join(cfg.out)
    target = layout.size_dir(out, cfg.size)
    if _inside(str(target), str(source)) or _inside(str(source), str(target)):
        raise DrcError("--out", f"{target} would overwrite the input {source}: give another "
                                "directory")  # fmt: skip
    done_marker = layout.size_complete(out, cfg.size)
    # what decides the features (batch, threads and tasks only decide the speed), and the
    # input they were made from: its path, files and its own record of its run
    settings = {k: cfg.to_dict()[k] for k in ("size", "model", "pooling", "views", "precision")}
    made_from = {"data": str(source), "files": [list(entry) for entry in listed],
                 "input_record": layout.run_record(cfg.data, cfg.size)}  # fmt: skip
    if fs.exists(done_marker):
        before = json.loads(fs.read_text(done_marker) or "{}")
        if before.get("settings") == settings and before.get("made_from") == made_from:
            say(f"features: {target} is complete; nothing to do")
            return before
        say(f"features: {target} was made with other settings or from other input: "
            "redoing it")  # fmt: skip
    fs.makedirs(out)
    for stale in fs.glob(fs.join(out, f"{layout.scratch_prefix()}*")):
        fs.rmtree(stale)  # a killed run's half-written pass
    sc = spark.sparkContext
    tmp = str(fs.join(out, f"{layout.scratch_prefix()}{uuid.uuid4().hex}"))
    task_cfg, size = cfg.to_dict(), cfg.size
    done = sc.accumulator(0)
    total = sum(_rows(f) for f in files)
    start = time.perf_counter()
    say(f"features: {total} images of {source} -> {cfg.model} ({cfg.pooling}, "
        f"{cfg.views} view(s)) in {len(files)} tasks")  # fmt: skip
    jobs = list(enumerate(files))
    counted = sc.parallelize(jobs, cfg.partitions or len(jobs)).flatMap(
        lambda job: features_file(job[1], tmp, job[0], size, task_cfg, done)
    )
    with Progress(done, total, say, label="features") as progress:
        images = sum(counted.collect())
        say(progress.line())
    seconds = time.perf_counter() - start
    summary = {"images": images, "files": len(files), "seconds": seconds,
               "images_per_s": images / seconds if seconds else None,
               "cores": sc.defaultParallelism, "settings": settings, "made_from": made_from,
               "features": 1280 * (2 if cfg.pooling == "avgmax" else 1)}  # fmt: skip
    layout.drop_attempt_scratch(layout.size_dir(tmp, size))
    fs.write_text(layout.size_complete(tmp, size), json.dumps(summary, indent=2) + "\n")
    fs.rmtree(target)
    fs.replace(layout.size_dir(tmp, size), target)
    fs.rmtree(tmp)
    return summary


def _inside(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip("/") + "/")


def _rows(path: str) -> int:
    import pyarrow.parquet as pq

    with fs.open_read(path) as handle:
        return pq.ParquetFile(handle).metadata.num_rows
