"""TrainConfig: the CNN's settings, one dataclass from the CLI to every training process
(sent to the Spark app as JSON). No torch here: the CLI reads its defaults."""

from dataclasses import dataclass
from pathlib import Path

from jobs.config import JsonConfig
from jobs.dataset import split
from jobs.errors import DrcError

MODELS = ("seed2015", "drnet", "drnet-small", "efficientnet-lite0", "efficientnet-lite2")
# ImageNet-pretrained (jobs/cnn/efficientnet.py); the rest start from random weights
PRETRAINED = ("efficientnet-lite0", "efficientnet-lite2")
PRECISIONS = ("auto", "float32", "bfloat16")
BACKBONE_BLOCKS = {"efficientnet-lite0": 16, "efficientnet-lite2": 21}  # a test keeps them true
TASKS = ("binary04", "grade", "ordinal")
DEVICES = ("auto", "cpu", "cuda")
# the shipped grader (`make grader` trains and writes it; `drc grade` reads it)
GRADER_FILE = Path(__file__).resolve().parents[2] / "models" / "grader" / "grader.pt"


@dataclass
class TrainConfig(JsonConfig):
    data: str
    out: str
    size: int = 128
    model: str = "drnet"
    task: str = "ordinal"
    epochs: int = 30
    batch_size: int = 64
    lr: float = 1e-3
    weight_decay: float = 1e-4
    validation: float = split.DEFAULT_FRACTION
    seed: int = split.DEFAULT_SEED
    patience: int = 5
    workers: int = 2
    augment: bool = True
    graham: bool = False
    class_weights: bool = True
    # resample each epoch so that grade shares go as count**balance (data.resample_copies):
    # 1 keeps Kaggle's 73 % grade 0, 0 shows every grade equally often
    balance: float = 0.5
    resume: bool = False
    device: str = "auto"
    # a pretrained model starts from its ImageNet weights (False: random, for comparison)
    pretrained: bool = True
    # blocks of a pretrained backbone kept fixed after the stem (-1: the model's default,
    # its first four stages: they see edges and blobs, which fundus photographs share with
    # ImageNet; fixed, they run without autograd, 2-3x faster an epoch on a CPU)
    freeze: int = -1
    # auto: bfloat16 autocast on a GPU, and on a CPU with native bfloat16 (AVX512-BF16 or
    # AMX) for the pretrained backbones; float32 elsewhere
    precision: str = "auto"

    def __post_init__(self) -> None:
        if not 0.0 <= self.balance <= 1.0:
            raise DrcError("--balance", f"{self.balance} is not in 0..1")
        if self.precision not in PRECISIONS:
            raise DrcError("--precision", f"{self.precision!r} is not one of "
                                          f"{', '.join(PRECISIONS)}")  # fmt: skip
        if self.freeze > 0 and (self.model not in PRETRAINED or not self.pretrained):
            raise DrcError("--freeze", f"{self.model} without ImageNet weights has no "
                                       "pretrained blocks to keep fixed")  # fmt: skip
        blocks = BACKBONE_BLOCKS.get(self.model, 0)
        if self.model in PRETRAINED and self.freeze > blocks:
            raise DrcError("--freeze", f"{self.freeze} is more than {self.model}'s {blocks} "
                                       "blocks")  # fmt: skip
