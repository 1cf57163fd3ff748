"""HDFS against local disk on this machine: staging into HDFS (MB/s), and `drc preprocess`
of the same photographs in turns with
- both photographs and output on local disk (the baseline),
- the output on HDFS, the photographs not (the one-hop path's writes: photographs fetched
  from an object store, Parquet into HDFS; here read from local disk, as the baseline),
- both on HDFS (the seed's flow: photographs put into HDFS first).

Needs the embedded cluster with HDFS running (`make demo`). Each preprocess run is a fresh
application into a fresh output, as a user runs it, with the job's own task count; the
medians of `--runs` runs are kept, and each ratio is taken run by run (this machine drifts
~10 % over minutes).

    .venv/bin/python bench/hdfs.py [--count 1000] [--runs 5]
"""

import argparse
import json
import os
import platform
import subprocess
import time
from pathlib import Path

from jobs.dataset import fs, layout

REPO = Path(__file__).resolve().parent.parent
DRC = str(REPO / ".venv/bin/drc")


def drc(*args: str) -> str:
    return subprocess.run([DRC, *args], check=True, capture_output=True, text=True).stdout


def preprocess(data: str, out: str, cluster: list[str]) -> dict:
    """One fresh application into a fresh output."""
    fs.rmtree(out)
    start = time.perf_counter()
    drc("preprocess", data, out, "--labels", f"{data}/trainLabels.csv", *cluster)
    wall = time.perf_counter() - start
    report = json.loads(layout.app_report(out, "preprocess").read_text())
    return {"images_per_s": report["images_per_s"], "job_s": report["seconds"], "wall_s": wall}


def median(values: list[float]) -> float:
    return sorted(values)[len(values) // 2]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--count", type=int, default=1000)
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--put-jobs", type=int, default=32, help="as the hadoop role's put")
    p.add_argument("--hdfs", default="hdfs://127.0.0.1:8020")
    p.add_argument("--master", default="spark://127.0.0.1:7077")
    p.add_argument("--conf-dir", default=str(REPO / ".cluster/spark/conf"))
    args = p.parse_args()
    cluster = ["--master", args.master, "--conf-dir", args.conf_dir]
    os.environ["HADOOP_USER_NAME"] = "hadoop"  # the HDFS superuser (simple authentication)

    local = REPO / ".cluster" / "bench" / f"synth{args.count}"
    drc("synth", str(local), "--count", str(args.count))
    remote = f"{args.hdfs}/user/hadoop/bench/synth{args.count}"
    mb = sum(f.stat().st_size for f in local.iterdir()) / 1e6
    fs.rmtree(remote)
    start = time.perf_counter()
    drc("stage", "put", str(local), remote, "--jobs", str(args.put_jobs))
    put_s = time.perf_counter() - start
    start = time.perf_counter()
    drc("stage", "put", str(local), remote, "--jobs", str(args.put_jobs))  # nothing to move
    reput_s = time.perf_counter() - start

    hdfs_out = f"{args.hdfs}/user/hadoop/bench/out"
    placements = {"local": (str(local), str(REPO / ".cluster/bench/out-local")),
                  "hdfs_output": (str(local), hdfs_out),
                  "hdfs": (remote, hdfs_out)}  # fmt: skip
    runs = {name: [] for name in placements}
    for _ in range(args.runs):
        for name, (data, out) in placements.items():
            runs[name].append(preprocess(data, out, cluster))

    def ratios(name: str) -> list[float]:
        return [r["images_per_s"] / lo["images_per_s"]
                for r, lo in zip(runs[name], runs["local"], strict=True)]  # fmt: skip

    results = {
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores",
        "images": args.count,
        "stage_put": {"mb": round(mb, 1), "seconds": round(put_s, 1),
                      "mb_per_s": round(mb / put_s, 1), "jobs": args.put_jobs,
                      "rerun_nothing_to_move_s": round(reput_s, 1)},
        **{f"preprocess_{name}_images_per_s": [round(r["images_per_s"], 1) for r in runs[name]]
           for name in placements},
        **{f"preprocess_{name}_job_s": [round(r["job_s"], 2) for r in runs[name]]
           for name in placements},
        "hdfs_output_over_local_runs": [round(r, 3) for r in ratios("hdfs_output")],
        "hdfs_output_over_local": round(median(ratios("hdfs_output")), 3),
        "hdfs_over_local_runs": [round(r, 3) for r in ratios("hdfs")],
        "hdfs_over_local": round(median(ratios("hdfs")), 3),
    }  # fmt: skip
    out = REPO / "bench" / "results" / "hdfs.json"
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
