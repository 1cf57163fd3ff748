"""Benchmark: staging through a real Swift (its own API and its S3 API) on loopback.

    .venv/bin/python bench/stage.py [--files 1000] [--mb 1.0] [--jobs 8]

Starts the all-in-one Swift of tests/servers/ in a temp dir, writes FILES random files of
MB megabytes (Kaggle's images average 0.94 MB) plus one 200 MB file (segmented), then
times put, get into an empty directory, a re-run get (nothing to move), and verify.
The 2015 project spent hours staging from SoftLayer Object Storage over the network;
this measures the client's own cost. Writes bench/results/stage.json.
"""

import argparse
import json
import os
import subprocess
import tempfile
import time
from pathlib import Path

from swift_server import running_swift  # bench/ is this script's path

from jobs.storage import transfer

REPO = Path(__file__).resolve().parent.parent


def timed(fn, *args, **kwargs) -> tuple[float, object]:
    start = time.perf_counter()
    result = fn(*args, **kwargs)
    return time.perf_counter() - start, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--mb", type=float, default=1.0)
    parser.add_argument("--jobs", type=int, default=8)
    args = parser.parse_args()
    results = {}
    with tempfile.TemporaryDirectory(prefix="drc-stage-bench-") as tmp:
        tmp = Path(tmp)
        with running_swift(tmp / "swift"):
            src = tmp / "src"
            (src / "train").mkdir(parents=True)
            size = int(args.mb * 1e6)
            for i in range(args.files):
                (src / "train" / f"{i}_left.jpeg").write_bytes(os.urandom(size))
            (src / "big.bin").write_bytes(os.urandom(200_000_000))
            total_mb = (args.files * size + 200_000_000) / 1e6
            for url in ("swift://bench/set", "s3://bench-s3/set"):
                put_s, _ = timed(transfer.put, src, url, jobs=args.jobs)
                get_s, _ = timed(transfer.get, url, tmp / "got", jobs=args.jobs)
                again_s, again = timed(transfer.get, url, tmp / "got", jobs=args.jobs)
                verify_s, _ = timed(transfer.verify, url, tmp / "got", jobs=args.jobs)
                assert again.transferred == 0
                results[url.split(":")[0]] = {
                    "put_s": round(put_s, 1), "put_mb_per_s": round(total_mb / put_s),
                    "get_s": round(get_s, 1), "get_mb_per_s": round(total_mb / get_s),
                    "get_again_s": round(again_s, 1), "verify_s": round(verify_s, 1),
                }  # fmt: skip
                subprocess.run(["rm", "-rf", str(tmp / "got")], check=True)
    report = {"files": args.files + 1, "total_mb": round(total_mb), "jobs": args.jobs,
              "machine": f"{os.cpu_count()} cores", **results}  # fmt: skip
    print(json.dumps(report, indent=2))
    (REPO / "bench" / "results" / "stage.json").write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
