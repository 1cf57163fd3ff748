"""What the tests read from a NameNode: its NameNodeInfo bean (safe mode, live DataNodes) and
a file's status (WebHDFS, read only)."""

import json
import urllib.request


def namenode_info(ui: str) -> dict:
    url = f"{ui.rstrip('/')}/jmx?qry=Hadoop:service=NameNode,name=NameNodeInfo"
    with urllib.request.urlopen(url, timeout=10) as resp:
        info = json.load(resp)["beans"][0]
    info["LiveNodes"] = json.loads(info["LiveNodes"])
    return info


def live_datanode_hosts(ui: str) -> set[str]:
    return {node["xferaddr"].split(":")[0] for node in namenode_info(ui)["LiveNodes"].values()}


def file_status(ui: str, path: str, user: str = "hadoop") -> dict:
    """WebHDFS GETFILESTATUS of one path (replication, length, owner)."""
    url = f"{ui.rstrip('/')}/webhdfs/v1{path}?op=GETFILESTATUS&user.name={user}"
    with urllib.request.urlopen(url, timeout=10) as resp:
        return json.load(resp)["FileStatus"]


def namesystem(ui: str) -> dict:
    """The NameNode's FSNamesystem bean: CorruptBlocks (blocks with a bad replica),
    UnderReplicatedBlocks, MissingBlocks, PendingDeletionBlocks, ..."""
    url = f"{ui.rstrip('/')}/jmx?qry=Hadoop:service=NameNode,name=FSNamesystem"
    with urllib.request.urlopen(url, timeout=10) as resp:
        return json.load(resp)["beans"][0]
