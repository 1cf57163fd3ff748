"""Synthetic fundus photographs in Kaggle's layout, for scale tests and benchmarks.

The 35,126 real images are not available here, so this draws look-alikes: a dark
background, a round disc clipped at top and bottom, an optic disc, a vessel tree, and
lesions whose number and kind grow with the grade. Everything follows from the seed.
"""

import csv
import functools
import io
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

# Kaggle's training balance: 25,810 / 2,443 / 5,292 / 873 / 708 of 35,126.
GRADE_SHARE = np.array([25810, 2443, 5292, 873, 708]) / 35126
DRAW_SCALE = 4  # draw at 1/4 size, then upscale: detail beyond that is noise anyway
# Calibrated so the mean file size matches Kaggle's training set (33 GB / 35,126 = 0.94 MB).
GRAIN_SIGMA = 3.6
NOISE_MARGIN = 64


@dataclass(frozen=True)
class SynthImage:
    name: str
    subject: int
    eye: str
    level: int
    seed: int


def plan(count: int, seed: int, balanced: bool = False) -> list[SynthImage]:
    """Subjects with both eyes; the two eyes of a subject have the same or a near grade.
    Kaggle's grade balance, or equal shares (`balanced`) for small CNN tests."""
    rng = np.random.default_rng(seed)
    share = np.full(5, 0.2) if balanced else GRADE_SHARE
    images = []
    subject = 10
    while len(images) < count:
        base = int(rng.choice(5, p=share))
        for eye in ("left", "right"):
            if len(images) == count:
                break
            # the other eye mostly shares the grade; redrawing (not +-1) keeps the balance
            level = base if rng.random() < 0.85 else int(rng.choice(5, p=share))
            images.append(
                SynthImage(f"{subject}_{eye}", subject, eye, level, int(rng.integers(2**31)))
            )
        subject += 1 + int(rng.integers(0, 3))  # Kaggle's ids have gaps
    return images


def _vessels(draw: ImageDraw.ImageDraw, rng, start, angle, length, width, colour, depth):
    """A branching vessel: a wobbly line that splits into two thinner ones."""
    x, y = start
    steps = 8
    for _ in range(steps):
        angle += rng.normal(0, 0.25)
        nx = x + math.cos(angle) * length / steps
        ny = y + math.sin(angle) * length / steps
        draw.line([(x, y), (nx, ny)], fill=colour, width=max(1, int(width)))
        x, y = nx, ny
    if depth > 0:
        for turn in (-0.5, 0.5):
            _vessels(
                draw,
                rng,
                (x, y),
                angle + turn + rng.normal(0, 0.2),
                length * 0.7,
                width * 0.7,
                colour,
                depth - 1,
            )


