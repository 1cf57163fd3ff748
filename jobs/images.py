"""Pure image functions: decode at reduced scale, find the eye disc, crop square, resize.

Shared by the Spark job, the CLI and the tests; numpy and Pillow only, no Spark.
"""

import io
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

DEFAULT_SIZES = (16, 32, 64, 128, 256)
MIN_SIDE = 64  # smaller images cannot hold a gradable fundus


class ImageRejected(Exception):
    """An image that goes to the quarantine table instead of the output."""

    def __init__(self, reason: str, detail: str):
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True)
class Disc:
    cx: float
    cy: float
    radius: float


def decode_reduced(data: bytes, min_side: int) -> tuple[np.ndarray, str]:
    """Decode to RGB uint8, letting JPEG's DCT scaling skip detail the output never needs.

    Returns (array HxWx3, source format). `min_side` is the smallest short side to keep.
    """
    if not data:
        raise ImageRejected("empty", "file has 0 bytes")
    try:
        img = Image.open(io.BytesIO(data))
        fmt = img.format or "unknown"
        width, height = img.size
        if min(width, height) < MIN_SIDE:
            raise ImageRejected("too_small", f"{width}x{height} px, need at least {MIN_SIDE}")
        scale = min(width, height) / max(min_side, 1)
        if fmt == "JPEG" and scale > 1:
            img.draft("RGB", (int(width / scale) + 1, int(height / scale) + 1))
        img.load()  # truncated data raises here instead of being grey-filled
        img = ImageOps.exif_transpose(img)
        if img.mode != "RGB":
            img = img.convert("RGB")
    except ImageRejected:
        raise
    except UnidentifiedImageError as exc:
        raise ImageRejected("not_an_image", str(exc)) from exc
    except (OSError, SyntaxError, ValueError) as exc:
        raise ImageRejected("corrupt", str(exc)) from exc
    return np.asarray(img, dtype=np.uint8), fmt


def find_disc(rgb: np.ndarray) -> Disc:
    """Locate the round fundus disc on its dark background.

    The threshold comes from the image itself (its corners are background, even when the
    disc is clipped at top and bottom), so dark and light photographs need no hand tuning.
    """
    bright = rgb.max(axis=2)
    h, w = bright.shape
    k = max(2, min(h, w) // 20)
    corners = np.concatenate(
        [
            bright[:k, :k].ravel(),
            bright[:k, -k:].ravel(),
            bright[-k:, :k].ravel(),
            bright[-k:, -k:].ravel(),
        ]
    )
    background = float(np.median(corners))
    foreground = float(np.percentile(bright, 90))
    if foreground - background < 12:
        raise ImageRejected(
            "no_disc",
            f"no contrast between disc and background (levels {background:.0f}, {foreground:.0f})",
        )
    threshold = background + max(8.0, 0.15 * (foreground - background))
    mask = bright > threshold
    # A row or column belongs to the disc when a real share of it is bright, not a speck.
    cols = np.flatnonzero(mask.sum(axis=0) > 0.02 * h)
    rows = np.flatnonzero(mask.sum(axis=1) > 0.02 * w)
    if cols.size == 0 or rows.size == 0:
        raise ImageRejected("no_disc", "nothing brighter than the background")
    x0, x1, y0, y1 = cols[0], cols[-1] + 1, rows[0], rows[-1] + 1
    radius = max(x1 - x0, y1 - y0) / 2.0
    if radius < 0.2 * min(h, w):
        raise ImageRejected("no_disc", f"bright region too small (radius {radius:.0f} px)")
    cx = (x0 + x1) / 2.0
    clipped_top, clipped_bottom = y0 <= 1, y1 >= h - 1
    if clipped_top and not clipped_bottom:
        cy = y1 - radius
    elif clipped_bottom and not clipped_top:
        cy = y0 + radius
    else:
        cy = (y0 + y1) / 2.0
    return Disc(cx=cx, cy=cy, radius=radius)


def crop_square(rgb: np.ndarray, disc: Disc) -> np.ndarray:
    """Square of side 2*radius centred on the disc, black where the photo is clipped."""
    side = max(1, int(round(2 * disc.radius)))
    left = int(round(disc.cx - side / 2))
    top = int(round(disc.cy - side / 2))
    out = np.zeros((side, side, 3), dtype=np.uint8)
    h, w = rgb.shape[:2]
    sx0, sy0 = max(left, 0), max(top, 0)
    sx1, sy1 = min(left + side, w), min(top + side, h)
    if sx1 > sx0 and sy1 > sy0:
        out[sy0 - top : sy1 - top, sx0 - left : sx1 - left] = rgb[sy0:sy1, sx0:sx1]
    return out


def resize_all(square: np.ndarray, sizes: tuple[int, ...]) -> dict[int, np.ndarray]:
    """Antialiased resizes of one square crop to every requested side, uint8."""
    img = Image.fromarray(square)
    return {
        size: np.asarray(img.resize((size, size), Image.Resampling.LANCZOS), dtype=np.uint8)
        for size in sizes
    }


def preprocess_bytes(data: bytes, sizes: tuple[int, ...]) -> tuple[dict[int, np.ndarray], str]:
    """Bytes of one photograph -> {size: HxWx3 uint8} and the source format."""
    rgb, fmt = decode_reduced(data, max(sizes))
    square = crop_square(rgb, find_disc(rgb))
    return resize_all(square, sizes), fmt
