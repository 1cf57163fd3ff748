"""Preprocessing on Spark: photographs -> Parquet of flattened uint8 pixels per size.

Each partition runs the pure functions of `jobs.images`; an image that fails becomes a
quarantine row and the batch goes on.
"""

from collections.abc import Iterable, Iterator
from pathlib import PurePosixPath

from pyspark.sql import DataFrame, Row, SparkSession
from pyspark.sql import types as T

from jobs.images import ImageRejected, preprocess_bytes
from jobs.labels import parse_image_name

PIXELS_SCHEMA = T.StructType(
    [
        T.StructField("image", T.StringType(), False),
        T.StructField("subject", T.IntegerType(), True),
        T.StructField("eye", T.StringType(), True),
        T.StructField("size", T.IntegerType(), False),
        T.StructField("format", T.StringType(), True),
        T.StructField("pixels", T.BinaryType(), True),
        T.StructField("reason", T.StringType(), True),
        T.StructField("detail", T.StringType(), True),
    ]
)


def process_partition(rows: Iterable[Row], sizes: tuple[int, ...]) -> Iterator[tuple]:
    """One output row per (image, size), or one quarantine row (size 0) per bad image."""
    for row in rows:
        stem = PurePosixPath(row.path).stem
        try:
            name = parse_image_name(stem)
            subject, eye = name.subject, name.eye
        except ValueError:
            subject, eye = None, None
        try:
            resized, fmt = preprocess_bytes(bytes(row.content), sizes)
        except ImageRejected as exc:
            yield (stem, subject, eye, 0, None, None, exc.reason, exc.detail)
            continue
        for size, pixels in resized.items():
            yield (stem, subject, eye, size, fmt, pixels.tobytes(), None, None)


def preprocess(
    spark: SparkSession, input_dir: str, sizes: tuple[int, ...], partitions: int
) -> DataFrame:
    """All images of `input_dir` as rows of PIXELS_SCHEMA (quarantine rows have size 0)."""
    files = (
        spark.read.format("binaryFile")
        .option("pathGlobFilter", "*.{jpeg,jpg,png,JPEG,JPG,PNG}")
        .load(input_dir)
        .select("path", "content")
        .repartition(partitions)
    )
    rdd = files.rdd.mapPartitions(lambda rows: process_partition(rows, sizes))
    return spark.createDataFrame(rdd, PIXELS_SCHEMA)
