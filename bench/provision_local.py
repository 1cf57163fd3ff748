"""Benchmark: wall time from nothing to a running Spark cluster on N local test hosts.

    .venv/bin/python bench/provision_local.py [--nodes 1,3,5]

For each N: start_cluster.yml (namespaces + sshd, the cluster's secret) -> main.yml +
hadoop.yml (firewall, Java, venv, Spark and HDFS configured, the Scala job built, data
staged and put into HDFS, HDFS whole and master with N workers ALIVE), the same again
(nothing to change), then stop_cluster.yml. The 2015
project took 10-20 minutes per cluster. Writes bench/results/provision_local.json.
"""

import argparse
import json
import os
import platform
import subprocess
import tempfile
import time
from pathlib import Path

from common import shared_data  # bench/ is this script's path

REPO = Path(__file__).resolve().parent.parent
BIN = REPO / ".venv" / "bin"


def playbook(extra: Path, *args: str) -> float:
    start = time.monotonic()
    env = dict(os.environ, ANSIBLE_CONFIG=str(REPO / "ansible.cfg"))
    proc = subprocess.run([str(BIN / "ansible-playbook"), "-e", f"@{extra}", *args], cwd=REPO,
                          env=env, capture_output=True, text=True, timeout=1800)  # fmt: skip
    if proc.returncode != 0:
        raise SystemExit(proc.stdout[-3000:] + proc.stderr[-2000:])
    return time.monotonic() - start


def one_cluster(nodes: int, root: Path, samples: Path) -> dict:
    name = f"bench{nodes}"
    extra = root / f"{name}.json"
    extra.write_text(json.dumps({"provider": "local", "cluster": name, "NUM_NODES": nodes,
                                 "provision_state_root": str(root / "state"),
                                 "provision_inventory_dir": str(root / "inv"),
                                 "data_url": f"file://{samples}"}))  # fmt: skip
    inventory = str(root / "inv" / name / "hosts")
    provision = playbook(extra, "playbooks/start_cluster.yml")
    configure = playbook(extra, "-i", inventory, "playbooks/main.yml", "playbooks/hadoop.yml")
    # the same again on the running cluster: every gate checked, nothing to change
    again = playbook(extra, "-i", inventory, "playbooks/main.yml", "playbooks/hadoop.yml")
    stop = playbook(extra, "-i", inventory, "playbooks/stop_cluster.yml")
    return {"nodes": nodes, "start_cluster_s": round(provision, 1),
            "main_hadoop_s": round(configure, 1),
            "total_s": round(provision + configure, 1),
            "main_hadoop_again_s": round(again, 1), "stop_s": round(stop, 1)}  # fmt: skip


def main() -> None:
    samples = shared_data("data/kaggle-sample", "the Kaggle sample photographs it stages")
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--nodes", default="1,3,5")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="drc-bench-") as tmp:
        runs = [one_cluster(int(n), Path(tmp), samples) for n in args.nodes.split(",")]
    for run in runs:
        print(json.dumps(run))
    out = REPO / "bench" / "results" / "provision_local.json"
    out.write_text(json.dumps({"machine": f"{os.cpu_count()} cores, {platform.machine()}",
                               "runs": runs}, indent=2) + "\n")  # fmt: skip


if __name__ == "__main__":
    main()
