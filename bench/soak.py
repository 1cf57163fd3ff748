"""The soak: the pipeline's two Spark jobs back to back on one running cluster, measuring at
runs 1, 10 and 20 what a long-lived cluster leaks: each daemon's open files, threads and
resident memory, HDFS's namespace, the local disk, and each run's seconds and kappa.

Needs the embedded cluster with HDFS running (`make demo`). Set-up, not timed: COUNT
synthetic photographs put into HDFS. Each run, through the drc commands a user runs:

    preprocess  HDFS -> HDFS (a fresh output per run), sizes 16 and 32   (drc preprocess)
    train-lr    run 1's output, 32 px, blocks solver                     (drc train-lr)

    .venv/bin/python bench/soak.py [--runs 20] [--count 96]

Writes bench/results/soak.json; the HDFS folder it used is removed at the end.
"""

import argparse
import hashlib
import json
import os
import platform
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

from common import REPO, drc, write_result  # bench/ is this script's path

from jobs.cluster.gauges import disk_bytes, hdfs_summary, process_gauge

CLUSTER = REPO / ".cluster"
HDFS_ROOT = Path("/var/lib/drc-hdfs") / hashlib.sha1(str(CLUSTER).encode()).hexdigest()[:12]
NAMENODE_UI = "http://127.0.0.1:9870"
FOLDER = f"/user/hadoop/soak-{int(time.time())}"  # a fresh one each time
HDFS = f"hdfs://127.0.0.1:8020{FOLDER}"
MEASURED_AT = (1, 10, 20)


def daemon_pids() -> dict[str, int]:
    """pid file name -> pid of the Spark master and worker and the NameNode and DataNode."""
    pid_files = [*(CLUSTER / "spark/pids").glob("*.pid"), *(HDFS_ROOT / "pids").glob("*.pid")]
    if len(pid_files) != 4:
        raise SystemExit(f"{CLUSTER}: the embedded cluster is not running (make demo)")
    return {p.stem: int(p.read_text()) for p in pid_files}


def measure(pids: dict[str, int], seconds: float, kappa: float) -> dict:
    return {
        "seconds": round(seconds, 1),
        "kappa": kappa,
        "daemons": {name: asdict(process_gauge(pid)) for name, pid in pids.items()},
        "hdfs": asdict(hdfs_summary(NAMENODE_UI, FOLDER)),
        "local_disk_mib": round((disk_bytes(CLUSTER) + disk_bytes(HDFS_ROOT)) / 2**20, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--count", type=int, default=96)
    args = parser.parse_args()
    cluster = ["--master", "spark://127.0.0.1:7077", "--conf-dir", str(CLUSTER / "spark/conf")]
    pids = daemon_pids()
    hadoop = {"HADOOP_USER_NAME": "hadoop"}
    measured, kappas, seconds = {}, [], []
    with tempfile.TemporaryDirectory(prefix="drc-soak-", dir=CLUSTER) as tmp:
        photos = Path(tmp) / "photos"
        drc("synth", str(photos), "--count", str(args.count), "--width", "1024",
            "--height", "768")  # fmt: skip
        drc("stage", "put", str(photos), f"{HDFS}/raw", env=hadoop)
        for run in range(1, args.runs + 1):
            start = time.perf_counter()
            drc("preprocess", f"{HDFS}/raw", f"{HDFS}/prep-{run}", "--labels",
                f"{HDFS}/raw/trainLabels.csv", "--sizes", "16,32", *cluster)  # fmt: skip
            lr = Path(tmp) / f"lr-{run}"
            drc("train-lr", f"{HDFS}/prep-1", "--size", "32", "--max-iter", "30", "--out",
                str(lr), *cluster)  # fmt: skip
            seconds.append(time.perf_counter() - start)
            kappas.append(json.loads((lr / "train-lr-report.json").read_text())["kappa"])
            if run in MEASURED_AT or run == args.runs:
                measured[str(run)] = measure(pids, seconds[-1], kappas[-1])
                print(f"run {run}: {json.dumps(measured[str(run)])}", flush=True)
    result = {
        "what": "preprocess (HDFS -> HDFS, fresh output) + train-lr (32 px, blocks) back to "
        "back on the embedded cluster (make demo), each a fresh application; gauges read "
        "from /proc (daemons), WebHDFS (the soak's folder) and the cluster's disk",
        "runs": args.runs,
        "photos": args.count,
        "measured_at_run": measured,
        "kappas_identical": len(set(kappas)) == 1,
        "seconds_per_run": {
            "first": round(seconds[0], 1),
            "median": round(sorted(seconds)[len(seconds) // 2], 1),
            "last": round(seconds[-1], 1),
        },
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
    }
    write_result("soak", result)
    from jobs.dataset import fs  # last: no HDFS client threads in this process before

    os.environ.update(hadoop)
    fs.rmtree(HDFS)


if __name__ == "__main__":
    main()
