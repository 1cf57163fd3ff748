"""The whole data set's path, end to end, as 2015 ran it: object store -> the master's disk
-> HDFS -> preprocess (all five sizes) -> LR at 128 px -> kappa, timed stage by stage.

Needs the embedded cluster with HDFS running (`make demo`). Set-up, not timed: COUNT
synthetic photographs at Kaggle's mean pixel count (3888x2592, ~1 MB JPEGs, kept in
.cluster/bench/e2e-photos-COUNT for the next run) put into the test Swift of
tests/servers/ (started in a temp dir). Timed, each through the drc command a user runs:

    stage get   swift://e2e/train -> local disk       (drc stage get)
    stage put   local disk -> hdfs:///user/hadoop/e2e (drc stage put)
    preprocess  HDFS -> HDFS, sizes 16..256           (drc preprocess)
    train-lr    HDFS, 128 px, blocks solver           (drc train-lr)

    .venv/bin/python bench/end_to_end.py [--count 3000]

Writes bench/results/end_to_end.json (stage seconds and rates, and the whole data set's
time at those rates).
"""

import argparse
import json
import os
import platform
import shutil
import tempfile
import time
from pathlib import Path

from common import REPO, drc, write_result  # bench/ is this script's path
from swift_server import running_swift  # bench/ is this script's path

HDFS = f"hdfs://127.0.0.1:8020/user/hadoop/e2e-{int(time.time())}"  # a fresh run each time
KAGGLE_IMAGES = 35126


def photos(count: int) -> Path:
    out = REPO / f".cluster/bench/e2e-photos-{count}"
    if not (out / "trainLabels.csv").is_file():
        shutil.rmtree(out, ignore_errors=True)
        seconds, _ = drc("synth", str(out), "--count", str(count))
        print(f"set-up: {count} synthetic photographs in {seconds:.0f} s", flush=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=3000)
    args = parser.parse_args()
    source = photos(args.count)
    mb = sum(p.stat().st_size for p in source.iterdir()) / 1e6
    conf = str(REPO / ".cluster/spark/conf")
    cluster = ["--master", "spark://127.0.0.1:7077", "--conf-dir", conf]
    stages = {}
    with tempfile.TemporaryDirectory(prefix="drc-e2e-", dir=REPO / ".cluster") as tmp:
        tmp = Path(tmp)
        with running_swift(tmp / "swift"):
            drc("stage", "put", str(source), "swift://e2e/train", "--jobs", "16")  # set-up
            stages["stage get"], _ = drc("stage", "get", "swift://e2e/train", str(tmp / "raw"),
                                         "--jobs", "16")  # fmt: skip
        stages["stage put"], _ = drc("stage", "put", str(tmp / "raw"), f"{HDFS}/raw",
                                     "--jobs", "32")  # fmt: skip
    stages["preprocess"], out = drc("preprocess", f"{HDFS}/raw", f"{HDFS}/prep", "--labels",
                                    f"{HDFS}/raw/trainLabels.csv", *cluster)  # fmt: skip
    print(out, flush=True)
    stages["train-lr 128"], out = drc("train-lr", f"{HDFS}/prep", "--size", "128", *cluster,
                                      "--reports", str(REPO / ".cluster/bench/e2e-lr"))  # fmt: skip
    print(out, flush=True)
    report = json.loads((REPO / ".cluster/bench/e2e-lr/train-lr-report.json").read_text())
    total = sum(stages.values())
    scale = KAGGLE_IMAGES / args.count
    result = {
        "what": "object store -> local disk -> HDFS -> preprocess (5 sizes) -> LR 128 px, "
        "drc commands against the embedded cluster (make demo), each a fresh application",
        "images": args.count,
        "mb": round(mb),
        "stages_s": {k: round(v, 1) for k, v in stages.items()},
        "total_s": round(total, 1),
        "rates": {
            "stage get MB/s": round(mb / stages["stage get"], 1),
            "stage put MB/s": round(mb / stages["stage put"], 1),
            "preprocess images/s": round(args.count / stages["preprocess"], 1),
        },
        "kappa_128": round(report["kappa"], 3),
        "whole_data_set_at_these_rates_min": round(total * scale / 60, 1),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
    }
    write_result("end_to_end", result)
    from jobs.dataset import fs  # last: no HDFS client threads in this process before

    os.environ["HADOOP_USER_NAME"] = "hadoop"
    fs.rmtree(HDFS)


if __name__ == "__main__":
    main()
