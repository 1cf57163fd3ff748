"""Kaggle submission from a trained blocks model: `image,level` for every image."""

import csv
from pathlib import Path

import numpy as np
import pyarrow.dataset as ds

from jobs import lr_math
from jobs.errors import DrcError


def write_submission(model_path: Path, data: Path, out: Path) -> int:
    if not model_path.is_file():
        raise DrcError(model_path, "no model here: run `drc train-lr` first")
    model = np.load(model_path)
    size = int(model["size"])
    source = data / f"size={size}"
    if not source.is_dir():
        raise DrcError(source, f"the model is for {size} px; no Parquet of that size here")
    n = 0
    tmp = out.with_name(out.name + ".partial")
    with tmp.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["image", "level"])
        # batch by batch: a whole size is 6.9 GB at 256 px for the Kaggle training set
        for batch in ds.dataset(source, format="parquet").to_batches(
            columns=["image", "pixels"], batch_size=256
        ):
            images = batch.column("image").to_pylist()
            x = np.stack([np.frombuffer(p, np.uint8) for p in batch.column("pixels").to_pylist()])
            writer.writerows(zip(images, lr_math.predict(x, model["w_raw"], model["b_raw"]),
                                 strict=True))  # fmt: skip
            n += len(images)
    tmp.replace(out)
    return n
