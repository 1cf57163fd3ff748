"""Grades for new images from a checkpoint: batched (memory bounded by the batch, not
the set), optional test-time augmentation over the 8 dihedral views, optional blending of
each eye's score with its fellow eye's."""

from collections.abc import Iterable
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import DataLoader

from jobs.cnn.data import ParquetImages, to_input
from jobs.cnn.grading import blend_eyes, write_grades
from jobs.cnn.models import build
from jobs.cnn.tasks import Task, make_task
from jobs.cnn.train import autocast, load_saved, pick_device, use_bf16
from jobs.dataset import fs
from jobs.errors import DrcError


def load_model(checkpoint: fs.PathLike, device):
    """A checkpoint on a local disk or HDFS."""
    if not fs.isfile(checkpoint):
        raise DrcError(checkpoint, "checkpoint not found")
    saved = load_saved(checkpoint, device)
    cfg = saved["config"]
    task = make_task(cfg["task"])
    model = build(cfg["model"], cfg["size"], task.outputs).to(device)
    model.load_state_dict(saved["model"])
    # scored as it was validated in training (bfloat16 or not)
    model.bf16 = saved.get("bfloat16", use_bf16(cfg.get("precision", "auto"),
                                                torch.device(device), cfg["model"]))  # fmt: skip
    return model.eval(), task, cfg, saved["state"]["thresholds"]


def score_batches(model, task: Task, batches: Iterable[tuple[torch.Tensor, list[str]]],
                  device, tta: bool = False) -> tuple[list[str], np.ndarray]:  # fmt: skip
    """(image names, one score each) for batches of uint8 NHWC pixels; with `tta` the
    mean over the 8 symmetries of the square, as training saw them."""
    names, scores = [], []
    views = range(8) if tta else range(1)
    with torch.no_grad(), autocast(device, getattr(model, "bf16", None)):
        for x, batch_names in batches:
            batch = to_input(x, device)
            total = 0
            for k in views:
                view = torch.rot90(batch, k % 4, dims=(2, 3))
                view = view.flip(3) if k >= 4 else view
                total = total + task.score(model(view)).float()
            scores.append((total / len(views)).cpu().numpy())
            names += list(batch_names)
    return names, (np.concatenate(scores) if scores else np.zeros(0))


def score_parquet(
    model, task: Task, data: fs.PathLike, size: int, device, *, tta: bool = False,
    graham_norm: bool = False, batch_size: int = 128,
) -> tuple[list[str], np.ndarray]:  # fmt: skip
    """`score_batches` over a preprocess output's size=N Parquet."""
    images = ParquetImages(str(data), size, keep=lambda level: True, split="all",
                           graham_norm=graham_norm)  # fmt: skip
    loader = DataLoader(images, batch_size=batch_size)
    return score_batches(model, task, ((x, name) for x, _, name in loader), device, tta)


def predict(checkpoint: Path, data: Path, out_csv: Path, *, batch_size: int = 128,
            tta: bool = False, blend: float = 0.0, device: str = "auto") -> int:  # fmt: skip
    dev = pick_device(device, 0)
    model, task, cfg, thresholds = load_model(checkpoint, dev)
    names, scores = score_parquet(model, task, data, cfg["size"], dev, tta=tta,
                                  graham_norm=cfg.get("graham", False),
                                  batch_size=batch_size)  # fmt: skip
    if not names:
        raise DrcError(data, f"no images at size {cfg['size']}")
    grades = task.grades(blend_eyes(names, scores, blend), thresholds)
    write_grades(out_csv, dict(zip(names, grades.tolist(), strict=True)))
    return len(names)
