"""Spark applications of dr-cluster, run by spark-submit (see `drc pipeline`, `drc preprocess`).

`preprocess`: photographs -> Parquet per size. `pipeline`: preprocess, then multinomial
logistic regression and quadratic weighted kappa. Each writes a JSON report into OUT.
"""

import argparse
import json
import sys
import time
from pathlib import Path

from jobs.pyspark_path import prefer_installed_pyspark

prefer_installed_pyspark()  # before the first pyspark import: see jobs.pyspark_path

from pyspark.sql import SparkSession  # noqa: E402
from pyspark.sql import functions as F  # noqa: E402

from jobs import lr_math, preprocess  # noqa: E402

MIN_SUBJECTS_FOR_SPLIT = 10


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="spark_pipeline")
    p.add_argument("app", choices=sorted(APPS))
    p.add_argument("--input", required=True)
    p.add_argument("--labels")
    p.add_argument("--out", required=True)
    p.add_argument("--sizes", default="16,32,64,128,256", help="comma-separated output sides")
    p.add_argument("--size", type=int, default=128, help="train-lr: which size to train on")
    p.add_argument("--solver", choices=["blocks", "ml"], default="blocks")
    p.add_argument("--standardize", action=argparse.BooleanOptionalAction, default=True)
    p.add_argument("--class-weights", action="store_true")
    p.add_argument("--compare-numpy", action="store_true")
    p.add_argument("--kernel", choices=sorted(lr_math.KERNELS), default="fused")
    p.add_argument("--partitions", type=int)
    p.add_argument("--csv", action="store_true")
    p.add_argument("--train-size", type=int)
    p.add_argument("--reg", type=float, default=0.01)
    p.add_argument("--elastic-net", type=float, default=0.0)
    p.add_argument("--max-iter", type=int, default=100)
    p.add_argument("--validation", type=float, default=0.2)
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--cnn-config", help="train-cnn: TrainConfig as JSON")
    p.add_argument("--processes", type=int, default=2, help="train-cnn: training processes")
    p.add_argument("--use-gpu", action="store_true")
    return p.parse_args(argv)


def say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)  # stderr: the driver's log, read by drc


def run_preprocess(spark: SparkSession, args: argparse.Namespace) -> dict:
    sizes = tuple(int(s) for s in args.sizes.split(","))
    labels = Path(args.labels) if args.labels else None
    return preprocess.run(
        spark, Path(args.input), Path(args.out), sizes, labels, args.partitions, args.csv, say
    )


def run_pipeline(spark: SparkSession, args: argparse.Namespace) -> dict:
    # imported here, as the other apps' modules are: the preprocess app needs none of them
    from jobs import logreg, lr_blocks
    from jobs.kappa import grade_confusion, quadratic_weighted_kappa

    timings: dict[str, float] = {}
    start = time.perf_counter()
    prep = run_preprocess(spark, args)
    timings["preprocess"] = time.perf_counter() - start

    start = time.perf_counter()
    data = logreg.with_features(
        spark.read.parquet(str(Path(args.out) / f"size={args.train_size}")).where(
            F.col("level").isNotNull()
        )
    ).cache()
    if data.select("subject").distinct().count() >= MIN_SUBJECTS_FOR_SPLIT:
        held = lr_blocks.validation_column(args.validation, args.seed)  # as train-lr splits
        training, evaluation = data.where(~held), data.where(held)
        eval_set = "validation (subject split)"
    else:  # too few patients to hold any out: score on the training images, and say so
        training, evaluation = data, data
        eval_set = "training images (too few subjects to split)"
    model = logreg.train(training, args.reg, args.max_iter)
    model.write().overwrite().save(str(Path(args.out) / "model"))
    timings["train_lr"] = time.perf_counter() - start

    start = time.perf_counter()
    scored = model.transform(evaluation).select("label", "prediction").collect()
    truth = [int(r.label) for r in scored]
    predicted = [int(r.prediction) for r in scored]
    kappa = quadratic_weighted_kappa(truth, predicted)
    timings["evaluate"] = time.perf_counter() - start
    bad = preprocess.read_quarantine(Path(args.out))
    return {
        "images_read": prep["images"],
        "images_quarantined": prep["quarantined"],
        "quarantine": bad,
        "sizes": prep["sizes"],
        "train_size": args.train_size,
        "n_train": training.count(),
        "n_eval": len(scored),
        "eval_set": eval_set,
        "kappa": kappa,
        "confusion": grade_confusion(truth, predicted),
        "timings_s": timings,
    }


def run_train_lr(spark: SparkSession, args: argparse.Namespace) -> dict:
    from jobs import train_lr

    return train_lr.run(spark, args)


def run_train_cnn(spark: SparkSession, args: argparse.Namespace) -> dict:
    from jobs.cnn.distributed import train_distributed
    from jobs.cnn.train import TrainConfig

    cfg = TrainConfig(**json.loads(args.cnn_config))
    return train_distributed(cfg, args.processes, args.use_gpu)


APPS = {
    "preprocess": run_preprocess,
    "pipeline": run_pipeline,
    "train-lr": run_train_lr,
    "train-cnn": run_train_cnn,
}


def main(argv: list[str]) -> None:
    args = parse_args(argv)
    spark = SparkSession.builder.appName(f"dr-cluster {args.app}").getOrCreate()
    sc = spark.sparkContext
    report = APPS[args.app](spark, args)
    report.update(
        app_id=sc.applicationId, app_name=sc.appName, master=sc.master, driver_ui=sc.uiWebUrl
    )
    (Path(args.out) / f"{args.app}-report.json").write_text(json.dumps(report, indent=2))
    spark.stop()


if __name__ == "__main__":
    main(sys.argv[1:])
