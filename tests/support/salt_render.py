"""A Salt state as salt-call renders it for each host of an inventory (state.show_sls, the
pillar `drc salt apply` resolves; nothing applied)."""

import json
import subprocess
import sys
from pathlib import Path

import yaml

from jobs.cluster.cluster_vars import REPO, resolve
from jobs.cluster.salt_ssh import write_config

# two nodes, the first master and NameNode, both workers and DataNodes
TWO_NODES = """[spark_master]
n1
[hdfs_namenode]
n1
[spark_workers]
n1
n2
[hdfs_datanodes]
n1
n2
[all]
n1 ansible_host=10.9.0.1 spark_bind_address=10.9.0.1
n2 ansible_host=10.9.0.2 spark_bind_address=10.9.0.2
"""


def show_sls(tmp: Path, inventory_text: str, sls: str, hosts: tuple[str, ...]) -> dict[str, dict]:
    (tmp / "group_vars").mkdir()
    (tmp / "group_vars" / "all").symlink_to(REPO / "group_vars" / "all")
    inventory = tmp / "hosts"
    inventory.write_text(inventory_text)
    state_dir = write_config(tmp / "state", inventory, resolve(inventory), ())
    master = yaml.safe_load((state_dir / "master").read_text())
    out = {}
    for host in hosts:
        minion = {key: master[key] for key in ("file_roots", "pillar_roots", "root_dir",
                                               "cachedir", "pki_dir", "sock_dir")}  # fmt: skip
        minion |= {"id": host, "file_client": "local", "log_file": str(tmp / "minion.log")}
        config = tmp / f"config-{host}"
        config.mkdir()
        (config / "minion").write_text(json.dumps(minion))
        pillar = json.dumps({"drc_secrets_by_host": {host: {}}})
        proc = subprocess.run(
            [str(Path(sys.executable).parent / "salt-call"), "--local", "--config-dir",
             str(config), "--out", "json", "--skip-grains", "state.show_sls", sls,
             f"pillar={pillar}"],
            capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
        out[host] = json.loads(proc.stdout)["local"]
    return out