def draw_fundus(item: SynthImage, width: int, height: int) -> Image.Image:
    rng = np.random.default_rng(item.seed)
    w, h = width // DRAW_SCALE, height // DRAW_SCALE
    bg = int(rng.integers(0, 25))
    radius = h * rng.uniform(0.5, 0.62)  # > h/2: clipped at top and bottom, like Kaggle
    cx = w / 2 + rng.normal(0, w * 0.02)
    cy = h / 2 + rng.normal(0, h * 0.02)
    brightness = rng.uniform(0.55, 1.25)
    base = np.array([200, 95, 45]) * brightness * rng.uniform(0.85, 1.15, 3)
    fundus = tuple(int(c) for c in np.clip(base, 0, 255))
    # The retina is drawn on its own layer, rotated, then shown through the round aperture.
    img = Image.new("RGB", (w, h), fundus)
    draw = ImageDraw.Draw(img)

    # optic disc on the nasal side: right of centre for a left eye, left for a right eye
    side = 1 if item.eye == "left" else -1
    ox, oy = cx + side * radius * rng.uniform(0.3, 0.45), cy + rng.normal(0, radius * 0.05)
    orad = radius * rng.uniform(0.08, 0.11)
    draw.ellipse(
        [ox - orad, oy - orad * 1.1, ox + orad, oy + orad * 1.1],
        fill=tuple(int(min(255, c * 1.5 + 60)) for c in fundus),
    )
    vessel = tuple(int(c * 0.55) for c in fundus)
    for k in range(4):
        angle = (k / 4) * 2 * math.pi + rng.normal(0, 0.3)
        _vessels(draw, rng, (ox, oy), angle, radius * 0.5, max(2, w / 300), vessel, 3)

    # lesions: microaneurysms (1+), haemorrhages (2+), exudates (2+), new vessels (4)
    def spots(n, size, colour):
        for _ in range(n):
            r_, t_ = radius * 0.85 * math.sqrt(rng.random()), rng.random() * 2 * math.pi
            x, y = cx + r_ * math.cos(t_), cy + r_ * math.sin(t_)
            s = size * rng.uniform(0.6, 1.4)
            draw.ellipse([x - s, y - s, x + s, y + s], fill=colour)

    level = item.level
    dark = tuple(int(c * 0.35) for c in fundus)
    spots([0, 6, 15, 30, 40][level] + int(rng.integers(0, 4)) * (level > 0), w / 500, dark)
    spots([0, 0, 6, 15, 20][level], w / 150, dark)
    spots([0, 0, 8, 20, 25][level], w / 250, (235, 220, 120))
    if level == 4:
        for _ in range(3):
            _vessels(
                draw,
                rng,
                (cx + rng.normal(0, radius / 3), cy + rng.normal(0, radius / 3)),
                rng.random() * 6.28,
                radius * 0.15,
                1,
                vessel,
                4,
            )

    img = img.rotate(rng.normal(0, 8), center=(cx, cy), fillcolor=fundus)
    # darker towards the rim, as a fundus camera's illumination falls off
    yy, xx = np.mgrid[:h, :w]
    dist = np.hypot(xx - cx, yy - cy) / radius
    shade = np.clip(1.08 - 0.35 * dist**2, 0, None)[..., None]
    retina = np.asarray(img, dtype=np.float32) * shade
    out = np.where((dist <= 1)[..., None], np.clip(retina, 0, 255), bg).astype(np.uint8)
    small = Image.fromarray(out).filter(ImageFilter.GaussianBlur(0.6))
    full = np.asarray(small.resize((width, height), Image.Resampling.BILINEAR), dtype=np.int16)
    # sensor grain: what makes real photographs 1-2 MB and their decoding realistic work
    dy, dx = (int(v) for v in rng.integers(0, NOISE_MARGIN, 2))
    grain = _grain(width, height)[dy : dy + height, dx : dx + width]
    return Image.fromarray(np.clip(full + grain, 0, 255).astype(np.uint8))


@functools.lru_cache(maxsize=2)
def _grain(width: int, height: int) -> np.ndarray:
    """One noise field per process, shifted per image: cheap and still different each time."""
    rng = np.random.default_rng(0)
    shape = (height + NOISE_MARGIN, width + NOISE_MARGIN, 3)
    return rng.normal(0, GRAIN_SIGMA, shape).astype(np.int16)


def encode_jpeg(img: Image.Image, quality: int = 88) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format="JPEG", quality=quality)
    return buf.getvalue()


def write_image(item: SynthImage, out: Path, width: int, height: int) -> Path:
    """Written to a temporary name and renamed, so a killed run never leaves half a JPEG."""
    target = out / f"{item.name}.jpeg"
    if target.exists():
        return target
    tmp = out / f".{item.name}.jpeg.partial"
    tmp.write_bytes(encode_jpeg(draw_fundus(item, width, height)))
    tmp.replace(target)
    return target


def write_labels(items: list[SynthImage], out: Path) -> Path:
    path = out / "trainLabels.csv"
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["image", "level"])
        writer.writerows((i.name, i.level) for i in items)
    return path


def _write_one(args: tuple[SynthImage, Path, int, int]) -> None:
    write_image(*args)


def generate(
    out: Path, count: int, width: int, height: int, seed: int, workers: int, balanced=False
) -> int:
    """Write `count` images and trainLabels.csv; images already there are kept (resumable)."""
    from concurrent.futures import ProcessPoolExecutor

    out.mkdir(parents=True, exist_ok=True)
    items = plan(count, seed, balanced)
    jobs = [(item, out, width, height) for item in items]
    if workers <= 1:
        for job in jobs:
            _write_one(job)
    else:
        with ProcessPoolExecutor(workers) as pool:
            list(pool.map(_write_one, jobs, chunksize=8))
    write_labels(items, out)
    return len(items)
