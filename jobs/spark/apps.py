"""The Spark applications of dr-cluster, run by spark-submit as `apps.py APP RESULT CONFIG`:
CONFIG is the job's config as JSON (rebuilt and checked again here), RESULT the JSON file
the application writes its result into (the controller alone writes the reports).

`preprocess`: photographs -> Parquet per size. `train-lr`: LR on one size, scored.
`pipeline`: the two in one application. `train-cnn`: the CNN through TorchDistributor.
`features`: the pretrained backbone's pooled features of a preprocess output.
"""

import json
import sys
from pathlib import Path

from jobs.spark.pyspark_path import prefer_installed_pyspark

prefer_installed_pyspark()  # before the first pyspark import: see jobs.spark.pyspark_path

from pyspark.sql import SparkSession  # noqa: E402

MIN_SUBJECTS_FOR_SPLIT = 10


def say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)  # stderr: the driver's log, read by drc


def run_preprocess(spark: SparkSession, config: dict) -> dict:
    from jobs.preprocess import job
    from jobs.preprocess.config import PreprocessConfig

    return job.run(spark, PreprocessConfig.from_dict(config), say)


def run_train_lr(spark: SparkSession, config: dict) -> dict:
    from jobs.lr import app
    from jobs.lr.config import LRConfig

    return app.run(spark, LRConfig.from_dict(config))


def run_pipeline(spark: SparkSession, config: dict) -> dict:
    """Preprocess, then the train-lr job's own code on one size (holding out subjects only
    when there are enough of them to hold any out)."""
    import dataclasses
    import time

    from jobs.lr import app
    from jobs.lr.config import LRConfig
    from jobs.preprocess import job
    from jobs.preprocess.config import PreprocessConfig

    prep_cfg, lr_cfg = (
        PreprocessConfig.from_dict(config["preprocess"]),
        LRConfig.from_dict(config["lr"]),
    )
    start = time.perf_counter()
    prep = job.run(spark, prep_cfg, say)
    preprocess_s = time.perf_counter() - start
    subjects = (
        spark.read.parquet(str(lr_cfg.source())).where("level IS NOT NULL")
        .select("subject").distinct().count()
    )  # fmt: skip
    lr_cfg = dataclasses.replace(lr_cfg, holdout=subjects >= MIN_SUBJECTS_FOR_SPLIT)
    lr = app.run(spark, lr_cfg)
    quarantine = prep.pop("quarantine")  # the table's rows, once in the result
    return {"preprocess": prep, "preprocess_s": preprocess_s, "lr": lr, "quarantine": quarantine}


def run_features(spark: SparkSession, config: dict) -> dict:
    from jobs.features import job
    from jobs.features.config import FeaturesConfig

    return job.run(spark, FeaturesConfig.from_dict(config), say)


def run_train_cnn(spark: SparkSession, config: dict) -> dict:
    from jobs.cnn.distributed import DistributedConfig, train_distributed

    return train_distributed(DistributedConfig.from_dict(config))


APPS = {
    "preprocess": run_preprocess,
    "train-lr": run_train_lr,
    "pipeline": run_pipeline,
    "train-cnn": run_train_cnn,
    "features": run_features,
}


def main(argv: list[str]) -> None:
    app, result_path, config = argv
    spark = SparkSession.builder.appName(f"dr-cluster {app}").getOrCreate()
    sc = spark.sparkContext
    result = APPS[app](spark, json.loads(config))
    result.update(
        app_id=sc.applicationId, app_name=sc.appName, master=sc.master, driver_ui=sc.uiWebUrl
    )
    partial = Path(result_path).with_suffix(".partial")
    partial.write_text(json.dumps(result, indent=2))
    partial.replace(result_path)
    spark.stop()


if __name__ == "__main__":
    main(sys.argv[1:])
