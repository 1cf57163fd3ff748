"""Benchmark: the 2015 flow (stage to the master's disk, then preprocess from it) against
the one-hop preprocess (the Spark tasks fetch each photograph from the store themselves).

    .venv/bin/python bench/one_hop.py [--photos 300] [--width 3888] [--height 2592]

Starts the all-in-one Swift of tests/servers/ in a temp dir, puts PHOTOS synthetic fundus
photographs (`drc synth`'s, Kaggle-sized by default) into it, then times, with a local[2]
master: `drc stage get` + `drc preprocess` of the staged copy, and `drc preprocess` of the
swift:// URL. Outputs on the local disk; the seed flow's HDFS put is not included (it only
adds to the staged side: bench/hdfs.py measures it). Writes bench/results/one_hop.json.
"""

import argparse
import json
import tempfile
from pathlib import Path

from common import drc, write_result  # bench/ is this script's path
from swift_server import running_swift

from jobs.storage import transfer

URL = "swift://bench-one-hop/train"


def preprocess(source: str, out: Path, sizes: str) -> tuple[float, dict]:
    seconds, _ = drc("preprocess", source, str(out), "--labels", f"{source}/trainLabels.csv",
                     "--sizes", sizes, "--master", "local[2]")  # fmt: skip
    return seconds, json.loads((out / "_SUCCESS").read_text())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--photos", type=int, default=300)
    parser.add_argument("--width", type=int, default=3888)
    parser.add_argument("--height", type=int, default=2592)
    parser.add_argument("--sizes", default="16,32,64,128,256")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="drc-one-hop-bench-") as tmp:
        tmp = Path(tmp)
        drc("synth", str(tmp / "photos"), "--count", str(args.photos), "--width",
            str(args.width), "--height", str(args.height))  # fmt: skip
        mb = sum(p.stat().st_size for p in (tmp / "photos").iterdir()) / 1e6
        with running_swift(tmp / "swift"):
            assert transfer.put(tmp / "photos", URL).failed == []
            stage_s, _ = drc("stage", "get", URL, str(tmp / "staged"))
            staged_s, staged = preprocess(str(tmp / "staged"), tmp / "out-staged", args.sizes)
            one_hop_s, one_hop = preprocess(URL, tmp / "out-one-hop", args.sizes)
        assert staged["quarantined"] == one_hop["quarantined"] == 0
        result = {
            "photos": args.photos, "size": f"{args.width}x{args.height}", "mb": round(mb),
            "sizes": args.sizes, "master": "local[2]",
            "staged": {"stage_get_s": round(stage_s, 1), "preprocess_s": round(staged_s, 1),
                       "total_s": round(stage_s + staged_s, 1),
                       "spark_images_per_s": round(staged["images_per_s"], 1)},
            "one_hop": {"preprocess_s": round(one_hop_s, 1),
                        "spark_images_per_s": round(one_hop["images_per_s"], 1)},
            "note": "2 cores shared with other work; loopback Swift on the same cores",
        }  # fmt: skip
        write_result("one_hop", result)


if __name__ == "__main__":
    main()
