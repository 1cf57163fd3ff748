"""The shipped grader: a trained CNN with everything needed to grade a raw photograph
(the preprocessing it was trained with, its thresholds, the fellow-eye blend), in one
file (bfloat16 weights, or float32 where that changes the kappa); `drc grade` runs it on
this machine, no Spark, no training."""

import io
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch

from jobs.cnn.config import GRADER_FILE
from jobs.cnn.models import build
from jobs.cnn.predict import blend_eyes, score_batches, write_grades
from jobs.cnn.tasks import make_task
from jobs.cnn.train import pick_device, use_bf16
from jobs.dataset.labels import list_images
from jobs.errors import DrcError
from jobs.preprocess.task import process_paths


@dataclass
class GraderSpec:
    """What grading needs besides the weights (stored beside them)."""

    model: str
    size: int
    task: str
    thresholds: list[float]
    normalise: str = "equalize"  # jobs.preprocess.images.NORMALISATIONS
    blend: float = 0.0  # share of the fellow eye's score
    tta: bool = True
    trained: dict = field(default_factory=dict)  # provenance: data, epochs, held-out kappa
    bfloat16: bool | None = None  # as its thresholds were fitted; None: this CPU's default


def export(state_dict: dict, spec: GraderSpec, path: Path, dtype=torch.bfloat16) -> int:
    """Weights as bfloat16 (half of float32) unless told otherwise (the training bench
    keeps float32 when bfloat16 changes the held-out kappa at 3 decimals), written whole
    or not at all; returns the file's size."""
    weights = {k: v.to(dtype) if v.is_floating_point() else v
               for k, v in state_dict.items()}  # fmt: skip
    buffer = io.BytesIO()
    torch.save({"weights": weights, "spec": asdict(spec)}, buffer)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    partial.write_bytes(buffer.getvalue())
    partial.replace(path)
    return len(buffer.getvalue())


def load(path: Path, device) -> tuple[torch.nn.Module, GraderSpec]:
    if not Path(path).is_file():
        raise DrcError(path, "no grader here (train one with `make grader`)")
    saved = torch.load(path, map_location="cpu", weights_only=True)
    spec = GraderSpec(**saved["spec"])
    model = build(spec.model, spec.size, make_task(spec.task).outputs)
    model.load_state_dict({k: v.float() if v.is_floating_point() else v
                           for k, v in saved["weights"].items()})  # fmt: skip
    model.bf16 = (spec.bfloat16 if spec.bfloat16 is not None
                  else use_bf16("auto", torch.device(device), spec.model))  # fmt: skip
    return model.to(device).eval(), spec


def grade_photos(photos: Path, out_csv: Path, grader: Path = GRADER_FILE, *, device: str = "auto",
                 batch_size: int = 32, views: int | None = None,
                 say: Callable[[str], None] = print) -> dict:  # fmt: skip
    """Grade every photograph of a directory; a photograph that cannot be graded gets one
    line naming it and why, and the rest go on. `views`: 8 (the dihedral mean, as the
    grader's thresholds were fitted), 1 (8 times faster, a little less exact) or None (the
    grader's own choice). Returns {image: grade} and counts."""
    dev = pick_device(device, 0)
    model, spec = load(grader, dev)
    task = make_task(spec.task)
    files = list_images(str(photos))
    paths = [str(p) for _, p in sorted(files.items())]
    rejected: dict[str, str] = {}
    start = time.perf_counter()

    def batches():
        pixels, names = [], []
        for ident, resized in process_paths(paths, (spec.size,), {}, spec.normalise):
            if resized is None:
                rejected[ident["image"]] = f"{ident['reason']}: {ident['detail']}"
                say(f"drc grade: {files[ident['image']]}: {rejected[ident['image']]}")
                continue
            pixels.append(resized[spec.size])
            names.append(ident["image"])
            if len(names) == batch_size:
                yield torch.from_numpy(np.stack(pixels)), names
                pixels, names = [], []
        if names:
            yield torch.from_numpy(np.stack(pixels)), names

    tta = spec.tta if views is None else views == 8
    names, scores = score_batches(model, task, batches(), dev, tta)
    if not names:
        raise DrcError(photos, f"none of {len(paths)} photograph(s) could be graded")
    grades = task.grades(blend_eyes(names, scores, spec.blend), spec.thresholds)
    result = dict(zip(names, grades.tolist(), strict=True))
    write_grades(out_csv, result)
    return {
        "grades": result,
        "rejected": rejected,
        "seconds": time.perf_counter() - start,
        "views": 8 if tta else 1,
        "spec": spec,
    }
