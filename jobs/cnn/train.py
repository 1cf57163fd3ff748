"""Training loop: subject-level split, kappa on validation every epoch, a checkpoint every
epoch (atomic) and --resume, early stopping, mixed precision on GPU, deterministic seeds,
and the same code under DistributedDataParallel when launched by TorchDistributor."""

import io
import json
import math
import os
import time
from contextlib import nullcontext
from dataclasses import asdict

import numpy as np
import torch
from torch.utils.data import DataLoader

from jobs.cnn.config import PRETRAINED, TrainConfig
from jobs.cnn.data import (
    ParquetImages,
    label_counts,
    loader_context,
    random_turns,
    resample_copies,
    to_input,
)
from jobs.cnn.models import build
from jobs.cnn.tasks import Task, make_task
from jobs.dataset import fs
from jobs.errors import DrcError
from jobs.metrics import DEFAULT_THRESHOLDS, fit_thresholds, quadratic_weighted_kappa

CHECKPOINT, BEST, METRICS, CURVE = "checkpoint.pt", "best.pt", "metrics.json", "curve.png"
# a checkpoint fits only the same network, input and trainable part
COMPATIBLE = {"model": None, "size": None, "task": None, "freeze": -1}  # key: default if absent


def pick_device(wanted: str, rank: int) -> torch.device:
    if wanted == "auto":
        wanted = "cuda" if torch.cuda.is_available() else "cpu"
    if wanted == "cuda":
        if not torch.cuda.is_available():
            raise DrcError("--device cuda", "no CUDA device visible to PyTorch")
        return torch.device("cuda", int(os.environ.get("LOCAL_RANK", rank)) % max(
            1, torch.cuda.device_count()))  # fmt: skip
    return torch.device("cpu")


def class_weights(counts: dict[int, int]) -> dict[int, float]:
    """Inverse frequency, normalised so the mean weight over present grades is 1."""
    present = {g: n for g, n in counts.items() if n}
    raw = {g: 1.0 / n for g, n in present.items()}
    scale = len(raw) / sum(raw.values())
    return {g: w * scale for g, w in raw.items()}


def cpu_has_bf16() -> bool:
    """Native bfloat16 matrix instructions (AVX512-BF16 or AMX): without them autocast
    emulates it, slower than float32."""
    # (mkldnn's own bf16 check says yes on any AVX512 CPU, where bfloat16 is emulated)
    try:
        return bool(torch.cpu._is_avx512_bf16_supported() or torch.cpu._is_amx_tile_supported())
    except (AttributeError, RuntimeError):
        return False


def use_bf16(precision: str, device: torch.device, model: str) -> bool:
    """TrainConfig.precision resolved: bfloat16 on a GPU always (no loss scaling needed);
    on a CPU for the pretrained backbones where the CPU has it natively (measured: 2.3x
    their float32 training speed here; the from-scratch networks keep float32, as their
    checkpoints and tests were made)."""
    if precision != "auto":
        return precision == "bfloat16"
    if device.type == "cuda":
        return True
    return model in PRETRAINED and cpu_has_bf16()


def autocast(device: torch.device, bf16: bool | None = None):
    if bf16 is None:
        bf16 = device.type == "cuda"
    return torch.autocast(device.type, dtype=torch.bfloat16) if bf16 else nullcontext()


def train_step(net, task: Task, loss_fn, optimizer, x, levels, turns, device,
               bf16: bool | None = None) -> torch.Tensor:  # fmt: skip
    """One optimisation step on a uint8 batch (augmented on the device by `turns`)."""
    target = task.target(levels).to(device, non_blocking=True)
    with autocast(device, bf16):
        output = net(to_input(x, device, turns))
    loss = loss_fn(task.output(output).float(), target)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    return loss


def evaluate(model, loader, task: Task, device,
             bf16: bool | None = None) -> tuple[np.ndarray, np.ndarray, list[str]]:  # fmt: skip
    model.eval()
    scores, levels, names = [], [], []
    with torch.no_grad(), autocast(device, bf16):
        for x, level, name in loader:
            scores.append(task.score(model(to_input(x, device))).float().cpu().numpy())
            levels.append(level.numpy())
            names += list(name)
    if not scores:
        return np.zeros(0), np.zeros(0, dtype=int), []
    return np.concatenate(scores), np.concatenate(levels), names


def save_atomic(obj, path: fs.PathLike) -> None:
    """torch.save, whole or not at all, on a local disk or HDFS (fs.write_bytes renames)."""
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    fs.write_bytes(path, buffer.getvalue())


