"""Which disk is full, in one line each: HDFS's DataNode volumes (the NameNode's list of live
DataNodes, then each DataNode's own volume report) and the local disks a job writes.

A job that fails for want of space says so first (`submit_app`), and one that completes
while a DataNode is full says which (its blocks went elsewhere):

    python -m jobs.cluster.space --namenode-ui http://NN:9870 [PATH ...]

prints a line per volume (node, disk, free space, reserve) and exits 1 when one is full.
"""

import argparse
import http.client
import json
import shutil
import socket
import sys
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

MIB = 1 << 20
# A DataNode takes a new block only with a whole block free beyond its reserve (the
# cluster's block size, HDFS's default where it cannot be read); a local disk with less
# than LOCAL_MIN_FREE is full for a job's files.
BLOCK_BYTES = 128 * MIB
LOCAL_MIN_FREE = 16 * MIB


@dataclass(frozen=True)
class Volume:
    node: str  # the DataNode's address, or "local"
    disk: str  # the volume's directory
    free: int  # bytes a writer may still use (a DataNode's own reckoning, its reserve kept)
    reserved: int
    need: int  # below this it is full
    hdfs: bool = True  # a DataNode volume (else a local disk a job writes)

    @property
    def full(self) -> bool:
        return self.free < self.need

    def line(self) -> str:
        state = "FULL" if self.full else "ok"
        reserve = f", {self.reserved / MIB:.0f} MiB kept for the rest" if self.reserved else ""
        needs = "a block needs" if self.hdfs else "a job needs"
        return (f"{self.node} {self.disk}: {state}, {self.free / MIB:.0f} MiB free for writes "
                f"({needs} {self.need / MIB:.0f} MiB{reserve})")  # fmt: skip


def _jmx(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=5) as resp:
        beans = json.load(resp).get("beans", [])
    return beans[0] if beans else {}


def block_bytes(namenode_ui: str) -> int:
    """The cluster's block size (WebHDFS's server defaults)."""
    url = namenode_ui.rstrip("/") + "/webhdfs/v1/?op=GETSERVERDEFAULTS"
    try:
        with urllib.request.urlopen(url, timeout=5) as resp:
            return int(json.load(resp)["FsServerDefaults"]["blockSize"])
    except (OSError, ValueError, KeyError):
        return BLOCK_BYTES


def datanode_volumes(namenode_ui: str, short_only: bool = False) -> list[Volume]:
    """Every live DataNode's volumes, as each DataNode reports them (free beyond reserve).
    SHORT_ONLY: only the DataNodes whose free space, as the NameNode last heard it, is under
    a block (two requests to the NameNode when none is: what every finished job asks); a node with
    room on any volume still takes blocks."""
    info = _jmx(namenode_ui.rstrip("/") + "/jmx?qry=Hadoop:service=NameNode,name=NameNodeInfo")
    need = block_bytes(namenode_ui)
    volumes = []
    for node in json.loads(info.get("LiveNodes") or "{}").values():
        address = node.get("xferaddr", "?").split(":")[0]
        if short_only and int(node.get("remaining", 0)) >= need:
            continue
        try:
            bean = _jmx(f"http://{node['infoAddr']}/jmx?qry=Hadoop:service=DataNode,"
                        "name=DataNodeInfo")  # fmt: skip
            report = json.loads(bean.get("VolumeInfo") or "{}")
            volumes += [Volume(address, disk.removesuffix("/current"), int(v["freeSpace"]),
                               int(v.get("reservedSpace", 0)), need)
                        for disk, v in sorted(report.items())]  # fmt: skip
        except (OSError, ValueError, KeyError, http.client.HTTPException):
            # its own report unreadable: the NameNode's figure for the whole node
            volumes.append(Volume(address, "(all volumes)", int(node.get("remaining", 0)), 0,
                                  need))  # fmt: skip
    return volumes


def own_address(toward: str | None) -> str:
    """This node's address on the way to TOWARD (a URL: the Spark master's), to name it."""
    host = urlparse(toward or "").hostname
    if not host or host in ("localhost", "127.0.0.1"):
        return "local"
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect((host, 9))  # no packet is sent: only a route is chosen
            return probe.getsockname()[0]
    except OSError:
        return "local"


def local_volumes(paths: list[str | Path], node: str = "local") -> list[Volume]:
    """The disks under these local paths (the nearest existing directory of each)."""
    volumes = []
    for path in paths:
        where = Path(path)
        while not where.exists() and where != where.parent:
            where = where.parent
        volumes.append(Volume(node, str(path), shutil.disk_usage(where).free, 0,
                              LOCAL_MIN_FREE, hdfs=False))  # fmt: skip
    return volumes


def spark_scratch(conf_dir: str | Path | None) -> list[str]:
    """This node's Spark scratch and work directories (SPARK_LOCAL_DIRS, SPARK_WORKER_DIR in
    the conf dir's spark-env.sh, as the spark role writes them); [] where unreadable."""
    try:
        text = (Path(conf_dir) / "spark-env.sh").read_text() if conf_dir else ""
    except OSError:
        return []
    dirs = []
    for line in text.splitlines():
        key, _, value = line.strip().removeprefix("export ").partition("=")
        if key in ("SPARK_LOCAL_DIRS", "SPARK_WORKER_DIR") and value:
            dirs += value.strip("'\"").split(",")
    return dirs


def full_lines(namenode_ui: str | None, local: list[str | Path] = (), node: str = "local"
               ) -> list[str]:  # fmt: skip
    """One line per full volume; nothing when all have room or none can be read."""
    # A diagnosis only: whatever goes wrong reading the disks, the job's own outcome stands.
    volumes = []
    try:
        volumes += local_volumes(list(local), node)
        if namenode_ui:
            volumes += datanode_volumes(namenode_ui, short_only=True)
    except Exception:  # noqa: BLE001 - see above
        pass
    return [v.line() for v in volumes if v.full]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m jobs.cluster.space",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--namenode-ui", help="http://NAMENODE:9870")
    parser.add_argument("paths", nargs="*", help="local paths whose disks to check")
    args = parser.parse_args(argv)
    volumes = local_volumes(args.paths)
    if args.namenode_ui:
        volumes += datanode_volumes(args.namenode_ui)
    for volume in volumes:
        print(volume.line())
    return 1 if any(v.full for v in volumes) else 0


if __name__ == "__main__":
    sys.exit(main())
