"""Multinomial logistic regression on uint8 pixel blocks: the kernels.

Pure functions shared by the Spark solver (one call per block, per iteration) and the
single-machine numpy baseline. Standardisation is folded into the weights, so the pixels
stay uint8 and each iteration is one pass over them. Two kernels compute the same
gradient: `block_gradient` (numpy, 16-row float32 chunks; the reference) and
`fused_gradient` (numba: four rows a pass, converted in registers; 3x faster here).
"""

from dataclasses import dataclass
from functools import cache

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


def _fused_rows(x, y, sample_weight, w_t, b, gx_t, gs):  # pragma: no cover - compiled
    # Four rows at a time: one read of each weight row serves 4 dot products, one
    # read-modify-write of each gradient row takes 4 rows' updates, and x stays uint8,
    # converted in registers (the numpy kernel's float32 copies were half its traffic).
    # A short last group repeats its last row with a zero error, adding nothing.
    n, d = x.shape
    k = w_t.shape[0]
    logit = np.empty((4, k), np.float64)
    err = np.zeros((4, k), np.float32)
    loss = 0.0
    for i0 in range(0, n, 4):
        m = min(4, n - i0)
        x0, x1, x2, x3 = x[i0], x[i0 + min(1, m - 1)], x[i0 + min(2, m - 1)], x[i0 + m - 1]
        for c in range(k):
            a0 = a1 = a2 = a3 = np.float32(0.0)
            wc = w_t[c]
            for j in range(d):
                a0 += np.float32(x0[j]) * wc[j]
                a1 += np.float32(x1[j]) * wc[j]
                a2 += np.float32(x2[j]) * wc[j]
                a3 += np.float32(x3[j]) * wc[j]
            logit[0, c], logit[1, c] = a0 + b[c], a1 + b[c]
            logit[2, c], logit[3, c] = a2 + b[c], a3 + b[c]
        for r in range(4):
            err[r, :] = 0.0
            if r >= m:
                continue
            label, weight = y[i0 + r], sample_weight[i0 + r]
            top = logit[r].max()
            # the label's log-probability from its logit, not from exp(): a logit ~745
            # below the top underflows to 0 there, and log(0) made the loss infinite (the
            # first L-BFGS step on 256 px real photographs did, and the solver stopped)
            shifted = logit[r, label] - top
            total = 0.0
            for c in range(k):
                logit[r, c] = np.exp(logit[r, c] - top)
                total += logit[r, c]
            loss -= weight * (shifted - np.log(total))
            for c in range(k):
                dc = weight * (logit[r, c] / total - (1.0 if c == label else 0.0))
                gs[c] += dc
                err[r, c] = dc
        for c in range(k):
            e0, e1, e2, e3 = err[0, c], err[1, c], err[2, c], err[3, c]
            gc = gx_t[c]
            for j in range(d):
                gc[j] += (np.float32(x0[j]) * e0 + np.float32(x1[j]) * e1
                          + np.float32(x2[j]) * e2 + np.float32(x3[j]) * e3)  # fmt: skip
    return loss


@cache
def _fused_rows_compiled():
    """`_fused_rows` compiled by numba, on first use: importing numba costs ~0.2 s, which
    every Spark driver and the CLI would otherwise pay for a kernel only train-lr runs."""
    import numba

    return numba.njit(fastmath=True, cache=True, nogil=True)(_fused_rows)


def fused_gradient(
    x: np.ndarray, y: np.ndarray, sample_weight: np.ndarray, w_raw: np.ndarray, b_raw: np.ndarray
) -> tuple[float, np.ndarray, np.ndarray]:
    """`block_gradient`'s result from one fused pass (float32 sums within a block)."""
    w_t = np.ascontiguousarray(w_raw.T, dtype=np.float32)
    gx_t = np.zeros_like(w_t)
    gs = np.zeros(w_raw.shape[1], dtype=np.float64)
    loss = _fused_rows_compiled()(np.ascontiguousarray(x), np.ascontiguousarray(y, dtype=np.int64),
                       np.ascontiguousarray(sample_weight, dtype=np.float64), w_t,
                       b_raw.astype(np.float64), gx_t, gs)  # fmt: skip
    return float(loss), gx_t.T.astype(np.float64), gs


KERNELS = {"numpy": block_gradient, "fused": fused_gradient}


def objective(
    loss: float, gx: np.ndarray, gs: np.ndarray, n_weight: float, w: np.ndarray, stats: Stats,
    reg: float,
) -> tuple[float, np.ndarray, np.ndarray]:  # fmt: skip
    """Mean loss + L2 penalty and its gradient in standardised space."""
    grad_w = (gx - stats.mean[:, None] * gs[None, :]) / stats.std[:, None] / n_weight + reg * w
    grad_b = gs / n_weight
    value = loss / n_weight + 0.5 * reg * float((w * w).sum())
    return value, grad_w, grad_b


def expected_grade(x: np.ndarray, w_raw: np.ndarray, b_raw: np.ndarray) -> np.ndarray:
    """The mean grade under the model's probabilities: one ordered score per row, which
    fitted cut points turn into grades (LR's ordinal output)."""
    out = np.empty(len(x), dtype=np.float64)
    grades = np.arange(w_raw.shape[1], dtype=np.float64)
    for r in range(0, len(x), CHUNK_ROWS):
        logits = x[r : r + CHUNK_ROWS].astype(np.float32) @ w_raw + b_raw
        logits -= logits.max(1, keepdims=True)
        p = np.exp(logits)
        out[r : r + CHUNK_ROWS] = (p @ grades) / p.sum(1)
    return out


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
