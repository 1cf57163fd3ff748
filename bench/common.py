"""What the bench scripts share: a `drc` command run as a user runs it, timed, and a result
file written to bench/results/. bench/ is each script's own path: `from common import ...`."""

import json
import os
import subprocess
import time
from pathlib import Path

from jobs.dataset.shared import shared_root

REPO = Path(__file__).resolve().parent.parent
DRC = str(REPO / ".venv/bin/drc")
RESULTS = REPO / "bench" / "results"


def drc(*args: str, env: dict | None = None) -> tuple[float, str]:
    """(seconds, stdout) of `drc ARGS`; a failure stops the bench with drc's own words."""
    start = time.perf_counter()
    proc = subprocess.run([DRC, *args], capture_output=True, text=True, check=False,
                          env={**os.environ, **(env or {})})  # fmt: skip
    if proc.returncode != 0:
        raise SystemExit(f"drc {' '.join(args)}: {proc.stdout[-3000:]}{proc.stderr[-3000:]}")
    return time.perf_counter() - start, proc.stdout


def kaggle_names(photos: list[tuple[Path, int]], count: int, out: Path) -> Path:
    """OUT with COUNT distinct Kaggle names (NNNNNN_left/right) hard-linked over PHOTOS
    ((photograph, grade), cycled), and their trainLabels.csv."""
    out.mkdir(parents=True)
    rows = ["image,level"]
    for i in range(count):
        photo, level = photos[i % len(photos)]
        name = f"{100000 + i // 2}_{'left' if i % 2 == 0 else 'right'}"
        os.link(photo, out / f"{name}.jpeg")
        rows.append(f"{name},{level}")
    (out / "trainLabels.csv").write_text("\n".join(rows) + "\n")
    return out


def shared_data(rel: str, what: str) -> Path:
    """SHARED/REL (../shared or $DRC_SHARED), or the bench stopped in one line naming it."""
    path = shared_root() / rel
    if not path.exists():
        raise SystemExit(f"{path} absent: this bench needs {what} (../shared beside the project, "
                         "or $DRC_SHARED)")  # fmt: skip
    return path


def read_grades(path: Path) -> dict[str, int]:
    """image -> level of a Kaggle-format CSV (labels, or `drc predict`'s submission)."""
    import csv

    with path.open() as handle:
        return {row["image"]: int(row["level"]) for row in csv.DictReader(handle)}


def held_out_scores(model_dir: Path, data: Path, held_out: dict[str, int],
                    resamples: int) -> dict:  # fmt: skip
    """`drc predict` of MODEL_DIR/model.npz over DATA, scored on the held-out eyes: kappa
    with its 95 % subject bootstrap, recall and confusion."""
    from jobs.metrics import bootstrap_kappa, scores

    predictions = model_dir.with_suffix(".csv")
    drc("predict", str(model_dir / "model.npz"), str(data), "--out", str(predictions))
    pred = read_grades(predictions)
    truth = {i: g for i, g in held_out.items() if i in pred}
    found = scores(list(truth.values()), [pred[i] for i in truth])
    low, high = bootstrap_kappa(truth, pred, resamples)
    return {"kappa": round(found["kappa"], 3), "kappa_95": [round(low, 3), round(high, 3)],
            "held_out": len(truth), "recall": found["recall"],
            "confusion": found["confusion"]}  # fmt: skip


def write_result(name: str, result: dict) -> Path:
    """bench/results/NAME.json, and the same on stdout."""
    text = json.dumps(result, indent=2) + "\n"
    target = RESULTS / f"{name}.json"
    target.write_text(text)
    print(text, end="")
    return target
