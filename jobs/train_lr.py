"""The `train-lr` Spark application: LR on the preprocess Parquet, scored by kappa.

Solvers: `blocks` (uint8 blocks + L-BFGS, lr_blocks) and `ml` (pyspark.ml's
LogisticRegression on float64 vectors). Both use the same subject split. With
`--compare-numpy` the same blocks model is also fitted without Spark, in the same run.
"""

import json
import resource
import time
import urllib.request
from pathlib import Path

import numpy as np
from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from jobs import lr_blocks, lr_math
from jobs.kappa import GRADES, grade_confusion, quadratic_weighted_kappa


def scores(truth, predicted) -> dict:
    confusion = grade_confusion(truth, predicted)
    recall = {
        g: (row[g] / sum(row) if sum(row) else None)
        for g, row in zip(GRADES, confusion, strict=True)
    }
    return {"kappa": quadratic_weighted_kappa(truth, predicted), "confusion": confusion,
            "recall": recall, "n_scored": len(truth)}  # fmt: skip


def read_bandwidth_gbs(block: dict) -> float:
    """Single-core read speed of one memory-mapped block: a rate, so one block tells it
    (reading every block again would add a whole iteration's I/O to each run)."""
    flat = np.asarray(np.load(block["x"], mmap_mode="r")).reshape(-1)
    usable = flat[: len(flat) // 8 * 8]
    start = time.perf_counter()
    usable.view(np.uint64).sum()
    return usable.nbytes / (time.perf_counter() - start) / 1e9


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


def fit_blocks(spark, args, blocks, d, timings) -> tuple[dict, np.ndarray, np.ndarray]:
    options = {"reg": args.reg, "balance": args.class_weights, "standardize": args.standardize,
               "kernel": args.kernel}  # fmt: skip
    start = time.perf_counter()
    trainer = lr_blocks.spark_trainer(spark, blocks, d, **options)
    timings["stats"] = time.perf_counter() - start
    start = time.perf_counter()
    w_raw, b_raw = trainer.fit(args.max_iter)
    timings["train"] = time.perf_counter() - start
    start = time.perf_counter()
    sc = spark.sparkContext
    val = [b for b in blocks if b["validation"]]
    bc = sc.broadcast((w_raw, b_raw))
    parts = sc.parallelize(val, max(1, len(val))).map(
        lambda b: lr_blocks.predict_blocks([b], *bc.value)
    ).collect()  # fmt: skip
    truth = np.concatenate([p[1] for p in parts]) if parts else np.zeros(0, int)
    pred = np.concatenate([p[2] for p in parts]) if parts else np.zeros(0, int)
    timings["evaluate"] = time.perf_counter() - start
    info = {
        "iterations": int(trainer.result.nit),
        "evaluations": len(trainer.iterations),
        "seconds_per_evaluation": float(np.median(trainer.iterations)),
        "converged": bool(trainer.result.success),
        "python_worker_peak_rss_mb": round(trainer.worker_peak_mb),
        **scores(truth.tolist(), pred.tolist()),
    }
    if args.compare_numpy:
        start = time.perf_counter()
        base = lr_blocks.numpy_trainer(blocks, d, **options)
        bw, bb = base.fit(args.max_iter)
        _, t2, p2 = lr_blocks.predict_blocks(val, bw, bb)
        secs = time.perf_counter() - start
        info["numpy_baseline"] = {
            "seconds": secs, "iterations": len(base.iterations),
            "kappa": quadratic_weighted_kappa(t2.tolist(), p2.tolist()),
            "spark_over_numpy": (timings["stats"] + timings["train"]) / secs,
        }  # fmt: skip
    return info, w_raw, b_raw


def fit_ml(spark, args, timings) -> dict:
    from jobs import logreg

    start = time.perf_counter()
    lr_blocks.limit_reader_batch(spark, args.size)
    df = (
        spark.read.parquet(str(Path(args.input) / f"size={args.size}"))
        .where(F.col("level").isNotNull())
        .withColumn("validation", lr_blocks.validation_column(args.validation, args.seed))
    )
    data = logreg.with_features(df)
    if args.class_weights:
        counts = dict(data.where(~F.col("validation")).groupBy("level").count().collect())
        per_grade = lr_math.class_weights_from_counts([counts.get(g, 0) for g in GRADES])
        weight = F.create_map(*[x for g in counts for x in (F.lit(g), F.lit(float(per_grade[g])))])
        data = data.withColumn("weight", weight[F.col("level")])
    train = data.where(~F.col("validation")).cache()
    train.count()
    timings["load"] = time.perf_counter() - start
    start = time.perf_counter()
    model = logreg.train(train, args.reg, args.max_iter, standardize=args.standardize,
                         weight_col="weight" if args.class_weights else None,
                         elastic_net=args.elastic_net)  # fmt: skip
    timings["train"] = time.perf_counter() - start
    start = time.perf_counter()
    scored = model.transform(data.where(F.col("validation"))).select("label", "prediction")
    rows = scored.collect()
    timings["evaluate"] = time.perf_counter() - start
    model.write().overwrite().save(str(Path(args.out) / "ml-model"))
    return {"iterations": model.summary.totalIterations,
            **scores([int(r.label) for r in rows], [int(r.prediction) for r in rows])}  # fmt: skip


def run(spark: SparkSession, args) -> dict:
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    d = args.size * args.size * 3
    timings: dict[str, float] = {}
    report = {"size": args.size, "solver": args.solver, "reg": args.reg,
              "max_iter": args.max_iter, "validation_fraction": args.validation,
              "class_weights": args.class_weights, "standardize": args.standardize,
              "kernel": args.kernel}  # fmt: skip
    if args.solver == "ml":
        report.update(fit_ml(spark, args, timings))
    else:
        start = time.perf_counter()
        blocks = lr_blocks.prepare_blocks(spark, Path(args.input), args.size, args.validation,
                                          args.seed)  # fmt: skip
        timings["load"] = time.perf_counter() - start
        train_blocks = [b for b in blocks if not b["validation"]]
        bytes_per_iter = sum(b["n"] for b in train_blocks) * d
        info, w_raw, b_raw = fit_blocks(spark, args, blocks, d, timings)
        report.update(info)
        report["n_train"] = sum(b["n"] for b in train_blocks)
        report["bytes_per_iteration"] = bytes_per_iter
        bw = read_bandwidth_gbs(train_blocks[0])
        report["read_bandwidth_gbs_one_core"] = bw
        report["iteration_floor_s_one_core"] = bytes_per_iter / bw / 1e9
        np.savez(out / "model.npz", w_raw=w_raw, b_raw=b_raw, size=args.size)
    report["timings_s"] = timings
    report["load_to_kappa_s"] = sum(timings.values())
    report["driver_peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    report["executors_peak"] = executor_peaks(spark)
    return report
