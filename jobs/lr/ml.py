"""pyspark.ml's multinomial logistic regression on the pixels as float64 vectors (the
`ml` solver; the Scala job trains the same model)."""

import time

import numpy as np
import pandas as pd
from pyspark.ml.classification import LogisticRegression, LogisticRegressionModel
from pyspark.ml.functions import array_to_vector
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from jobs.dataset import fs, layout, split
from jobs.lr import kernels
from jobs.lr.blocks import limit_reader_batch
from jobs.lr.config import LRConfig
from jobs.metrics import GRADES, scores


@F.pandas_udf(T.ArrayType(T.FloatType()))
def pixels_to_array(pixels: pd.Series) -> pd.Series:
    """uint8 bytes -> float features in [0, 1], vectorised per Arrow batch."""
    return pixels.map(lambda b: np.frombuffer(b, dtype=np.uint8).astype(np.float32) / 255.0)


def with_features(df: DataFrame) -> DataFrame:
    return df.withColumn("features", array_to_vector(pixels_to_array("pixels"))).withColumn(
        "label", F.col("level").cast("double")
    )


def train(
    df: DataFrame,
    reg: float,
    max_iter: int,
    standardize: bool = True,
    weight_col: str | None = None,
    elastic_net: float = 0.0,
) -> LogisticRegressionModel:
    lr = LogisticRegression(
        family="multinomial", regParam=reg, elasticNetParam=elastic_net, maxIter=max_iter,
        standardization=standardize,
    )  # fmt: skip
    if weight_col:
        lr.setWeightCol(weight_col)
    return lr.fit(df)


def fit(spark: SparkSession, cfg: LRConfig, timings: dict) -> dict:
    """Train and score with the `ml` solver; the model goes to OUT/ml-model."""
    start = time.perf_counter()
    limit_reader_batch(spark, cfg.size)
    df = (
        spark.read.parquet(str(cfg.source()))
        .where(F.col("level").isNotNull())
        .withColumn("validation", F.expr(split.sql_condition(cfg.split_fraction, cfg.seed)))
    )
    data = with_features(df)
    if cfg.class_weights:
        counts = dict(data.where(~F.col("validation")).groupBy("level").count().collect())
        per_grade = kernels.class_weights_from_counts([counts.get(g, 0) for g in GRADES])
        weight = F.create_map(*[x for g in counts for x in (F.lit(g), F.lit(float(per_grade[g])))])
        data = data.withColumn("weight", weight[F.col("level")])
    train_df = data.where(~F.col("validation")).cache()
    n_train = train_df.count()
    timings["load"] = time.perf_counter() - start
    start = time.perf_counter()
    model = train(train_df, cfg.reg, cfg.max_iter, standardize=cfg.standardize,
                  weight_col="weight" if cfg.class_weights else None,
                  elastic_net=cfg.elastic_net)  # fmt: skip
    timings["train"] = time.perf_counter() - start
    start = time.perf_counter()
    scored = data.where(F.col("validation")) if cfg.holdout else train_df
    rows = model.transform(scored).select("label", "prediction").collect()
    timings["evaluate"] = time.perf_counter() - start
    model.write().overwrite().save(str(fs.join(cfg.out, layout.ML_MODEL_DIR)))
    return {"iterations": model.summary.totalIterations, "n_train": n_train,
            **scores([int(r.label) for r in rows], [int(r.prediction) for r in rows])}  # fmt: skip
