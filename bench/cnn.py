"""Benchmark: CNN throughput at 128 px on whatever device is here.

    .venv/bin/python bench/cnn.py [--count 4096] [--device auto] [--workers 2]

Measures, on one Parquet set written by `drc synth-features` (same layout as preprocess):
  1. the data loader alone (streaming Parquet, batching, pinned copy), its first epoch
     (worker start) left out;
  2. training images/s of seed2015 and drnet (dihedral augmentation on the device,
     forward, backward, step; bfloat16 autocast on GPU), with the real loader feeding it;
  3. the same training step on one batch already on the device (the model's own bound):
     when (2) is close to (3) the loader is not the bottleneck;
  4. inference images/s (batched forward, no gradients).
The 2015 project trained at about 95 images/s (128 px, one GPU, Theano). Writes
bench/results/cnn-<device>.json.
"""

import argparse
import json
import platform
import tempfile
import time
from pathlib import Path

import torch
from torch.utils.data import DataLoader

from jobs.cnn.data import ParquetImages, random_turns, to_input
from jobs.cnn.models import build
from jobs.cnn.tasks import make_task
from jobs.cnn.train import autocast, pick_device, train_step
from jobs.dataset.synth_features import generate

REPO = Path(__file__).resolve().parent.parent
SIZE = 128


def device_name(device: torch.device) -> str:
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return f"{line.split(':', 1)[1].strip()} ({torch.get_num_threads()} threads)"
    return platform.processor()


def sync(device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def loader(data: Path, batch: int, workers: int, device, pin: bool) -> DataLoader:
    images = ParquetImages(data, SIZE, split="all", shuffle=True)
    return DataLoader(images, batch_size=batch, num_workers=workers,
                      pin_memory=pin, persistent_workers=workers > 0,
                      prefetch_factor=4 if workers else None)  # fmt: skip


def loader_rate(data: Path, batch: int, workers: int, device, epochs: int, pin: bool) -> float:
    feed, seen, start = loader(data, batch, workers, device, pin), 0, None
    for epoch in range(epochs + 1):
        if epoch == 1:
            sync(device)
            start = time.perf_counter()
        for x, _, _ in feed:
            x.to(device, non_blocking=True)
            seen += len(x) if epoch else 0
    sync(device)
    return seen / (time.perf_counter() - start)


def make_step(name: str, device):
    """train.py's optimisation step for `name` (ordinal task, augmented)."""
    task = make_task("ordinal")
    model = build(name, SIZE, task.outputs).to(device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    loss_fn = task.loss(None)

    def step(x: torch.Tensor, levels: torch.Tensor) -> None:
        train_step(model, task, loss_fn, optimizer, x, levels, random_turns(len(x)),
                         device)  # fmt: skip

    return step


def train_rate(name: str, data: Path, batch: int, workers: int, device, epochs: int,
               pin: bool) -> float:  # fmt: skip
    step, feed = make_step(name, device), loader(data, batch, workers, device, pin)
    seen, start = 0, None
    for epoch in range(epochs + 1):  # epoch 0 warms up (allocator, cuDNN autotune)
        if epoch == 1:
            sync(device)
            start = time.perf_counter()
        for x, levels, _ in feed:
            step(x, levels)
            seen += len(x) if epoch else 0
    sync(device)
    return seen / (time.perf_counter() - start)


def resident_train_rate(name: str, batch: int, device, steps: int) -> float:
    """Training steps on one batch already on the device: no loader, no copy."""
    step = make_step(name, device)
    x = torch.randint(0, 256, (batch, SIZE, SIZE, 3), dtype=torch.uint8, device=device)
    levels = torch.randint(0, 5, (batch,), device=device)
    for _ in range(3):
        step(x, levels)
    sync(device)
    start = time.perf_counter()
    for _ in range(steps):
        step(x, levels)
    sync(device)
    return steps * batch / (time.perf_counter() - start)


def infer_rate(name: str, batch: int, device, steps: int) -> float:
    model = build(name, SIZE, 1).to(device).eval()
    x = torch.randint(0, 256, (batch, SIZE, SIZE, 3), dtype=torch.uint8)
    with torch.no_grad(), autocast(device):
        model(to_input(x, device))
        sync(device)
        start = time.perf_counter()
        for _ in range(steps):
            model(to_input(x, device))
        sync(device)
    return steps * batch / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=4096)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--batch", type=int)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--pin", action=argparse.BooleanOptionalAction, default=True,
                        help="pinned host memory for the batches (GPU)")  # fmt: skip
    parser.add_argument("--out", type=Path, help="default bench/results/cnn-DEVICE.json")
    args = parser.parse_args()
    device = pick_device(args.device, 0)
    batch = args.batch or (256 if device.type == "cuda" else 64)
    steps = 50 if device.type == "cuda" else 3
    pin = args.pin and device.type == "cuda"  # pinned memory serves only a GPU copy
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True
    with tempfile.TemporaryDirectory(prefix="drc-cnn-bench-") as tmp:
        data = Path(tmp)
        generate(data, args.count, (SIZE,), seed=3)
        result = {
            "device": device_name(device),
            "size": SIZE,
            "images": args.count,
            "batch": batch,
            "loader_workers": args.workers,
            "pinned": pin,
            "loader_images_per_s": round(
                loader_rate(data, batch, args.workers, device, args.epochs, pin)
            ),
            "train_images_per_s": {
                m: round(train_rate(m, data, batch, args.workers, device, args.epochs, pin))
                for m in ("seed2015", "drnet")
            },
            "resident_train_images_per_s": {
                m: round(resident_train_rate(m, batch, device, steps))
                for m in ("seed2015", "drnet")
            },
            "inference_images_per_s": {
                m: round(infer_rate(m, batch * 2, device, steps)) for m in ("seed2015", "drnet")
            },
            "torch": torch.__version__,
        }
    print(json.dumps(result, indent=2))
    out = args.out or REPO / "bench" / "results" / f"cnn-{device.type}.json"
    out.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
