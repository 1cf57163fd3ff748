"""The whole data set's path, end to end: object store -> preprocess (all five sizes) into
HDFS -> LR at 128 px -> kappa, timed stage by stage.

Two flows. The seed's (default): the photographs copied to the master's disk, then into
HDFS, then preprocessed from HDFS. `--one-hop`: the Spark tasks fetch each photograph from
the store themselves and write only the Parquet to HDFS (no raw copy anywhere).

Needs the embedded cluster with HDFS running (`make demo`). Set-up, not timed: DISTINCT
synthetic photographs at Kaggle's mean pixel count (3888x2592, ~1 MB JPEGs, kept in
.cluster/bench/e2e-photos-DISTINCT for the next run), hard-linked under COUNT distinct
Kaggle names (the pixels repeat, the objects do not), put into the test Swift of
tests/servers/ (started in a temp dir). Timed, each through the drc command a user runs:

    stage get   swift://e2e/train -> local disk       (drc stage get; seed flow)
    stage put   local disk -> hdfs:///user/hadoop/e2e (drc stage put; seed flow)
    preprocess  HDFS (seed) or swift:// (one hop) -> HDFS, sizes 16..256 (drc preprocess)
    train-lr    HDFS, 128 px, blocks solver           (drc train-lr)

    .venv/bin/python bench/end_to_end.py [--count 3000] [--distinct N] [--one-hop]

Writes bench/results/end_to_end.json (or end_to_end-one-hop.json): stage seconds and
rates, the disk used at the peak, and the whole data set's time at those rates.
"""

import argparse
import json
import os
import platform
import shutil
import tempfile
import threading
import time
from pathlib import Path

from common import REPO, drc, kaggle_names, write_result  # bench/ is this script's path
from swift_server import running_swift  # bench/ is this script's path

HDFS = f"hdfs://127.0.0.1:8020/user/hadoop/e2e-{int(time.time())}"  # a fresh run each time
KAGGLE_IMAGES = 35126
STORE = "swift://e2e/train"


def photos(distinct: int) -> Path:
    out = REPO / f".cluster/bench/e2e-photos-{distinct}"
    if not (out / "trainLabels.csv").is_file():
        shutil.rmtree(out, ignore_errors=True)
        seconds, _ = drc("synth", str(out), "--count", str(distinct))
        print(f"set-up: {distinct} synthetic photographs in {seconds:.0f} s", flush=True)
    return out


def named(source: Path, count: int, where: Path) -> Path:
    """COUNT Kaggle names over SOURCE's photographs, each with its grade."""
    rows = [row.split(",") for row in (source / "trainLabels.csv").read_text().split()[1:]]
    return kaggle_names([(source / f"{image}.jpeg", level) for image, level in rows], count,
                        where / f"named-{count}")  # fmt: skip


class PeakDisk:
    """The most the root filesystem held above its start, sampled every 2 s."""

    def __init__(self):
        self.start = shutil.disk_usage("/").used
        self.peak, self._stop = 0, threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self):
        while not self._stop.wait(2):
            self.peak = max(self.peak, shutil.disk_usage("/").used - self.start)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *_):
        self._stop.set()
        self._thread.join()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=3000)
    parser.add_argument("--distinct", type=int, help="distinct photographs (default: COUNT)")
    parser.add_argument("--one-hop", action="store_true")
    args = parser.parse_args()
    distinct = args.distinct or args.count
    conf = str(REPO / ".cluster/spark/conf")
    cluster = ["--master", "spark://127.0.0.1:7077", "--conf-dir", conf]
    stages = {}
    with tempfile.TemporaryDirectory(prefix="drc-e2e-", dir=REPO / ".cluster") as tmp:
        tmp = Path(tmp)
        source = photos(distinct)
        if args.count > distinct:
            source = named(source, args.count, tmp)
        mb = sum(p.stat().st_size for p in source.iterdir()) / 1e6
        with PeakDisk() as disk, running_swift(tmp / "swift"):
            seconds, _ = drc("stage", "put", str(source), STORE, "--jobs", "16")  # set-up
            print(f"set-up: {args.count} photographs into Swift in {seconds:.0f} s", flush=True)
            if args.one_hop:
                raw = STORE
            else:
                stages["stage get"], _ = drc("stage", "get", STORE, str(tmp / "raw"),
                                             "--jobs", "16")  # fmt: skip
                stages["stage put"], _ = drc("stage", "put", str(tmp / "raw"), f"{HDFS}/raw",
                                             "--jobs", "32")  # fmt: skip
                raw = f"{HDFS}/raw"
            stages["preprocess"], out = drc("preprocess", raw, f"{HDFS}/prep", "--labels",
                                            f"{raw}/trainLabels.csv", *cluster)  # fmt: skip
            print(out, flush=True)
        stages["train-lr 128"], out = drc("train-lr", f"{HDFS}/prep", "--size", "128", *cluster,
                                          "--reports", str(tmp / "e2e-lr"))  # fmt: skip
        print(out, flush=True)
        report = json.loads((tmp / "e2e-lr/train-lr-report.json").read_text())
    total = sum(stages.values())
    scale = KAGGLE_IMAGES / args.count
    rates = {f"{name} MB/s": round(mb / stages[name], 1) for name in ("stage get", "stage put")
             if name in stages}  # fmt: skip
    result = {
        "what": (
            "object store -> preprocess one hop (the tasks fetch from Swift) -> HDFS"
            if args.one_hop
            else "object store -> local disk -> HDFS -> preprocess"
        )
        + " (5 sizes) -> LR 128 px, drc commands against the embedded cluster (make demo), "
        "each a fresh application; the test Swift on the same 2 cores",
        "images": args.count,
        "distinct_photographs": distinct,
        "mb": round(mb),
        "stages_s": {k: round(v, 1) for k, v in stages.items()},
        "total_s": round(total, 1),
        "rates": rates | {"preprocess images/s": round(args.count / stages["preprocess"], 1)},
        "kappa_128": round(report["kappa"], 3),
        "disk_peak_gb_above_start": round(disk.peak / 1e9, 1),  # Swift's copy included
        "whole_data_set_at_these_rates_min": round(total * scale / 60, 1),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
    }
    write_result("end_to_end-one-hop" if args.one_hop else "end_to_end", result)
    from jobs.dataset import fs  # last: no HDFS client threads in this process before

    os.environ["HADOOP_USER_NAME"] = "hadoop"
    fs.rmtree(HDFS)


if __name__ == "__main__":
    main()
