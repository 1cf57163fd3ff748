"""The seed's own question on real eyes: does a larger image predict better? The seed's
model (multinomial logistic regression, blocks solver) at 16, 32, 64, 128 and 256 px on the
6,724 real graded photographs of ../shared/data/eyepacs-256 (Kaggle's proportions), held-out
subjects (the project's subject split, a fifth), with and without class weights; kappa with
a 95 % bootstrap interval over the held-out subjects (both eyes resampled together).

    .venv/bin/python bench/real_sizes.py [--master local[2]] [--resamples 1000]

Each step is the `drc` command a user runs: preprocess once (all five sizes), then
train-lr and predict per size and weighting. Writes bench/results/real_sizes.json.
"""

import argparse
import json
import os
import platform
from pathlib import Path

from common import (  # bench/ is this script's path
    REPO,
    drc,
    held_out_scores,
    read_grades,
    shared_data,
    write_result,
)

from jobs.dataset.labels import parse_image_name
from jobs.dataset.split import DEFAULT_FRACTION, DEFAULT_SEED, is_validation

SIZES = (16, 32, 64, 128, 256)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--master", default="local[2]")
    p.add_argument("--resamples", type=int, default=1000)
    p.add_argument("--out", default=str(REPO / ".cluster/bench/real"))
    args = p.parse_args()
    cluster = ["--master", args.master]
    out = Path(args.out)
    prep = out / "prep"
    real = shared_data("data/eyepacs-256", "the 6,724 real graded photographs (eyepacs-256)")
    prep_s, _ = drc("preprocess", str(real / "images"), str(prep), "--labels",
                    str(real / "trainLabels.csv"), *cluster)  # fmt: skip
    print(f"preprocess: {prep_s:.1f} s", flush=True)
    labels = read_grades(real / "trainLabels.csv")
    held_out = {image: level for image, level in labels.items()
                if is_validation(parse_image_name(image).subject, DEFAULT_FRACTION,
                                 DEFAULT_SEED)}  # fmt: skip
    runs = []
    for size in SIZES:
        for weights in (False, True):
            name = f"lr-{size}-{'weighted' if weights else 'plain'}"
            train_s, _ = drc("train-lr", str(prep), "--size", str(size), "--out",
                             str(out / name), *(["--class-weights"] if weights else []),
                             *cluster)  # fmt: skip
            report = json.loads((out / name / "train-lr-report.json").read_text())
            found = held_out_scores(out / name, prep, held_out, args.resamples)
            run = {"size": size, "class_weights": weights,
                   **{k: found[k] for k in ("kappa", "kappa_95", "held_out")},
                   "report_kappa": round(report["kappa"], 3),
                   "trained": report["n_train"], "train_lr_s": round(train_s, 1),
                   "recall": report.get("recall")}  # fmt: skip
            print(json.dumps(run), flush=True)
            runs.append(run)
    result = {
        "what": "LR (blocks solver) per size on the 6,724 real eyepacs-256 photographs, "
        "subject split (a fifth held out), kappa with a 95 % subject bootstrap",
        "data": "../shared/data/eyepacs-256",
        "preprocess_s": round(prep_s, 1),
        "runs": runs,
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, master {args.master}",
    }
    write_result("real_sizes", result)


if __name__ == "__main__":
    main()
