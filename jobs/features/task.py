"""One features task, no Spark: a preprocess Parquet file in, the backbone's pooled
features of its images out, in the preprocess schema (so train-lr's blocks, kernels and
`drc predict` read them as they read pixels). Runs in the executors' Python workers; the
backbone is loaded once per worker process and kept for its later tasks."""

from collections.abc import Iterator

import numpy as np
import pyarrow.parquet as pq

from jobs.dataset import fs
from jobs.dataset.layout import attempt_scratch, size_part
from jobs.dataset.parquet import PARQUET_OPTIONS, PIXELS_SCHEMA, label_columns, pixels_table
from jobs.errors import DrcError

# The head's activations are ReLU6's, in [0, 6]: stored as uint8 at 6/255 a step, and so
# are their average and maximum. Measured on real eyes: the LR's held-out kappa on these
# is the float features' within its noise (bench/features.py).
FEATURE_MAX = 6.0
FORMAT = "features"  # the `format` column: what the "pixels" of a row are


def quantize(features: np.ndarray) -> np.ndarray:
    scaled = np.rint(np.clip(features, 0.0, FEATURE_MAX) * (255.0 / FEATURE_MAX))
    return scaled.astype(np.uint8)


def dequantize(codes: np.ndarray) -> np.ndarray:
    return codes.astype(np.float32) * (FEATURE_MAX / 255.0)


_MODELS: dict = {}  # (model, pooling) -> the backbone, once per Python worker


def backbone(model: str, pooling: str):
    try:
        import torch

        from jobs.cnn import efficientnet
    except ImportError as exc:  # a node outside the inventory's cnn_workers group
        import socket

        raise DrcError(socket.gethostname(), f"no {exc.name} in this node's venv: drc features "
                                             "runs the backbone on every worker; put the "
                                             "workers in cnn_workers (start_cluster.yml -e "
                                             "cnn_nodes=all)") from None  # fmt: skip

    key = (model, pooling)
    if key not in _MODELS:
        net = efficientnet.pretrained(model, 1000, pooling)
        _MODELS[key] = net.eval().to(memory_format=torch.channels_last)
    return _MODELS[key]


def forward(net, pixels: np.ndarray, views: int, bf16: bool) -> np.ndarray:
    """Pooled features (float32, n x F) of uint8 NHWC pixels: the mean over `views` of
    the 8 symmetries of the square."""
    import torch

    from jobs.cnn.data import to_input
    from jobs.cnn.train import autocast

    x = to_input(torch.from_numpy(pixels), torch.device("cpu"))
    total = None
    with torch.no_grad(), autocast(torch.device("cpu"), bf16):
        for k in range(views):
            view = torch.rot90(x, k % 4, dims=(2, 3))
            view = view.flip(3) if k >= 4 else view
            out = net.features(view).float()
            total = out if total is None else total + out
    return (total / views).numpy()


def features_file(source: str, root: str, part: int, size: int, cfg: dict,
                  done=None) -> Iterator[int]:  # fmt: skip
    """Body of one task: SOURCE (a preprocess Parquet file) -> ROOT/size=N/part-P.parquet,
    renamed into place when whole (a retried task overwrites its own file). Yields the
    number of images."""
    import torch

    from jobs.cnn.train import use_bf16

    torch.set_num_threads(cfg["threads"])
    net = backbone(cfg["model"], cfg["pooling"])
    bf16 = use_bf16(cfg["precision"], torch.device("cpu"), cfg["model"])
    final = size_part(root, size, part)
    fs.makedirs(fs.parent(final))
    partial = attempt_scratch(final)
    handle = fs.open_write(partial) if fs.is_remote(partial) else None
    writer = pq.ParquetWriter(handle or partial, PIXELS_SCHEMA, **PARQUET_OPTIONS)
    count = 0
    side = size
    with fs.open_read(source) as reader:
        parquet = pq.ParquetFile(reader)
        names = ["image", "subject", "eye", "level", "pixels"]
        for batch in parquet.iter_batches(batch_size=cfg["batch_size"], columns=names):
            rows = batch.to_pydict()
            pixels = [np.frombuffer(p, np.uint8) for p in rows.pop("pixels")]
            wrong = [i for i, p in zip(rows["image"], pixels, strict=True)
                     if p.size != side * side * 3]  # fmt: skip
            if wrong:
                raise DrcError(source, f"{wrong[0]} is not {side}x{side}x3 pixels: not a "
                                       f"size={side} preprocess output")  # fmt: skip
            pixels = np.stack(pixels)
            feats = quantize(forward(net, pixels.reshape(-1, side, side, 3), cfg["views"],
                                     bf16))  # fmt: skip
            idents = [{"image": i, "subject": s, "eye": e, "level": lv, "format": FORMAT}
                      for i, s, e, lv in zip(rows["image"], rows["subject"], rows["eye"],
                                             rows["level"], strict=True)]  # fmt: skip
            writer.write_table(pixels_table(label_columns(idents), feats))
            count += len(idents)
            if done is not None:
                done.add(len(idents))
    writer.close()
    if handle is not None:
        handle.close()
    fs.replace(partial, final)
    yield count
