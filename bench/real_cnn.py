"""The CNN on real eyes, and the shipped grader. Trains on four fifths of the subjects of
../shared/data/eyepacs-256 (6,724 real graded photographs; train-cnn splits off its own
validation fifth for early stopping and thresholds) and grades the other fifth: the same
1,308 held-out eyes as bench/real_sizes.py's LR table. Held-out kappa plain, with the 8-view
test-time augmentation, and with the fellow-eye blend (weight chosen on validation), with a
95 % subject bootstrap; for --task binary04, accuracy and ROC AUC on grades 0 and 4.

    .venv/bin/python bench/real_cnn.py --model drnet-small --task ordinal --size 128
    make grader   # the shipped model: these settings and --ship

--ship writes models/grader/ (bfloat16 weights when they give the same held-out kappa at
3 decimals, else float32; report.json; curve.png) and grades the held-out photographs'
JPEG files again through `drc grade`, the path raw photographs take (disc crop,
equalize, TTA, blend).
Writes bench/results/real_cnn-MODEL-TASK-SIZE.json.
"""

import argparse
import json
import os
import platform
import shutil
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import torch
from common import REPO, drc, shared_data, write_result  # bench/ is this script's path

from jobs.cnn.grader import GraderSpec, export
from jobs.cnn.grader import load as load_grader
from jobs.cnn.predict import blend_eyes, load_model, score_parquet
from jobs.cnn.tasks import make_task
from jobs.dataset import layout
from jobs.dataset.labels import parse_image_name, read_labels
from jobs.dataset.split import DEFAULT_FRACTION, DEFAULT_SEED, held_out
from jobs.metrics import bootstrap_kappa, fit_thresholds, quadratic_weighted_kappa, scores

REAL = shared_data("data/eyepacs-256", "the 6,724 real graded photographs (eyepacs-256)")
RAW = shared_data("data/kaggle-sample", "the 4 raw Kaggle photographs")
SHIPPED = REPO / "models/grader"
TRAIN_SEED = 7  # train-cnn's own validation split: independent of the held-out one (42)
BLENDS = (0.0, 0.25, 0.5)


def split_prep(prep: Path, size: int, work: Path) -> None:
    """work/{train,test}/size=N/ from the preprocess output, by held-out subject."""
    if (work / "test" / f"size={size}" / "_SUCCESS").exists():
        return
    for part in ("train", "test"):
        shutil.rmtree(work / part / f"size={size}", ignore_errors=True)
        (work / part / f"size={size}").mkdir(parents=True)
    for path in sorted(layout.size_dir(prep, size).glob("*.parquet")):
        table = pq.read_table(path)
        mask = np.array([held_out(s) for s in table.column("subject").to_pylist()])
        for part, keep in (("test", mask), ("train", ~mask)):
            rows = table.filter(pa.array(keep))
            if rows.num_rows:
                pq.write_table(rows, work / part / f"size={size}" / path.name, row_group_size=32)
    (work / "test" / f"size={size}" / "_SUCCESS").write_text("")


def choose(task, val_levels, val_scores, val_names) -> tuple[float, list[float]]:
    """The blend weight and thresholds that give the best kappa on validation."""
    best = (-2.0, 0.0, None)
    for weight in BLENDS:
        blended = blend_eyes(val_names, val_scores, weight)
        cuts = fit_thresholds(blended, val_levels)
        kappa = quadratic_weighted_kappa(val_levels, task.grades(blended, cuts))
        best = max(best, (kappa, weight, cuts), key=lambda b: b[0])
    return best[1], best[2]


