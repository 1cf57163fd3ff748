"""FeaturesConfig: one `drc features` job, checked on both sides of spark-submit. No torch
here: the CLI reads its defaults."""

from dataclasses import dataclass

from jobs.config import JsonConfig, option
from jobs.dataset import fs
from jobs.errors import DrcError

BACKBONES = ("efficientnet-lite0", "efficientnet-lite2")
POOLINGS = ("avg", "avgmax")
PRECISIONS = ("auto", "float32", "bfloat16")


@dataclass(frozen=True)
class FeaturesConfig(JsonConfig):
    data: str  # preprocess output (DATA/size=N/), a path or hdfs://
    out: str  # OUT/size=N/part-*.parquet: the features, in the preprocess schema
    size: int = 256
    model: str = "efficientnet-lite0"
    # avgmax: average and max pooled side by side (2 x 1280): the max keeps a small
    # lesion's response that the average over the whole eye dilutes
    pooling: str = "avgmax"
    views: int = 1  # 1, or 8: the mean over the dihedral views (8x the work)
    batch_size: int = 32
    threads: int = 1  # torch threads per Spark task (a task per core: 1)
    precision: str = "auto"  # auto: bfloat16 where the CPU has it natively
    partitions: int | None = None  # Spark tasks; None: one per input file

    def __post_init__(self) -> None:
        checks = [
            ("model", self.model in BACKBONES, f"not one of {', '.join(BACKBONES)}"),
            ("pooling", self.pooling in POOLINGS, f"not one of {', '.join(POOLINGS)}"),
            ("precision", self.precision in PRECISIONS, f"not one of {', '.join(PRECISIONS)}"),
            ("views", self.views in (1, 8), "must be 1 or 8"),
            ("batch_size", self.batch_size >= 1, "must be at least 1"),
            ("threads", self.threads >= 1, "must be at least 1"),
            ("size", self.size >= 32, "must be at least 32"),
        ]
        for name, ok, reason in checks:
            if not ok:
                raise DrcError(option(name), f"{getattr(self, name)} {reason}")

    def resolved(self) -> "FeaturesConfig":
        return type(self)(**{**self.to_dict(), "data": fs.absolute(self.data),
                             "out": fs.absolute(self.out)})  # fmt: skip
