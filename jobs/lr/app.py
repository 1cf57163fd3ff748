"""The `train-lr` job's Spark side: LR on the preprocess Parquet, scored by kappa.

Solvers: `blocks` (uint8 blocks + L-BFGS, `model.BlocksLogisticRegression`) and `ml`
(pyspark.ml on float64 vectors). Both use the same subject split. With `compare_numpy`
the same blocks model is also fitted without Spark, in the same run. The pipeline runs
this same code after preprocessing.
"""

import json
import resource
import statistics
import time
import urllib.request

from pyspark.sql import SparkSession

from jobs.dataset import fs, layout
from jobs.lr import blocks as lr_blocks
from jobs.lr.config import LRConfig
from jobs.lr.model import BlocksLogisticRegression
from jobs.metrics import quadratic_weighted_kappa, scores


def executor_peaks(spark: SparkSession) -> dict:
    """Peak JVM memory of driver and executors from the application's REST API."""
    sc = spark.sparkContext
    url = f"{sc.uiWebUrl}/api/v1/applications/{sc.applicationId}/executors"
    try:
        with urllib.request.urlopen(url, timeout=5) as resp:
            executors = json.load(resp)
    except OSError:
        return {}
    out = {}
    for e in executors:
        peak = e.get("peakMemoryMetrics") or {}
        out[e["id"]] = {
            "jvm_heap_mb": round(peak.get("JVMHeapMemory", 0) / 2**20),
            "process_tree_rss_mb": round(peak.get("ProcessTreeJVMRSSMemory", 0) / 2**20),
            "python_rss_mb": round(peak.get("ProcessTreePythonRSSMemory", 0) / 2**20),
        }
    return out


def estimator(cfg: LRConfig) -> BlocksLogisticRegression:
    return BlocksLogisticRegression(reg=cfg.reg, max_iter=cfg.max_iter,
                                    class_weight="balanced" if cfg.class_weights else None,
                                    standardize=cfg.standardize, kernel=cfg.kernel,
                                    output=cfg.output)  # fmt: skip


def scored_blocks(cfg: LRConfig, blocks: list[dict]) -> list[dict]:
    """The held-out blocks, or the training blocks when nothing is held out."""
    return [b for b in blocks if b["validation"] == cfg.holdout]


def fit_blocks(spark: SparkSession, cfg: LRConfig, blocks: list[dict], timings: dict) -> dict:
    start = time.perf_counter()
    model = estimator(cfg).fit(blocks, spark)
    timings["stats"] = model.stats_seconds_
    timings["train"] = time.perf_counter() - start - model.stats_seconds_
    start = time.perf_counter()
    sc = spark.sparkContext
    val = scored_blocks(cfg, blocks)
    bc = sc.broadcast(model)
    ordinal = cfg.output == "ordinal"
    parts = sc.parallelize(val, max(1, len(val))).map(
        lambda b: (*bc.value.predict_blocks([b]),
                   bc.value.predict_blocks([b], argmax=True)[2] if ordinal else None)
    ).collect()  # fmt: skip
    images = [str(i) for p in parts for i in p[0]]
    truth = [int(t) for p in parts for t in p[1]]
    pred = [int(t) for p in parts for t in p[2]]
    timings["evaluate"] = time.perf_counter() - start
    model.save(layout.model_file(cfg.out))
    info = {
        "iterations": model.n_iter_,
        "evaluations": len(model.evaluation_seconds_),
        "seconds_per_evaluation": statistics.median(model.evaluation_seconds_),
        "converged": model.converged_,
        "python_worker_peak_rss_mb": round(model.worker_peak_mb_),
        "model": str(layout.model_file(cfg.out)),
        "output": cfg.output,
        **scores(truth, pred),
        # per image, for the report's examples and interval (1,300 eyes: ~40 KB of JSON)
        "predictions": [list(row) for row in zip(images, truth, pred, strict=True)],
    }
    if ordinal:  # what argmax would have scored, from the same model
        argmax = [int(t) for p in parts for t in p[3]]
        info["argmax_kappa"] = quadratic_weighted_kappa(truth, argmax) if truth else None
        info["thresholds"] = [round(float(c), 4) for c in model.thresholds_]
    if cfg.compare_numpy:
        start = time.perf_counter()
        base = estimator(cfg).fit(blocks)
        _, t2, p2 = base.predict_blocks(val)
        secs = time.perf_counter() - start
        info["numpy_baseline"] = {
            "seconds": secs, "iterations": len(base.evaluation_seconds_),
            "kappa": quadratic_weighted_kappa(t2.tolist(), p2.tolist()),
            "spark_over_numpy": (timings["stats"] + timings["train"]) / secs,
        }  # fmt: skip
    return info


def run(spark: SparkSession, cfg: LRConfig) -> dict:
    cfg = cfg.resolved()
    fs.makedirs(cfg.out)
    timings: dict[str, float] = {}
    report = {"size": cfg.size, "solver": cfg.solver, "reg": cfg.reg,
              "max_iter": cfg.max_iter, "validation_fraction": cfg.split_fraction,
              "class_weights": cfg.class_weights, "standardize": cfg.standardize,
              "kernel": cfg.kernel,
              "eval_set": "validation (subject split)" if cfg.holdout
              else "training images (too few subjects to split)"}  # fmt: skip
    if cfg.solver == "ml":
        from jobs.lr import ml

        report.update(ml.fit(spark, cfg, timings))
    else:
        start = time.perf_counter()
        blocks = lr_blocks.prepare_blocks(spark, cfg.data, cfg.size, cfg.split_fraction, cfg.seed)
        timings["load"] = time.perf_counter() - start
        train_blocks = lr_blocks.training_blocks(blocks)
        report.update(fit_blocks(spark, cfg, blocks, timings))
        report["n_train"] = sum(b["n"] for b in train_blocks)
        report["bytes_per_iteration"] = report["n_train"] * train_blocks[0]["width"]
        bw = lr_blocks.read_bandwidth_gbs(train_blocks[0])
        report["read_bandwidth_gbs_one_core"] = bw
        report["iteration_floor_s_one_core"] = report["bytes_per_iteration"] / bw / 1e9
    report["timings_s"] = timings
    report["load_to_kappa_s"] = sum(timings.values())
    report["driver_peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    report["executors_peak"] = executor_peaks(spark)
    return report