def binary_scores(truth: dict, names: list[str], probs: np.ndarray) -> dict:
    from sklearn.metrics import roc_auc_score

    pairs = [(truth[n] == 4, p) for n, p in zip(names, probs, strict=True) if truth[n] in (0, 4)]
    y, p = np.array([a for a, _ in pairs]), np.array([b for _, b in pairs])
    return {"eyes": len(y), "grade4": int(y.sum()), "accuracy": float(((p >= 0.5) == y).mean()),
            "balanced_accuracy": float(((p[y] >= 0.5).mean() + (p[~y] < 0.5).mean()) / 2),
            "auc": float(roc_auc_score(y, p))}  # fmt: skip


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", default="drnet-small")
    p.add_argument("--task", default="ordinal")
    p.add_argument("--size", type=int, default=128)
    p.add_argument("--epochs", type=int, default=40)
    p.add_argument("--patience", type=int, default=12)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--balance", type=float, default=0.5)
    p.add_argument("--freeze", type=int, default=-1, help="pretrained backbones: fixed blocks")
    p.add_argument("--reuse", action="store_true", help="keep a finished training run")
    p.add_argument("--ship", action="store_true", help="write models/grader/")
    p.add_argument("--resamples", type=int, default=1000)
    p.add_argument("--work", default=str(REPO / ".cluster/bench/real/cnn"))
    args = p.parse_args()
    work, size = Path(args.work), args.size
    prep = work.parent / "prep"
    prep_s = 0.0
    if not (prep / f"size={size}" / "_SUCCESS").exists():
        prep_s, _ = drc("preprocess", str(REAL / "images"), str(prep), "--labels",
                        str(REAL / "trainLabels.csv"), "--sizes", str(size),
                        "--master", "local[2]")  # fmt: skip
    split_prep(prep, size, work)
    name = f"{args.model}-{size}-{args.task}"
    out = work / name
    start = time.perf_counter()
    if not (args.reuse and (out / "best.pt").exists()):
        shutil.rmtree(out, ignore_errors=True)
        drc("train-cnn", str(work / "train"), "--out", str(out), "--size", str(size),
            "--model", args.model, "--task", args.task, "--epochs", str(args.epochs),
            "--patience", str(args.patience), "--workers", str(args.workers),
            "--batch-size", str(args.batch_size), "--lr", str(args.lr),
            "--balance", str(args.balance), "--freeze", str(args.freeze),
            "--seed", str(TRAIN_SEED))  # fmt: skip
    train_s = time.perf_counter() - start
    metrics = json.loads((out / "metrics.json").read_text())
    device = torch.device("cpu")
    model, task, cfg, thresholds = load_model(out / "best.pt", device)
    truth = read_labels(REAL / "trainLabels.csv")

    def score(data: Path, tta: bool, keep=lambda name: True):
        names, values = score_parquet(model, task, data, size, device, tta=tta)
        kept = [i for i, n in enumerate(names) if keep(n)]
        return [names[i] for i in kept], values[kept]

    def in_validation(name: str) -> bool:
        return held_out(parse_image_name(name).subject, TRAIN_SEED)

    start = time.perf_counter()
    result = {"model": args.model, "task": args.task, "size": size,
              "epochs_done": metrics["epochs_done"],
              # the epochs' own time (train + validation): also right for a --reuse run
              "train_s": round(sum(h["seconds"] for h in metrics["history"]), 1),
              "train_wall_s": round(train_s, 1) if train_s > 1 else None,
              "train_images": metrics["history"][-1]["train_images"],
              "batch_size": args.batch_size, "lr": args.lr, "balance": args.balance,
              "freeze": args.freeze, "bfloat16": metrics.get("bfloat16"),
              "best_validation_kappa": round(metrics["best_kappa"], 3)}  # fmt: skip
    views = {}
    for tta in (False, True):
        test_names, test_scores = score(work / "test", tta)
        views[tta] = (test_names, test_scores)
        levels = np.array([truth[n] for n in test_names])
        if task.name == "binary04":
            result["tta" if tta else "plain"] = binary_scores(truth, test_names, test_scores)
            continue
        grades = task.grades(test_scores, thresholds)
        result["tta" if tta else "plain"] = round(quadratic_weighted_kappa(levels, grades), 3)
    spec = None
    if task.name != "binary04":
        val_names, val_scores = score(work / "train", True, in_validation)
        val_levels = np.array([truth[n] for n in val_names])
        weight, cuts = choose(task, val_levels, val_scores, val_names)
        test_names, test_scores = views[True]
        grades = task.grades(blend_eyes(test_names, test_scores, weight), cuts)
        predicted = dict(zip(test_names, grades.tolist(), strict=True))
        held = {n: truth[n] for n in test_names}
        final = scores(list(held.values()), [predicted[n] for n in held])
        low, high = bootstrap_kappa(held, predicted, args.resamples)
        result |= {"blend": weight, "thresholds": [round(c, 4) for c in cuts],
                   "kappa": round(final["kappa"], 3), "kappa_95": [round(low, 3), round(high, 3)],
                   "confusion": final["confusion"], "recall": final["recall"],
                   "held_out": len(held)}  # fmt: skip
        spec = GraderSpec(args.model, size, args.task, cuts, "equalize", weight, True)
    result["evaluate_s"] = round(time.perf_counter() - start, 1)
    if args.ship and spec is not None:
        result |= ship(model, spec, result, metrics, out, work, views[True][0])
    result |= {"prep_s": round(prep_s, 1), "torch": torch.__version__,
               "machine": f"{platform.machine()}, {os.cpu_count()} cores, CPU"}  # fmt: skip
    write_result(f"real_cnn-{name}", result)


