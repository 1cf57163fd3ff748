"""The shipped grader: a trained CNN with everything needed to grade a raw photograph
(the preprocessing it was trained with, its thresholds, the fellow-eye blend), in one
file (bfloat16 weights, or float32 where that changes the kappa); `drc grade` runs it on
this machine, no Spark, no training."""

import io
import json
import time
import warnings
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path

import torch

from jobs.cnn.config import GRADER_FILE
from jobs.cnn.grading import SPEC_KEY, GraderSpec, finish, onnx_path, photo_batches
from jobs.cnn.models import build
from jobs.cnn.predict import score_batches
from jobs.cnn.tasks import make_task
from jobs.cnn.train import pick_device, use_bf16
from jobs.errors import DrcError

__all__ = ["GraderSpec", "export", "export_onnx", "grade_photos", "load"]


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
    grader's own choice). Returns {image: grade} and counts (jobs.cnn.grading.finish)."""
    dev = pick_device(device, 0)
    model, spec = load(grader, dev)
    task = make_task(spec.task)
    rejected: dict[str, str] = {}
    start = time.perf_counter()
    tta = spec.tta if views is None else views == 8
    pixels = photo_batches(photos, spec, batch_size, rejected, say)
    batches = ((torch.from_numpy(x), names) for x, names in pixels)
    names, scores = score_batches(model, task, batches, dev, tta)
    return finish(photos, out_csv, spec, names, scores, rejected, start, 8 if tta else 1, "torch")


def export_onnx(grader: Path = GRADER_FILE, out: Path | None = None) -> Path:
    """The grader as ONNX (float32, opset 17, any batch size, the spec in the file's
    metadata) beside it, written whole or not at all: `drc grade` runs it with ONNX Runtime
    where torch is not installed."""
    import onnx

    model, spec = load(grader, torch.device("cpu"))
    out = Path(out or onnx_path(grader))
    partial = out.with_name(f".{out.name}.partial")
    x = torch.zeros(1, 3, spec.size, spec.size)
    # the TorchScript exporter: the network's padding is plain Python arithmetic on the
    # input's size, fixed here at the grader's one size
    with warnings.catch_warnings():  # the tracer's note on exactly that padding arithmetic
        warnings.simplefilter("ignore", torch.jit.TracerWarning)
        torch.onnx.export(model, (x,), str(partial), dynamo=False, opset_version=17,
                          input_names=["pixels"], output_names=["out"],
                          dynamic_axes={"pixels": {0: "n"}, "out": {0: "n"}})  # fmt: skip
    saved = onnx.load(str(partial))
    entry = saved.metadata_props.add()
    entry.key, entry.value = SPEC_KEY, json.dumps(asdict(spec))
    onnx.save(saved, str(partial))
    partial.replace(out)
    return out
