"""The seed's LR on deep features: `drc features` (the ImageNet backbone on Spark) over the
6,724 real eyepacs-256 photographs, then `drc train-lr` on those features, argmax and
ordinal output, scored on the project's held-out fifth of subjects (the 1,308 eyes of the
README's tables) with a 95 % subject bootstrap.

    .venv/bin/python bench/features.py [--master local[2]] [--views 1] [--float-baseline]

--float-baseline also computes the float32 features in this process and fits the same
scikit-learn model on them and on the stored uint8 codes: what bfloat16 and the code cost.
Writes bench/results/features.json.
"""

import argparse
import json
import os
import platform
from pathlib import Path

import numpy as np
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
from jobs.metrics import fit_thresholds, quadratic_weighted_kappa


def held_out(image: str) -> bool:
    return is_validation(parse_image_name(image).subject, DEFAULT_FRACTION, DEFAULT_SEED)


def float_baseline(prep: Path, feat: Path, size: int, reg: float) -> dict:
    """The same multinomial LR (scikit-learn, expected grade + thresholds) on float32
    features computed here and on the stored codes."""
    import torch
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    from jobs.features.task import backbone, dequantize, forward
    from tests.support.features import read_rows

    images, coded = read_rows(prep, size), read_rows(feat, size)
    names = sorted(n for n in images if images[n][0] is not None)
    torch.set_num_threads(os.cpu_count())
    net = backbone("efficientnet-lite0", "avgmax")
    exact = np.concatenate([
        forward(net, np.stack([np.frombuffer(images[n][1], np.uint8) for n in names[i:i + 64]])
                .reshape(-1, size, size, 3), 1, bf16=False)
        for i in range(0, len(names), 64)])  # fmt: skip
    codes = np.stack([dequantize(np.frombuffer(coded[n][1], np.uint8)) for n in names])
    y = np.array([images[n][0] for n in names])
    test = np.array([held_out(n) for n in names])
    out = {}
    for label, x in (("float32", exact), ("stored_uint8_bfloat16", codes)):
        scale = StandardScaler().fit(x[~test])
        model = LogisticRegression(C=1 / (reg * len(y[~test])), max_iter=300)
        model.fit(scale.transform(x[~test]), y[~test])

        def expected(rows, model=model, scale=scale):
            return model.predict_proba(scale.transform(rows)) @ np.arange(5)

        cuts = fit_thresholds(expected(x[~test]), y[~test])
        out[label] = round(quadratic_weighted_kappa(y[test], np.digitize(expected(x[test]),
                                                                         cuts)), 3)  # fmt: skip
    rel = np.linalg.norm(codes - exact, axis=1) / np.maximum(np.linalg.norm(exact, axis=1), 1e-9)
    out["relative_error_median_max"] = [round(float(np.median(rel)), 4), round(float(rel.max()), 4)]
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--master", default="local[2]")
    p.add_argument("--size", type=int, default=256)
    p.add_argument("--views", type=int, default=1)
    p.add_argument("--regs", default="0.003,0.01,0.03")
    p.add_argument("--resamples", type=int, default=1000)
    p.add_argument("--float-baseline", action="store_true")
    p.add_argument("--out", default=str(REPO / ".cluster/bench/real"))
    args = p.parse_args()
    cluster, size = ["--master", args.master], str(args.size)
    out = Path(args.out)
    prep, feat = out / "prep", out / f"features-{args.size}-v{args.views}"
    real = shared_data("data/eyepacs-256", "the 6,724 real graded photographs (eyepacs-256)")
    prep_s, _ = drc("preprocess", str(real / "images"), str(prep), "--labels",
                    str(real / "trainLabels.csv"), "--sizes", size, *cluster)  # fmt: skip
    feat_s, said = drc("features", str(prep), "--out", str(feat), "--size", size,
                       "--views", str(args.views), *cluster)  # fmt: skip
    print(said.strip().splitlines()[-1], flush=True)
    extraction = json.loads((feat / "features-report.json").read_text())
    labels = read_grades(real / "trainLabels.csv")
    truth_all = {i: g for i, g in labels.items() if held_out(i)}
    runs = []
    for reg in [float(r) for r in args.regs.split(",")]:
        for output in ("argmax", "ordinal"):
            name = f"lr-{output}-{reg}"
            train_s, _ = drc("train-lr", str(feat), "--size", size, "--out", str(feat / name),
                             "--reg", str(reg), "--output", output, *cluster)  # fmt: skip
            report = json.loads((feat / name / "train-lr-report.json").read_text())
            run = {"reg": reg, "output": output,
                   **held_out_scores(feat / name, feat, truth_all, args.resamples),
                   "argmax_kappa_same_model": report.get("argmax_kappa"),
                   "trained": report["n_train"], "train_lr_s": round(train_s, 1),
                   "load_to_kappa_s": round(report["load_to_kappa_s"], 1)}  # fmt: skip
            print(json.dumps({k: run[k] for k in ("reg", "output", "kappa", "kappa_95")}),
                  flush=True)  # fmt: skip
            runs.append(run)
    result = {
        "what": "the seed's LR (blocks solver on Spark) on EfficientNet-Lite0 ImageNet features "
        f"(avg+max pooled, {args.views} view(s)) of the 6,724 eyepacs-256 photographs at "
        f"{args.size} px; held out: the project's subject split (a fifth), 95 % subject bootstrap",
        "preprocess_s": round(prep_s, 1),
        "features_s": round(feat_s, 1),
        "features": {
            k: extraction[k]
            for k in ("images", "seconds", "images_per_s", "cores", "features", "settings")
        },  # fmt: skip
        "images_per_s_per_core": round(extraction["images_per_s"] / extraction["cores"], 2),
        "runs": runs,
        "best": max(runs, key=lambda r: r["kappa"]),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, master {args.master}",
    }
    if args.float_baseline:
        result["float_baseline"] = float_baseline(prep, feat, args.size, result["best"]["reg"])
    write_result(f"features-{args.size}-v{args.views}", result)


if __name__ == "__main__":
    main()
