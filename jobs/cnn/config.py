"""TrainConfig: the CNN's settings, one dataclass from the CLI to every training process
(sent to the Spark app as JSON). No torch here: the CLI reads its defaults."""

from dataclasses import dataclass
from pathlib import Path

from jobs.config import JsonConfig
from jobs.dataset import split

MODELS = ("seed2015", "drnet")
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
    resume: bool = False
    device: str = "auto"
