"""LRConfig: the settings of one `train-lr` job, checked here once, on both sides of
spark-submit (the controller builds it, the Spark app rebuilds it from JSON)."""

from dataclasses import dataclass

from jobs.config import JsonConfig, option
from jobs.dataset import fs, layout, split
from jobs.errors import DrcError

SOLVERS = ("blocks", "ml", "scala")
KERNELS = ("fused", "numpy")  # the keys of kernels.KERNELS (a test keeps them equal)
OUTPUTS = ("argmax", "ordinal")  # model.OUTPUTS


@dataclass(frozen=True)
class LRConfig(JsonConfig):
    data: str  # preprocess output (DATA/size=N/)
    out: str  # model, report
    size: int = 128
    solver: str = "blocks"
    reg: float = 0.01
    elastic_net: float = 0.0  # ml only
    max_iter: int = 100
    validation: float = split.DEFAULT_FRACTION  # subjects held out
    seed: int = split.DEFAULT_SEED
    class_weights: bool = False  # balance the grades
    standardize: bool = True
    kernel: str = "fused"  # blocks gradient kernel
    compare_numpy: bool = False  # also fit without Spark and report the time ratio
    # False: no subject held out, scored on the training images (the report says so);
    # the pipeline's choice for a handful of patients
    holdout: bool = True
    # argmax: the most probable grade; ordinal: the expected grade cut at thresholds
    # fitted for kappa on the training rows (blocks solver)
    output: str = "argmax"

    def __post_init__(self) -> None:
        checks = [
            ("solver", self.solver in SOLVERS, f"not one of {', '.join(SOLVERS)}"),
            ("kernel", self.kernel in KERNELS, f"not one of {', '.join(KERNELS)}"),
            ("output", self.output in OUTPUTS, f"not one of {', '.join(OUTPUTS)}"),
            ("validation", 0 < self.validation < 1, "is not a fraction in (0, 1)"),
            ("reg", self.reg >= 0, "is negative"),
            ("max_iter", self.max_iter >= 1, "must be at least 1"),
            ("size", self.size >= 1, "must be at least 1"),
        ]
        for name, ok, reason in checks:
            if not ok:
                raise DrcError(option(name), f"{getattr(self, name)} {reason}")
        if self.output != "argmax" and self.solver != "blocks":
            raise DrcError("--output", f"{self.output} is the blocks solver's; --solver "
                                       f"{self.solver} grades by argmax")  # fmt: skip
        if self.elastic_net and self.solver != "ml":
            raise DrcError("--elastic-net", f"--solver {self.solver} is L2 only; use --solver ml")

    @property
    def features(self) -> int:
        return self.size * self.size * 3

    @property
    def split_fraction(self) -> float:
        return self.validation if self.holdout else 0.0

    def source(self) -> fs.PathLike:
        """DATA/size=N: a local directory or an hdfs:// URL."""
        return layout.size_dir(self.data, self.size)

    def check_data(self) -> None:
        """The controller's check before anything is submitted."""
        source = self.source()
        if not fs.glob(fs.join(source, "*.parquet")):
            raise DrcError(source, "no Parquet for this size: run `drc preprocess` with it first")

    def resolved(self) -> "LRConfig":
        return type(self)(**{**self.to_dict(), "data": fs.absolute(self.data),
                             "out": fs.absolute(self.out)})  # fmt: skip
