"""PreprocessConfig: the settings of one preprocess job, checked here once, on both sides
of spark-submit (the controller builds it, the Spark app rebuilds it from JSON)."""

from dataclasses import dataclass

from jobs.config import JsonConfig
from jobs.dataset import fs
from jobs.dataset.labels import check_labels_match
from jobs.dataset.layout import DEFAULT_SIZES
from jobs.errors import DrcError
from jobs.preprocess import sources

MAX_SIZE = 4096
# the names of jobs.preprocess.images.NORMALISATIONS (no numpy/OpenCV on this side)
NORMALISATIONS = ("none", "equalize")


def check_sizes(sizes) -> tuple[int, ...]:
    sizes = tuple(sizes)
    if not sizes or any(not isinstance(s, int) or s < 1 or s > MAX_SIZE for s in sizes):
        raise DrcError("--sizes", f"sizes must lie in 1..{MAX_SIZE}: {list(sizes)}")
    return sizes


@dataclass(frozen=True)
class PreprocessConfig(JsonConfig):
    input: str  # directory of photographs, or a swift:// s3:// prefix (read one hop)
    output: str  # OUTPUT/size=N/, quarantine/, _SUCCESS
    labels: str | None = None  # trainLabels.csv; None for test images (level null)
    sizes: tuple[int, ...] = DEFAULT_SIZES
    partitions: int | None = None  # Spark tasks; None: ~256 images a task
    seed_csv: bool = False  # also the 2015 flattened text format
    normalise: str = "none"  # images.NORMALISATIONS: "equalize" matches eyepacs-256

    def __post_init__(self) -> None:
        # JSON brings lists back: keep the tuple the rest of the code compares with
        object.__setattr__(self, "sizes", check_sizes(self.sizes))
        if self.partitions is not None and self.partitions < 1:
            raise DrcError("--partitions", f"{self.partitions} must be at least 1")
        if self.normalise not in NORMALISATIONS:
            raise DrcError("--normalise", f"{self.normalise!r} is not one of "
                                          f"{', '.join(NORMALISATIONS)}")  # fmt: skip

    def resolved(self) -> "PreprocessConfig":
        """Absolute paths: the Spark app and its executors run elsewhere."""
        labels = fs.absolute(self.labels) if self.labels else None
        paths = {"input": fs.absolute(self.input), "output": fs.absolute(self.output),
                 "labels": labels}  # fmt: skip
        return type(self)(**(self.to_dict() | paths))

    def check_inputs(self) -> int:
        """Fail early, in one line, on inputs the cluster would only choke on later; returns
        the number of images."""
        images = sources.list_photographs(self.input)
        if self.labels is not None:
            check_labels_match(sources.read_labels(self.labels), images, self.labels)
        return len(images)