def load_saved(path: fs.PathLike, device) -> dict:
    return torch.load(io.BytesIO(fs.read_bytes(path)), map_location=device, weights_only=False)


def draw_curve(history: list[dict], path: fs.PathLike) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    epochs = [h["epoch"] for h in history]
    fig, left = plt.subplots(figsize=(7, 4))
    left.plot(epochs, [h["loss"] for h in history], "o-", color="tab:blue", label="train loss")
    left.set_xlabel("epoch")
    left.set_ylabel("train loss", color="tab:blue")
    right = left.twinx()
    right.plot(epochs, [h["kappa"] for h in history], "s-", color="tab:red", label="kappa")
    right.set_ylabel("validation kappa", color="tab:red")
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100)
    plt.close(fig)
    fs.write_bytes(path, buffer.getvalue())


class Distributed:
    """Rank and world from the environment torchrun / TorchDistributor set."""

    def __init__(self, device_type: str):
        self.world = int(os.environ.get("WORLD_SIZE", "1"))
        self.rank = int(os.environ.get("RANK", "0"))
        if self.world > 1 and not torch.distributed.is_initialized():
            backend = "nccl" if device_type == "cuda" else "gloo"
            torch.distributed.init_process_group(backend)

    def sum(self, *values: float) -> list[float]:
        if self.world == 1:
            return list(values)
        tensor = torch.tensor(values, dtype=torch.float64)
        torch.distributed.all_reduce(tensor)
        return tensor.tolist()

    def close(self) -> None:
        if self.world > 1 and torch.distributed.is_initialized():
            torch.distributed.barrier()
            torch.distributed.destroy_process_group()


def load_checkpoint(cfg: TrainConfig, path: fs.PathLike, device) -> dict:
    if not fs.isfile(path):
        raise DrcError(path, "no checkpoint to resume from (train without --resume first)")
    saved = load_saved(path, device)
    for key, default in COMPATIBLE.items():
        had = saved["config"].get(key, default)
        if had != getattr(cfg, key):
            raise DrcError(path, f"checkpoint has {key}={had!r}, this run asks for "
                                 f"{getattr(cfg, key)!r}")  # fmt: skip
    return saved


