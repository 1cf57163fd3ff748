"""The clusters' health gates, as the playbooks' check tasks poll them, for the Salt states
(run on a node) and the controller:

    python -m jobs.cluster.health spark MASTER_UI --workers N [--timeout S] [--salt]
    python -m jobs.cluster.health hdfs NAMENODE_UI --datanodes N --url hdfs://H:P [--salt]

spark: the master answers ALIVE with at least N workers ALIVE. hdfs: safe mode is off, at
least N DataNodes are live, and a file goes in, comes back and goes away. Each polls until
its timeout, then fails with one line saying what it last saw. --salt ends with the line
Salt's `cmd.run` reads with `stateful: True` (a gate that passes changes nothing).
"""

import argparse
import json
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable

from jobs.cluster.submit import master_status
from jobs.errors import DrcError


def _json(url: str) -> dict:
    try:
        with urllib.request.urlopen(url, timeout=5) as resp:
            return json.load(resp)
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise DrcError(url, f"does not answer ({exc})") from exc


def spark_state(master_ui: str, workers: int) -> tuple[bool, str]:
    status = master_status(master_ui)
    alive = sum(1 for w in status.get("workers", []) if w.get("state") == "ALIVE")
    ok = status.get("status") == "ALIVE" and alive >= workers
    return ok, f"Spark master {status.get('status')}, {alive} of {workers} workers ALIVE"


def hdfs_state(namenode_ui: str, datanodes: int) -> tuple[bool, str]:
    url = namenode_ui.rstrip("/") + "/jmx?qry=Hadoop:service=NameNode,name=NameNodeInfo"
    beans = _json(url).get("beans", [])
    if len(beans) != 1:
        return False, "NameNode has no NameNodeInfo yet"
    live = len(json.loads(beans[0].get("LiveNodes") or "{}"))
    safemode = beans[0].get("Safemode", "")
    ok = safemode == "" and live >= datanodes
    mode = "safe mode on" if safemode else "safe mode off"
    return ok, f"HDFS {mode}, {live} of {datanodes} DataNodes live"


def wait(probe: Callable[[], tuple[bool, str]], timeout_s: float, delay_s: float = 1.0) -> str:
    """Poll `probe` until it passes (its line) or `timeout_s` ends (DrcError: the last line)."""
    deadline = time.monotonic() + timeout_s
    last = "not polled"
    while True:
        try:
            ok, last = probe()
        except DrcError as exc:
            ok, last = False, str(exc)
        if ok:
            return last
        if time.monotonic() >= deadline:
            raise DrcError("health gate", f"not healthy after {timeout_s:.0f} s: {last}")
        time.sleep(delay_s)


def _roundtrip(url: str, timeout_s: float) -> None:
    from jobs.storage.hdfs import roundtrip

    def probe() -> tuple[bool, str]:
        roundtrip(url)
        return True, "round trip ok"

    wait(probe, timeout_s)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m jobs.cluster.health",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="service", required=True)
    spark = sub.add_parser("spark")
    spark.add_argument("ui")
    spark.add_argument("--workers", type=int, required=True)
    hdfs = sub.add_parser("hdfs")
    hdfs.add_argument("ui")
    hdfs.add_argument("--datanodes", type=int, required=True)
    hdfs.add_argument("--url", required=True, help="hdfs://HOST:PORT for the round trip")
    for each in (spark, hdfs):
        each.add_argument("--timeout", type=float, default=60.0)
        each.add_argument("--salt", action="store_true", help="end with Salt's stateful line")
    args = parser.parse_args(argv)
    try:
        if args.service == "spark":
            line = wait(lambda: spark_state(args.ui, args.workers), args.timeout)
        else:
            line = wait(lambda: hdfs_state(args.ui, args.datanodes), args.timeout)
            _roundtrip(args.url, args.timeout)
            line += ", a file written, read back and removed"
    except DrcError as exc:
        print(f"health: {exc}", file=sys.stderr)
        return 1
    print(line)
    if args.salt:
        print(f"changed=no comment='{line}'")
    return 0


if __name__ == "__main__":
    sys.exit(main())
