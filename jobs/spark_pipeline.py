"""The Spark application of the pipeline: preprocess -> logistic regression -> kappa.

Submitted with spark-submit by `drc pipeline`; writes OUT/report.json for the driver side.
"""

import argparse
import json
import os
import shutil
import sys
import time
from pathlib import Path

from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from jobs import logreg
from jobs.kappa import grade_confusion, quadratic_weighted_kappa
from jobs.labels import list_images, read_labels
from jobs.preprocess import preprocess

MIN_SUBJECTS_FOR_SPLIT = 10
QUARANTINE = ("image", "reason", "detail")
QUARANTINE_SCHEMA = "image string, reason string, detail string"


def unread_files(listed: dict[str, Path], seen: set[str]) -> list[dict]:
    """Files the binary reader never delivered (it skips empty ones): quarantine, not lose."""
    return [
        {
            "image": stem,
            "reason": "empty" if path.stat().st_size == 0 else "unread",
            "detail": f"{path}: {path.stat().st_size} bytes, not delivered by the file reader",
        }
        for stem, path in sorted(listed.items())
        if stem not in seen
    ]


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="spark_pipeline")
    p.add_argument("--input", required=True)
    p.add_argument("--labels", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--sizes", required=True, help="comma-separated output sides")
    p.add_argument("--train-size", type=int, required=True)
    p.add_argument("--partitions", type=int, default=4)
    p.add_argument("--reg", type=float, default=0.01)
    p.add_argument("--max-iter", type=int, default=100)
    p.add_argument("--validation", type=float, default=0.2)
    p.add_argument("--seed", type=int, default=42)
    return p.parse_args(argv)


def write_atomically(df, final: Path, fmt: str, **options) -> None:
    """Write next to the target and rename, so a size is either whole or absent."""
    tmp = final.with_name(f".{final.name}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    writer = df.write.mode("overwrite").options(**options)
    writer.format(fmt).save(str(tmp))
    shutil.rmtree(final, ignore_errors=True)
    os.replace(tmp, final)


def split_by_subject(df, fraction: float, seed: int):
    """Both eyes of a subject land on the same side of the split."""
    subjects = df.select("subject").distinct()
    held = subjects.sample(fraction=fraction, seed=seed)
    validation = df.join(held, "subject", "left_semi")
    training = df.join(held, "subject", "left_anti")
    return training, validation


def run(args: argparse.Namespace) -> dict:
    sizes = tuple(int(s) for s in args.sizes.split(","))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    spark = SparkSession.builder.appName("dr-cluster pipeline").getOrCreate()
    sc = spark.sparkContext
    timings: dict[str, float] = {}

    start = time.perf_counter()
    rows = preprocess(spark, args.input, sizes, args.partitions).cache()
    good = rows.where(F.col("size") > 0)
    for size in sizes:
        write_atomically(
            good.where(F.col("size") == size).drop("reason", "detail"),
            out / f"size={size}",
            "parquet",
        )
    bad = [r.asDict() for r in rows.where(F.col("size") == 0).select(*QUARANTINE).collect()]
    seen = {r.image for r in rows.select("image").distinct().collect()}
    bad += unread_files(list_images(Path(args.input)), seen)
    quarantine = spark.createDataFrame([tuple(b.values()) for b in bad], QUARANTINE_SCHEMA)
    write_atomically(quarantine.coalesce(1), out / "quarantine", "csv", header="true")
    n_read = len(seen | {b["image"] for b in bad})
    timings["preprocess"] = time.perf_counter() - start

    start = time.perf_counter()
    levels = spark.createDataFrame(
        list(read_labels(Path(args.labels)).items()), "image string, level int"
    )
    data = logreg.with_features(
        spark.read.parquet(str(out / f"size={args.train_size}")).join(levels, "image")
    ).cache()
    n_subjects = data.select("subject").distinct().count()
    if n_subjects >= MIN_SUBJECTS_FOR_SPLIT:
        training, evaluation = split_by_subject(data, args.validation, args.seed)
        eval_set = "validation (subject split)"
    else:  # too few patients to hold any out: score on the training images, and say so
        training, evaluation = data, data
        eval_set = "training images (too few subjects to split)"
    model = logreg.train(training, args.reg, args.max_iter)
    model.write().overwrite().save(str(out / "model"))
    timings["train_lr"] = time.perf_counter() - start

    start = time.perf_counter()
    scored = model.transform(evaluation).select("image", "label", "prediction").collect()
    truth = [int(r.label) for r in scored]
    predicted = [int(r.prediction) for r in scored]
    kappa = quadratic_weighted_kappa(truth, predicted)
    timings["evaluate"] = time.perf_counter() - start

    report = {
        "app_id": sc.applicationId,
        "app_name": sc.appName,
        "master": sc.master,
        "driver_ui": sc.uiWebUrl,
        "images_read": n_read,
        "images_quarantined": len(bad),
        "quarantine": bad,
        "sizes": list(sizes),
        "train_size": args.train_size,
        "n_train": training.count(),
        "n_eval": len(scored),
        "eval_set": eval_set,
        "kappa": kappa,
        "confusion": grade_confusion(truth, predicted),
        "timings_s": timings,
    }
    (out / "report.json").write_text(json.dumps(report, indent=2))
    spark.stop()
    return report


if __name__ == "__main__":
    run(parse_args(sys.argv[1:]))