def train(cfg: TrainConfig, log=print) -> dict:
    device = pick_device(cfg.device, int(os.environ.get("RANK", "0")))
    dist = Distributed(device.type)
    task = make_task(cfg.task)
    out = cfg.out  # a local directory or an hdfs:// URL
    fs.makedirs(out)
    split = "train" if cfg.validation > 0 else "all"
    counts = label_counts(cfg.data, cfg.size, task.keep, split, cfg.validation, cfg.seed)
    if not counts:
        raise DrcError(cfg.data, f"no labelled images for task {task.name} at size "
                                 f"{cfg.size} in the training split")  # fmt: skip
    torch.manual_seed(cfg.seed)
    # a resumed run's weights come from its checkpoint, not from ImageNet's file
    pretrained = cfg.pretrained and cfg.model in PRETRAINED
    model = build(cfg.model, cfg.size, task.outputs, pretrained=pretrained, freeze=cfg.freeze,
                  load_weights=not cfg.resume).to(device)  # fmt: skip
    bf16 = use_bf16(cfg.precision, device, cfg.model)
    trainable = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(trainable, lr=cfg.lr, weight_decay=cfg.weight_decay)
    # Cosine decay over the planned epochs: large steps early, settling late.
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=cfg.epochs)
    state = {"epoch": 0, "history": [], "best_kappa": -math.inf, "bad_epochs": 0,
             "thresholds": list(DEFAULT_THRESHOLDS)}  # fmt: skip
    if cfg.resume:
        saved = load_checkpoint(cfg, fs.join(out, CHECKPOINT), device)
        model.load_state_dict(saved["model"])
        optimizer.load_state_dict(saved["optimizer"])
        schedule.load_state_dict(saved["schedule"])
        state = saved["state"]
        log(f"train-cnn: resumed from epoch {state['epoch']} ({fs.join(out, CHECKPOINT)})")
    net = model
    if dist.world > 1:
        net = torch.nn.parallel.DistributedDataParallel(model)
    copies = resample_copies(counts, cfg.balance) if cfg.balance < 1 else None
    # weights against what the network is shown, not against the data: with resampling
    # they make up only the rest of the way to equal grades
    shown = {g: n * (copies or {}).get(g, 1.0) for g, n in counts.items()}
    loss_fn = task.loss(class_weights(shown) if cfg.class_weights else None).to(device)
    common = {"keep": task.keep, "fraction": cfg.validation, "seed": cfg.seed}
    train_set = ParquetImages(cfg.data, cfg.size, split=split, graham_norm=cfg.graham,
                              rank=dist.rank, world=dist.world, shuffle=True,
                              copies=copies, **common)  # fmt: skip
    val_set = ParquetImages(cfg.data, cfg.size, split="validation" if split == "train"
                            else "all", graham_norm=cfg.graham, **common)  # fmt: skip
    pin = device.type == "cuda"
    loader_args = {"batch_size": cfg.batch_size, "num_workers": cfg.workers, "pin_memory": pin,
                   **loader_context(cfg.data, cfg.workers)}  # fmt: skip
    val_loader = DataLoader(val_set, **{**loader_args, "batch_size": cfg.batch_size * 2})
    for epoch in range(state["epoch"] + 1, cfg.epochs + 1):
        # dropout, augmentation: drawn alike on a resumed run
        torch.manual_seed(cfg.seed * 1000 + epoch)
        train_set.set_epoch(epoch)
        net.train()
        start, total, seen = time.perf_counter(), torch.zeros((), device=device), 0
        join = (torch.distributed.algorithms.join.Join([net]) if dist.world > 1
                else nullcontext())  # uneven shards per rank  # fmt: skip
        with join:
            for x, levels, _ in DataLoader(train_set, **loader_args):
                turns = random_turns(len(x)) if cfg.augment else None
                loss = train_step(net, task, loss_fn, optimizer, x, levels, turns, device,
                                  bf16)  # fmt: skip
                # summed on the device: reading the loss each step would stall the GPU queue
                total += loss.detach() * len(x)
                seen += len(x)
        schedule.step()
        total, seen = dist.sum(total.item(), seen)
        train_s = time.perf_counter() - start
        # Every rank scores the whole validation split: the early-stop decision then agrees
        # on all ranks without another collective (validation is a fifth of the data).
        scores, levels, _ = evaluate(model, val_loader, task, device, bf16)
        if task.name == "ordinal" and len(levels):
            state["thresholds"] = fit_thresholds(scores, levels)
        kappa = (quadratic_weighted_kappa(levels, task.grades(scores, state["thresholds"]))
                 if len(levels) else float("nan"))  # fmt: skip
        record = {
            "epoch": epoch,
            "loss": total / max(seen, 1),
            "kappa": kappa,
            "train_images": int(seen),
            "val_images": int(len(levels)),
            "train_images_per_s": seen / train_s,
            "seconds": time.perf_counter() - start,
        }
        state["history"].append(record)  # fmt: skip
        improved = kappa > state["best_kappa"]
        state["best_kappa"] = max(state["best_kappa"], kappa)
        state["bad_epochs"] = 0 if improved else state["bad_epochs"] + 1
        state["epoch"] = epoch
        if dist.rank == 0:
            checkpoint = {"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                          "schedule": schedule.state_dict(), "state": state,
                          "config": asdict(cfg), "bfloat16": bf16}  # fmt: skip
            save_atomic(checkpoint, fs.join(out, CHECKPOINT))
            if improved:
                save_atomic(checkpoint, fs.join(out, BEST))
            write_metrics(out, cfg, state, dist.world, device)
            log(f"train-cnn: epoch {epoch}/{cfg.epochs} loss {record['loss']:.4f} kappa "
                f"{kappa:.3f} ({record['train_images_per_s']:.1f} images/s, {dist.world} "
                f"process(es) on {device.type}{', bfloat16' if bf16 else ''})")  # fmt: skip
        if state["bad_epochs"] >= cfg.patience:
            log(f"train-cnn: early stop, no better kappa for {cfg.patience} epochs")
            break
    dist.close()
    metrics = fs.join(out, METRICS)
    return json.loads(fs.read_text(metrics)) if fs.exists(metrics) else {}


def write_metrics(out: fs.PathLike, cfg: TrainConfig, state: dict, world: int, device) -> None:
    metrics = {"config": asdict(cfg), "epochs_done": state["epoch"], "world": world,
               "device": str(device),
               "bfloat16": use_bf16(cfg.precision, device, cfg.model),
               "best_kappa": state["best_kappa"],
               "thresholds": state["thresholds"], "history": state["history"]}  # fmt: skip
    fs.write_text(fs.join(out, METRICS), json.dumps(metrics, indent=2))
    draw_curve(state["history"], fs.join(out, CURVE))
