"""Multinomial logistic regression on uint8 pixel blocks: the numpy kernel.

Pure functions shared by the Spark solver (one call per block, per iteration) and the
single-machine numpy baseline. Standardisation is folded into the weights, so the pixels
stay uint8 and each iteration is one pass over them (converted 64 rows at a time).
"""

from dataclasses import dataclass

import numpy as np

N_CLASSES = 5
CHUNK_ROWS = 16  # float32 copies of 16 rows stay in cache: measured fastest of 8-1024


@dataclass
class Stats:
    """Per-feature mean and standard deviation of the training pixels."""

    mean: np.ndarray
    std: np.ndarray

    @classmethod
    def identity(cls, d: int) -> "Stats":
        return cls(np.zeros(d), np.ones(d))


def feature_sums(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    """Sum and sum of squares per feature of a uint8 block, for the mean and std."""
    s = np.zeros(x.shape[1])
    sq = np.zeros(x.shape[1])
    for r in range(0, len(x), CHUNK_ROWS):
        c = x[r : r + CHUNK_ROWS].astype(np.float64)
        s += c.sum(0)
        sq += (c * c).sum(0)
    return s, sq, len(x)


def stats_from_sums(s: np.ndarray, sq: np.ndarray, n: int) -> Stats:
    mean = s / n
    std = np.sqrt(np.maximum(sq / n - mean**2, 0.0))
    return Stats(mean, np.where(std > 1e-6, std, 1.0))


def raw_weights(w: np.ndarray, b: np.ndarray, stats: Stats) -> tuple[np.ndarray, np.ndarray]:
    """Weights in standardised space -> the same model on raw uint8 pixels (float32)."""
    w_raw = w / stats.std[:, None]
    b_raw = b - stats.mean @ w_raw
    return w_raw.astype(np.float32), b_raw.astype(np.float32)


def block_gradient(
    x: np.ndarray, y: np.ndarray, sample_weight: np.ndarray, w_raw: np.ndarray, b_raw: np.ndarray
) -> tuple[float, np.ndarray, np.ndarray]:
    """Weighted cross-entropy of one block, and its gradient on raw pixels.

    Returns (loss sum, X^T D, sum D) with D = weight * (softmax - onehot): the driver maps
    them back to standardised space, so no block ever holds a standardised copy.
    """
    loss = 0.0
    gx = np.zeros_like(w_raw)
    gs = np.zeros(w_raw.shape[1], dtype=np.float64)
    for r in range(0, len(x), CHUNK_ROWS):
        xc = x[r : r + CHUNK_ROWS].astype(np.float32)
        logits = xc @ w_raw + b_raw
        logits -= logits.max(axis=1, keepdims=True)
        expd = np.exp(logits)
        total = expd.sum(axis=1, keepdims=True)
        yc, wc = y[r : r + CHUNK_ROWS], sample_weight[r : r + CHUNK_ROWS]
        rows = np.arange(len(yc))
        loss += float(-(wc * (logits[rows, yc] - np.log(total[:, 0]))).sum())
        d = expd / total
        d[rows, yc] -= 1.0
        d *= wc[:, None]
        gx += xc.T @ d
        gs += d.sum(axis=0)
    return loss, gx, gs


def objective(
    loss: float, gx: np.ndarray, gs: np.ndarray, n_weight: float, w: np.ndarray, stats: Stats,
    reg: float,
) -> tuple[float, np.ndarray, np.ndarray]:  # fmt: skip
    """Mean loss + L2 penalty and its gradient in standardised space."""
    grad_w = (gx - stats.mean[:, None] * gs[None, :]) / stats.std[:, None] / n_weight + reg * w
    grad_b = gs / n_weight
    value = loss / n_weight + 0.5 * reg * float((w * w).sum())
    return value, grad_w, grad_b


def predict(x: np.ndarray, w_raw: np.ndarray, b_raw: np.ndarray) -> np.ndarray:
    out = np.empty(len(x), dtype=np.int64)
    for r in range(0, len(x), CHUNK_ROWS):
        out[r : r + CHUNK_ROWS] = (x[r : r + CHUNK_ROWS].astype(np.float32) @ w_raw + b_raw).argmax(
            1
        )
    return out


def class_weights(y: np.ndarray) -> np.ndarray:
    """n / (k * count_k): every grade weighs the same in total, as sklearn's 'balanced'."""
    return class_weights_from_counts(np.bincount(y, minlength=N_CLASSES))


def class_weights_from_counts(counts) -> np.ndarray:
    counts = np.asarray(counts, dtype=np.float64)
    present = counts > 0
    weights = np.zeros(N_CLASSES)
    weights[present] = counts.sum() / (present.sum() * counts[present])
    return weights
