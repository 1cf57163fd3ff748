"""Synthetic preprocess output at the seed's scale, written directly as Parquet (no JPEGs).

Same layout as `drc preprocess` (OUT/size=N/part-*.parquet with image, subject, eye, level,
format, pixels), the seed's class balance and two eyes per subject (from `synth_images.plan`),
and a planted signal a linear model can learn: lesion-like dark spots at fixed places
whose number grows with the grade, on a noisy fundus-like disc. Deterministic per seed.
"""

import json
import os
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq

from jobs.dataset.layout import COMPLETE, scratch_prefix, size_complete, size_dir, summary
from jobs.dataset.parquet import PARQUET_OPTIONS, label_columns, pixels_table
from jobs.dataset.synth_images import plan

ROWS_PER_FILE = 2048
NOISE = 30.0
LESION_DEPTH = 70.0


def _disc(size: int) -> np.ndarray:
    yy, xx = np.mgrid[:size, :size]
    r = np.hypot(xx - (size - 1) / 2, yy - (size - 1) / 2) / (size / 2)
    base = np.array([180.0, 90.0, 40.0]) * np.clip(1.1 - 0.4 * r**2, 0, None)[..., None]
    return np.where((r <= 1)[..., None], base, 0.0).astype(np.float32)


def _spots(size: int, seed: int) -> np.ndarray:
    """Per-grade signature: 4 groups of small dark spots, group g switched on at grade > g."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:size, :size]
    groups = np.zeros((4, size, size), dtype=np.float32)
    for g in range(4):
        for _ in range(3 + 2 * g):
            cy, cx = rng.uniform(0.25, 0.75, 2) * size
            sigma = max(size / 40, 1.2)  # at least a pixel wide at the smallest sizes
            groups[g] += np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * sigma**2))
    return np.clip(groups, 0, 1)


def make_pixels(levels: np.ndarray, size: int, rng: np.random.Generator) -> np.ndarray:
    """uint8 (n, size*size*3) for the given grades.

    The lesions move a little from image to image, vary in contrast, and sit in noise,
    so a linear model learns them without a perfect score."""
    disc = _disc(size)
    spots = _spots(size, 7)
    n = len(levels)
    brightness = rng.uniform(0.6, 1.3, (n, 1, 1, 1)).astype(np.float32)
    active = (levels[:, None] > np.arange(4)[None, :]).astype(np.float32)  # (n, 4)
    contrast = rng.uniform(LESION_DEPTH / 3, LESION_DEPTH, (n, 1, 1)).astype(np.float32)
    lesion = np.einsum("ng,gyx->nyx", active, spots) * contrast
    jitter = max(1, size // 24)
    for i, (dy, dx) in enumerate(rng.integers(-jitter, jitter + 1, (n, 2))):
        lesion[i] = np.roll(lesion[i], (dy, dx), axis=(0, 1))
    img = disc[None] * brightness - lesion[..., None] * (disc[None] > 0)
    img += rng.normal(0, NOISE, img.shape).astype(np.float32)
    return np.clip(img, 0, 255).astype(np.uint8).reshape(n, -1)


def write_size(out: Path, size: int, count: int, seed: int) -> int:
    items = plan(count, seed)
    target = size_dir(out, size)
    if size_complete(out, size).exists():
        return count
    tmp = out / f"{scratch_prefix()}size={size}"
    tmp.mkdir(parents=True, exist_ok=True)
    for part, start in enumerate(range(0, count, ROWS_PER_FILE)):
        chunk = items[start : start + ROWS_PER_FILE]
        rng = np.random.default_rng([seed, size, part])
        pixels = make_pixels(np.array([i.level for i in chunk]), size, rng)
        rows = [{"image": i.name, "subject": i.subject, "eye": i.eye, "level": i.level,
                 "format": "synthetic"} for i in chunk]  # fmt: skip
        table = pixels_table(label_columns(rows), list(pixels))
        # row groups of ~32 MB: readers hold one group at a time
        group = max(16, (32 << 20) // (size * size * 3))
        pq.write_table(table, tmp / f"part-{part:05d}.parquet", row_group_size=group,
                       **PARQUET_OPTIONS)  # fmt: skip
    (tmp / COMPLETE).touch()
    if target.exists():
        import shutil

        shutil.rmtree(target)
    os.replace(tmp, target)
    return count


def generate(out: Path, count: int, sizes: tuple[int, ...], seed: int) -> dict:
    out.mkdir(parents=True, exist_ok=True)
    for size in sizes:
        write_size(out, size, count, seed)
    items = plan(count, seed)
    counts = {
        "images": count,
        "quarantined": 0,
        "sizes": list(sizes),
        "levels": {g: sum(i.level == g for i in items) for g in range(5)},
        "synthetic": True,
    }
    summary(out).write_text(json.dumps(counts, indent=2) + "\n")
    return counts