def ship(model, spec: GraderSpec, result: dict, metrics: dict, out: Path, work: Path,
         test_names: list[str]) -> dict:  # fmt: skip
    """models/grader/: the weights (bfloat16, or float32 when bfloat16 changes the kappa),
    their held-out kappa re-measured from the file, and the held-out photographs graded
    from their JPEG files by `drc grade`."""
    spec.trained = {"data": "eyepacs-256, four fifths of the subjects (held out: split seed "
                    f"{DEFAULT_SEED}, fraction {DEFAULT_FRACTION})",
                    "epochs": metrics["epochs_done"], "held_out_kappa": result["kappa"],
                    "held_out_kappa_95": result["kappa_95"]}  # fmt: skip
    grader = SHIPPED / "grader.pt"
    task = make_task(spec.task)
    truth = read_labels(REAL / "trainLabels.csv")

    def shipped_kappa() -> float:
        shipped, _ = load_grader(grader, torch.device("cpu"))
        names, values = score_parquet(shipped, task, work / "test", spec.size,
                                      torch.device("cpu"), tta=True)  # fmt: skip
        grades = task.grades(blend_eyes(names, values, spec.blend), spec.thresholds)
        return quadratic_weighted_kappa([truth[n] for n in names], grades)

    nbytes = export(model.state_dict(), spec, grader)
    bf16_kappa = shipped_kappa()
    weights = "bfloat16"
    if round(bf16_kappa, 3) != result["kappa"]:  # the rule: same kappa at 3 decimals
        nbytes = export(model.state_dict(), spec, grader, torch.float32)
        weights = f"float32 (bfloat16 gave kappa {bf16_kappa:.3f}, not {result['kappa']:.3f})"
    photos = work / "held-out-photos"
    shutil.rmtree(photos, ignore_errors=True)
    photos.mkdir()
    for name in test_names:
        (photos / f"{name}.jpeg").symlink_to(REAL / "images" / f"{name}.jpeg")
    grade_s, said = drc("grade", str(photos), "--out", str(work / "held-out-grades.csv"),
                        "--labels", str(REAL / "trainLabels.csv"),
                        "--grader", str(grader))  # fmt: skip
    _, raw_said = drc("grade", str(RAW), "--out", str(work / "raw-grades.csv"),
                      "--labels", str(RAW / "trainLabels.csv"),
                      "--grader", str(grader))  # fmt: skip
    shutil.copy(out / "curve.png", SHIPPED / "curve.png")
    report = {"spec": {k: v for k, v in spec.__dict__.items() if k != "trained"},
              "held_out": {k: result[k] for k in ("kappa", "kappa_95", "held_out", "confusion",
                                                  "recall", "plain", "tta")},
              "bfloat16_kappa": round(bf16_kappa, 3), "weights": weights,
              "file_bytes": nbytes,
              "drc_grade_held_out": said.strip().splitlines()[-2:],
              "drc_grade_s": round(grade_s, 1),
              "drc_grade_raw_samples": raw_said.strip().splitlines()[-2:],
              "training": {k: metrics[k] for k in ("epochs_done", "device", "best_kappa",
                                                   "history")}}  # fmt: skip
    (SHIPPED / "report.json").write_text(json.dumps(report, indent=2) + "\n")
    return {"shipped": str(grader.relative_to(REPO)), "file_bytes": nbytes,
            "bfloat16_kappa": round(bf16_kappa, 3), "weights": weights,
            "drc_grade": report["drc_grade_held_out"],
            "drc_grade_raw_samples": report["drc_grade_raw_samples"],
            "drc_grade_s": round(grade_s, 1)}  # fmt: skip


if __name__ == "__main__":
    main()
