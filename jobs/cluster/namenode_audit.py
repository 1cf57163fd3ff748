"""What a NameNode restored from a checkpoint no longer holds: the files written after the
checkpoint, read from the NameNode's audit log (kept in its log directory, not in the name
directory a restore replaces), checked against the restored namespace.

`python -m jobs.cluster.namenode_audit --since "2026-01-01 12:00:00,000" --logs LOGDIR
--namenode-ui http://nn:9870` prints one line per file: `lost: PATH` (written after the
checkpoint, not in the restored namespace) or `reverted: PATH` (rewritten after it: the
restored one is the checkpoint's version), then a summary line. Run by the hadoop role's
restore entry point (playbooks/restore_namenode.yml)."""

import argparse
import json
import re
import sys
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable, Iterator
from pathlib import Path

# 2026-12-06 12:56:23,661 INFO o.a.h...FSNamesystem.audit: allowed=true\tugi=hadoop (auth:SIMPLE)
#   \tip=/10.0.0.1\tcmd=create\tsrc=/a\tdst=null\tperm=...
AUDIT = re.compile(
    r"^(?P<time>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) \S+ \S*FSNamesystem\.audit: "
    r"allowed=true\t.*?\tcmd=(?P<cmd>[^\t]+)\tsrc=(?P<src>[^\t]*)\tdst=(?P<dst>[^\t]*)"
)


def audit_events(lines: Iterable[str], since: str) -> Iterator[tuple[str, str, str]]:
    """(cmd, src, dst) of the allowed namespace changes logged after SINCE, in log order."""
    for line in lines:
        match = AUDIT.match(line)
        if match and match["time"] > since:
            yield match["cmd"].split(" ")[0], match["src"], match["dst"]


def written_after(events: Iterable[tuple[str, str, str]]) -> set[str]:
    """The files that the changes created or renamed into place and did not remove again:
    what a namespace of before those changes lacks, or holds in an older version."""
    files: set[str] = set()
    for cmd, src, dst in events:
        if cmd in ("create", "append", "truncate", "concat"):
            files.add(src)
        elif cmd == "rename":
            moved = {p for p in files if p == src or p.startswith(src + "/")}
            files -= moved
            files |= {dst + p[len(src) :] for p in moved}
            if not moved:  # a file of before, now under a new name
                files.add(dst)
        elif cmd == "delete":
            files -= {p for p in files if p == src or p.startswith(src + "/")}
    return files


def exists(namenode_ui: str, path: str, user: str = "hadoop") -> bool:
    url = (f"{namenode_ui.rstrip('/')}/webhdfs/v1{urllib.parse.quote(path)}"
           f"?op=GETFILESTATUS&user.name={user}")  # fmt: skip
    try:
        with urllib.request.urlopen(url, timeout=10) as resp:
            return json.load(resp)["FileStatus"]["type"] == "FILE"
    except urllib.error.HTTPError as exc:
        if exc.code == 404:
            return False
        raise


def log_lines(log_dir: Path) -> Iterator[str]:
    """The NameNode's log, its rotated days first (hadoop-USER-namenode.log.YYYY-MM-DD)."""
    logs = sorted(
        log_dir.glob("hadoop-*-namenode.log*"), key=lambda p: (p.suffix == ".log", p.name)
    )
    for log in logs:
        with log.open(errors="replace") as handle:
            yield from handle


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--since", required=True, help="the checkpoint's time, as the log writes it")
    p.add_argument("--logs", required=True, type=Path, help="the NameNode's log directory")
    p.add_argument("--namenode-ui", required=True)
    args = p.parse_args(argv)
    files = written_after(audit_events(log_lines(args.logs), args.since))
    shown = sorted(f for f in files if not Path(f).name.startswith("."))  # not the sidecars
    lost = [f for f in shown if not exists(args.namenode_ui, f)]
    reverted = [f for f in shown if f not in lost]
    for path in lost:
        print(f"lost: {path}")
    for path in reverted:
        print(f"reverted: {path}")
    print(f"written after the checkpoint of {args.since}: {len(lost)} files lost, "
          f"{len(reverted)} back at the checkpoint's version")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
