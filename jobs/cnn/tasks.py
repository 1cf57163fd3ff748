"""What the network predicts and how its outputs become grades.

binary04: grade 0 vs grade 4 only (the 2015 project's task); grade: all five as classes,
class-weighted rather than throwing data away; ordinal: one regression output (squared
error) with thresholds chosen on validation to maximise kappa (what the top Kaggle teams did)."""

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from jobs.cnn.grading import grades_of


@dataclass
class Task:
    name: str
    outputs: int

    def keep(self, level) -> bool:
        return level is not None and (self.name != "binary04" or level in (0, 4))

    def loss(self, class_weights: dict[int, float] | None) -> nn.Module:
        if self.name == "binary04":
            pos = (class_weights or {}).get(4, 1.0) / (class_weights or {}).get(0, 1.0)
            return nn.BCEWithLogitsLoss(pos_weight=torch.tensor(pos))
        if self.name == "grade":
            weights = torch.tensor([(class_weights or {}).get(g, 1.0) for g in range(5)],
                                   dtype=torch.float32)  # fmt: skip
            return nn.CrossEntropyLoss(weight=weights)
        # squared error, as quadratic kappa weighs a miss: SmoothL1's bounded gradient let
        # the rare severe eyes (a grade 4 called 0) pull no harder than a grade 1 called 0
        return nn.MSELoss()

    def target(self, levels: torch.Tensor) -> torch.Tensor:
        if self.name == "binary04":
            return (levels == 4).float()
        return levels.long() if self.name == "grade" else levels.float()

    def score(self, out: torch.Tensor) -> torch.Tensor:
        """One number per image: P(grade 4), expected grade, or the regression output."""
        out = out.float()
        if self.name == "binary04":
            return torch.sigmoid(out[:, 0])
        if self.name == "grade":
            return (torch.softmax(out, 1) * torch.arange(5, device=out.device)).sum(1)
        return out[:, 0]

    def output(self, out: torch.Tensor) -> torch.Tensor:
        return out[:, 0] if self.outputs == 1 else out

    def grades(self, scores: np.ndarray, thresholds: list[float]) -> np.ndarray:
        return grades_of(self.name, scores, thresholds)  # one rule for torch and ONNX


def make_task(name: str) -> Task:
    return Task(name, {"binary04": 1, "grade": 5, "ordinal": 1}[name])
