"""Small CNN data sets: synthetic fundus JPEGs (drc synth's generator, equal grade shares)
through the preprocess job's own task body, in this process (no cluster needed)."""

from pathlib import Path

from jobs.dataset.labels import read_labels
from jobs.dataset.synth_images import generate
from jobs.preprocess.task import preprocess_partition


def synthetic_parquet(root: Path, count: int, sizes=(64,), parts: int = 4) -> Path:
    raw, out = root / "raw", root / "prep"
    if (out / f"size={sizes[0]}").is_dir():
        return out
    generate(raw, count, 480, 320, seed=7, workers=2, balanced=True)
    levels = read_labels(raw / "trainLabels.csv")
    paths = sorted(str(p) for p in raw.glob("*.jpeg"))
    for part in range(parts):
        bad = list(preprocess_partition(part, paths[part::parts], str(out), sizes, levels))
        assert not bad, bad
    return out
