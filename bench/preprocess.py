"""Benchmark: preprocessing throughput through the Spark job vs the decode-only bound.

    .venv/bin/python bench/preprocess.py [--count 2000] [--master spark://127.0.0.1:7077]

Needs the cluster of `make demo` (or any master given with --master). Generates the
synthetic set once (cached under .cluster/bench/), then in the same run measures:
  1. decode-only bound: reduced-scale decode of the same files, one process per core;
  2. the pure per-image work (decode, disc, crop, all sizes), one process per core;
  3. `drc preprocess` on the cluster (fresh output, fresh application), images/s from the
     job's own timer;
1 and 3 in turns, --runs times (medians reported, and each run);
and the same for the 4 real Kaggle samples hard-linked under as many names.
Writes bench/results/preprocess.json.
"""

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from common import kaggle_names, shared_data  # bench/ is this script's path

from jobs.dataset import layout

REPO = Path(__file__).resolve().parent.parent
SIZES = layout.DEFAULT_SIZES


def _decode(path: str) -> None:
    from jobs.preprocess.images import decode_reduced

    decode_reduced(Path(path).read_bytes(), max(SIZES))


def _full(path: str) -> None:
    from jobs.preprocess.images import preprocess_bytes

    preprocess_bytes(Path(path).read_bytes(), SIZES)


def rate(fn, paths: list[str], workers: int) -> float:
    """Images/s over `paths`, all cores, no Spark."""
    work = paths
    with ProcessPoolExecutor(workers) as pool:
        list(pool.map(fn, work[: workers * 2]))  # start the workers, warm their imports
        start = time.perf_counter()
        list(pool.map(fn, work, chunksize=max(1, len(work) // (workers * 8))))
        return len(work) / (time.perf_counter() - start)


def replicate_samples(count: int) -> Path:
    """The real Kaggle photographs, hard-linked under `count` distinct Kaggle names."""
    out = REPO / ".cluster" / "bench" / f"kaggle-x{count}"
    if not out.is_dir():
        samples = shared_data("data/kaggle-sample", "the 4 raw Kaggle sample photographs")
        sources = sorted(samples.glob("*.jpeg"))
        # image i: photograph i % 4, grade i % 5 (the pairs repeat every 20)
        photos = [(sources[i % len(sources)], i % 5) for i in range(20)]
        kaggle_names(photos, count, out)
    return out


def spark_run(data: Path, out: Path, args) -> dict:
    """One `drc preprocess` into a fresh output: a fresh application, as a user runs it."""
    shutil.rmtree(out, ignore_errors=True)
    cmd = [str(REPO / ".venv/bin/drc"), "preprocess", str(data), str(out), "--labels",
           str(data / "trainLabels.csv"), "--master", args.master, "--master-ui", args.master_ui,
           "--conf-dir", args.conf_dir]  # fmt: skip
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    report = json.loads(layout.app_report(out, "preprocess").read_text())
    return {"images_per_s": report["images_per_s"], "job_s": report["seconds"], "wall_s": wall}


def median(values: list[float]) -> float:
    return sorted(values)[len(values) // 2]


def measure_set(data: Path, out: Path, args) -> dict:
    """Bound and Spark job measured in turns, `args.runs` times: this machine's speed drifts
    by ~10 % over minutes, so each job is compared with the bound measured next to it."""
    paths = sorted(str(f) for f in data.glob("*.jpeg"))
    mb = sum(Path(f).stat().st_size for f in paths) / len(paths) / 1e6
    bounds, jobs = [], []
    for _ in range(args.runs):
        bounds.append(rate(_decode, paths, args.workers))
        jobs.append(spark_run(data, out, args))
    ratios = [j["images_per_s"] / b for j, b in zip(jobs, bounds, strict=True)]
    job = sorted(jobs, key=lambda r: r["images_per_s"])[len(jobs) // 2]
    return {
        "images": len(paths),
        "mean_file_mb": round(mb, 2),
        "decode_only_bound_images_per_s": median(bounds),
        "python_all_steps_images_per_s": rate(_full, paths, args.workers),
        "spark": {**job, "runs_images_per_s": [round(j["images_per_s"], 1) for j in jobs]},
        "runs_decode_only_bound": [round(b, 1) for b in bounds],
        "runs_spark_over_bound": [round(r, 3) for r in ratios],
        "spark_over_bound": median(ratios),
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--count", type=int, default=2000)
    p.add_argument("--master", default="spark://127.0.0.1:7077")
    p.add_argument("--master-ui", default="http://127.0.0.1:8080")
    p.add_argument("--conf-dir", default=str(REPO / ".cluster/spark/conf"))
    p.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    p.add_argument("--runs", type=int, default=3, help="Spark runs per set (median reported)")
    args = p.parse_args()

    synth = REPO / ".cluster" / "bench" / f"synth{args.count}"
    subprocess.run([str(REPO / ".venv/bin/drc"), "synth", str(synth), "--count", str(args.count)],
                   check=True)  # fmt: skip
    results = {"machine": f"{platform.processor() or platform.machine()}, {args.workers} cores"}
    real = replicate_samples(args.count)
    for name, data in (("synthetic", synth), ("kaggle_sample_x", real)):
        entry = measure_set(data, REPO / ".cluster" / "bench" / f"out-{name}", args)
        results[name] = entry
        print(json.dumps({name: entry}, indent=2), flush=True)
    out = REPO / "bench" / "results" / "preprocess.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"written {out}", file=sys.stderr)


if __name__ == "__main__":
    main()
