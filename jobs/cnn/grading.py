"""Grading raw photographs without torch: the shipped grader's ONNX export run by ONNX
Runtime (27 MB, on every node's runtime venv) instead of PyTorch (4.6 GB, only on the
cnn_workers). The same preprocessing, views, fellow-eye blend and thresholds as the torch
path (jobs/cnn/grader.py); tests/cnn/test_grader.py holds the two to the same grades."""

import csv
import json
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from jobs.dataset.labels import list_images
from jobs.errors import DrcError
from jobs.preprocess.task import process_paths

SPEC_KEY = "dr_cluster_grader_spec"  # the ONNX file's metadata entry holding the GraderSpec


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


Batch = tuple[np.ndarray, list[str]]  # uint8 NHWC pixels, image names


def photo_batches(photos: Path, spec: GraderSpec, batch_size: int, rejected: dict[str, str],
                  say: Callable[[str], None]) -> Iterator[Batch]:  # fmt: skip
    """(uint8 NHWC pixels, names) of a directory's photographs, preprocessed as the grader
    was trained; one that cannot be read gets one line and a `rejected` entry."""
    files = list_images(str(photos))
    pixels, names = [], []
    paths = [str(p) for _, p in sorted(files.items())]
    for ident, resized in process_paths(paths, (spec.size,), {}, spec.normalise):
        if resized is None:
            rejected[ident["image"]] = f"{ident['reason']}: {ident['detail']}"
            say(f"drc grade: {files[ident['image']]}: {rejected[ident['image']]}")
            continue
        pixels.append(resized[spec.size])
        names.append(ident["image"])
        if len(names) == batch_size:
            yield np.stack(pixels), names
            pixels, names = [], []
    if names:
        yield np.stack(pixels), names


def blend_eyes(names: list[str], scores: np.ndarray, weight: float) -> np.ndarray:
    """score' = (1 - w) * own + w * fellow eye's, where the subject has both eyes."""
    if weight <= 0:
        return scores
    index = {name: i for i, name in enumerate(names)}
    out = scores.copy()
    for i, name in enumerate(names):
        subject, _, eye = name.partition("_")
        fellow = index.get(f"{subject}_{'right' if eye == 'left' else 'left'}")
        if fellow is not None:
            out[i] = (1 - weight) * scores[i] + weight * scores[fellow]
    return out


def score_outputs(task: str, out: np.ndarray) -> np.ndarray:
    """One number per image from the network's outputs, as jobs.cnn.tasks.Task.score."""
    if task == "binary04":
        return 1.0 / (1.0 + np.exp(-out[:, 0]))
    if task == "grade":
        p = np.exp(out - out.max(1, keepdims=True))
        return (p / p.sum(1, keepdims=True) * np.arange(5)).sum(1)
    return out[:, 0]


def grades_of(task: str, scores: np.ndarray, thresholds: list[float]) -> np.ndarray:
    """Scores to grades 0-4 (jobs.cnn.tasks.Task.grades calls this too)."""
    if task == "binary04":
        return np.where(scores >= 0.5, 4, 0)
    return np.digitize(scores, thresholds)


def write_grades(out_csv: Path, grades: dict[str, int]) -> None:
    """image,level rows (Kaggle's submission format), whole or not at all."""
    partial = Path(out_csv).with_name(f".{Path(out_csv).name}.partial")
    with partial.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["image", "level"])
        writer.writerows(sorted(grades.items()))
    os.replace(partial, out_csv)


def finish(photos: Path, out_csv: Path, spec: GraderSpec, names: list[str], scores: np.ndarray,
           rejected: dict, start: float, views: int, engine: str) -> dict:  # fmt: skip
    """Blend, threshold and write the grades: the end both engines share."""
    if not names:
        raise DrcError(photos, f"none of {len(rejected)} photograph(s) could be graded")
    grades = grades_of(spec.task, blend_eyes(names, scores, spec.blend), spec.thresholds)
    result = dict(zip(names, grades.tolist(), strict=True))
    write_grades(out_csv, result)
    return {"grades": result, "rejected": rejected, "seconds": time.perf_counter() - start,
            "views": views, "engine": engine, "spec": spec,
            "scores": dict(zip(names, scores.tolist(), strict=True))}  # fmt: skip


def onnx_path(grader: Path) -> Path:
    """The ONNX export shipped beside a grader file (grader.pt -> grader.onnx)."""
    return Path(grader).with_suffix(".onnx")


class OnnxGrader:
    """The exported network in an ONNX Runtime session, its GraderSpec from the file's
    metadata. Inputs: uint8 NHWC batches, scaled as jobs.cnn.data.to_input scales them."""

    def __init__(self, path: Path, threads: int | None = None):
        import onnxruntime as ort

        if not Path(path).is_file():
            raise DrcError(path, "no ONNX grader here (`make grader` exports one)")
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or os.cpu_count() or 1
        self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        meta = self.session.get_modelmeta().custom_metadata_map
        if SPEC_KEY not in meta:
            raise DrcError(path, f"an ONNX file without the grader's spec ({SPEC_KEY})")
        self.spec = GraderSpec(**json.loads(meta[SPEC_KEY]))
        self.input = self.session.get_inputs()[0].name

    def scores(self, pixels: np.ndarray, views: int) -> np.ndarray:
        x = pixels.transpose(0, 3, 1, 2).astype(np.float32) / 127.5 - 1.0
        total = 0.0
        for k in range(views):  # the 8 symmetries of the square, as score_batches takes them
            view = np.rot90(x, k % 4, axes=(2, 3))
            view = view[..., ::-1] if k >= 4 else view
            out = self.session.run(None, {self.input: np.ascontiguousarray(view)})[0]
            total = total + score_outputs(self.spec.task, out.astype(np.float32))
        return total / views


def grade_photos_onnx(photos: Path, out_csv: Path, grader: Path, *, batch_size: int = 32,
                      views: int | None = None,
                      say: Callable[[str], None] = print) -> dict:  # fmt: skip
    """jobs.cnn.grader.grade_photos with ONNX Runtime: same arguments, same result."""
    model = OnnxGrader(onnx_path(grader))
    spec = model.spec
    views = (8 if spec.tta else 1) if views is None else views
    rejected: dict[str, str] = {}
    start = time.perf_counter()
    names, scores = [], []
    for pixels, batch_names in photo_batches(photos, spec, batch_size, rejected, say):
        scores.append(model.scores(pixels, views))
        names += batch_names
    values = np.concatenate(scores) if scores else np.zeros(0)
    return finish(photos, out_csv, spec, names, values, rejected, start, views, "onnx")
