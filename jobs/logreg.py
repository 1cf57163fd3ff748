"""Multinomial logistic regression on flattened pixels with pyspark.ml."""

import numpy as np
import pandas as pd
from pyspark.ml.classification import LogisticRegression, LogisticRegressionModel
from pyspark.ml.functions import array_to_vector
from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T


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
