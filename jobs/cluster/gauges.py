"""What a long-running cluster may leak, read where the kernel and the NameNode keep it: a
daemon's open files, threads and resident memory (/proc), a directory's bytes on disk, and
HDFS's namespace (WebHDFS content summary). The soak drill and bench/soak.py read these
between runs and compare."""

import json
import os
import urllib.request
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class ProcessGauge:
    open_files: int
    threads: int
    rss_mib: float


def process_gauge(pid: int) -> ProcessGauge:
    """One process's gauges; OSError if it is gone (a daemon that died is no leak to hide)."""
    proc = Path(f"/proc/{pid}")
    status = dict(line.split(":", 1) for line in (proc / "status").read_text().splitlines())
    return ProcessGauge(
        open_files=len(os.listdir(proc / "fd")),
        threads=int(status["Threads"]),
        rss_mib=round(int(status["VmRSS"].split()[0]) / 1024, 1),
    )


def disk_bytes(root: Path) -> int:
    """Bytes the files under ROOT take on disk (allocated blocks, as du counts them); files
    that vanish while it walks (a daemon rotating its log) are skipped."""
    total = 0
    for path, _, files in os.walk(root):
        for name in files:
            try:
                total += os.lstat(os.path.join(path, name)).st_blocks * 512
            except FileNotFoundError:
                continue
    return total


@dataclass(frozen=True)
class HdfsSummary:
    length: int  # bytes of all files (one replica)
    files: int
    directories: int


def hdfs_summary(namenode_ui: str, path: str = "/", user: str = "hadoop") -> HdfsSummary:
    """WebHDFS GETCONTENTSUMMARY of PATH: what the namespace holds under it."""
    url = f"{namenode_ui.rstrip('/')}/webhdfs/v1{path}?op=GETCONTENTSUMMARY&user.name={user}"
    with urllib.request.urlopen(url, timeout=10) as resp:
        summary = json.load(resp)["ContentSummary"]
    return HdfsSummary(summary["length"], summary["fileCount"], summary["directoryCount"])
