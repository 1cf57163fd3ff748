"""Benchmark: wall time from nothing to a running Spark cluster on N local test hosts, and
what the cluster then does with photographs.

    .venv/bin/python bench/provision_local.py [--nodes 1,3,5] [--photos 300]

For each N: start_cluster.yml (namespaces + sshd, the cluster's secret) -> main.yml +
hadoop.yml (firewall, Java, venv, Spark and HDFS configured, the Scala job built, data
staged and put into HDFS, HDFS whole and master with N workers ALIVE), the same again
(nothing to change), then `drc preprocess` of PHOTOS synthetic photographs (1024x768) from
HDFS to HDFS at all five sizes, driven from the master as run_jobs.yml drives it, then
stop_cluster.yml. Each task's time comes from callback_plugins/task_times.py. The 2015
project took 10-20 minutes per cluster. Writes bench/results/provision_local.json and
provision_local.png (bring-up and preprocess rate against the node count).
"""

import argparse
import json
import os
import platform
import re
import subprocess
import tempfile
import time
from pathlib import Path

from common import shared_data  # bench/ is this script's path

REPO = Path(__file__).resolve().parent.parent
BIN = REPO / ".venv" / "bin"


def playbook(extra: Path, *args: str, times: Path | None = None) -> float:
    """Its wall time; with TIMES, each task's (callback_plugins/task_times.py) there too."""
    start = time.monotonic()
    env = dict(os.environ, ANSIBLE_CONFIG=str(REPO / "ansible.cfg"))
    if times is not None:
        env["DRC_TASK_TIMES"] = str(times)
    proc = subprocess.run([str(BIN / "ansible-playbook"), "-e", f"@{extra}", *args], cwd=REPO,
                          env=env, capture_output=True, text=True, timeout=1800)  # fmt: skip
    if proc.returncode != 0:
        raise SystemExit(proc.stdout[-3000:] + proc.stderr[-2000:])
    return time.monotonic() - start


def preprocess_rate(extra: Path, inventory: str, name: str, photos: Path) -> dict:
    """PHOTOS put into the cluster's HDFS, then preprocessed there (the driver on the master,
    as run_jobs.yml runs it): images per second in Spark, and the job's wall time."""
    master = re.search(r"ansible_host=(\S+)", Path(inventory).read_text()).group(1)
    hdfs = f"hdfs://{master}:8020/user/hadoop"
    env = dict(os.environ, HADOOP_USER_NAME="hadoop", ANSIBLE_CONFIG=str(REPO / "ansible.cfg"))
    subprocess.run([str(BIN / "drc"), "stage", "put", str(photos), f"{hdfs}/bench"], env=env,
                   check=True, capture_output=True, timeout=900)  # fmt: skip
    command = (f"HADOOP_USER_NAME=hadoop {BIN / 'drc'} preprocess {hdfs}/bench {hdfs}/bench-out "
               f"--labels {hdfs}/bench/trainLabels.csv --sizes 16,32,64,128,256 "
               f"--master spark://{master}:7077 --master-ui http://{master}:8080 "
               "--conf-dir /srv/dr-cluster/spark/conf")  # fmt: skip
    start = time.monotonic()
    proc = subprocess.run([str(BIN / "ansible"), f"{name}-master", "-i", inventory, "-e",
                           f"@{extra}", "-m", "ansible.builtin.shell", "-a", command], env=env,
                          cwd=REPO, capture_output=True, text=True, timeout=1800)  # fmt: skip
    wall = time.monotonic() - start
    found = re.search(r"preprocessed (\d+) images.*?([\d.]+) s in Spark, ([\d.]+) images/s",
                      proc.stdout)  # fmt: skip
    if proc.returncode != 0 or not found:
        raise SystemExit(proc.stdout[-3000:] + proc.stderr[-2000:])
    return {"images": int(found.group(1)), "spark_s": float(found.group(2)),
            "images_per_s": float(found.group(3)), "wall_s": round(wall, 1)}  # fmt: skip


def one_cluster(nodes: int, root: Path, samples: Path, photos: Path | None) -> dict:
    name = f"bench{nodes}"
    extra = root / f"{name}.json"
    extra.write_text(json.dumps({"provider": "local", "cluster": name, "NUM_NODES": nodes,
                                 "provision_state_root": str(root / "state"),
                                 "provision_inventory_dir": str(root / "inv"),
                                 "data_url": f"file://{samples}"}))  # fmt: skip
    inventory = str(root / "inv" / name / "hosts")
    try:
        provision = playbook(extra, "playbooks/start_cluster.yml")
        configure = playbook(extra, "-i", inventory, "playbooks/main.yml",
                             "playbooks/hadoop.yml", times=root / "cold.json")  # fmt: skip
        # the same again on the running cluster: every gate checked, nothing to change
        again = playbook(extra, "-i", inventory, "playbooks/main.yml", "playbooks/hadoop.yml",
                         times=root / "warm.json")  # fmt: skip
        preprocess = preprocess_rate(extra, inventory, name, photos) if photos else None
    finally:  # the nodes' disks are mounted under ROOT: never leave them to rmtree
        stop = playbook(extra, "-i", inventory, "playbooks/stop_cluster.yml")
    return {"nodes": nodes, "start_cluster_s": round(provision, 1),
            "main_hadoop_s": round(configure, 1),
            "total_s": round(provision + configure, 1),
            "main_hadoop_again_s": round(again, 1), "stop_s": round(stop, 1),
            "preprocess": preprocess,
            "slowest_tasks_cold": slowest(root / "cold.json"),
            "slowest_tasks_warm": slowest(root / "warm.json")}  # fmt: skip


def slowest(times: Path, count: int = 12) -> list[list]:
    """The COUNT slowest tasks of a run: [seconds, role, task]."""
    tasks = json.loads(times.read_text())["tasks"]
    top = sorted(tasks, key=lambda t: -t["seconds"])[:count]
    return [[t["seconds"], t["role"], t["task"]] for t in top]


def main() -> None:
    samples = shared_data("data/kaggle-sample", "the Kaggle sample photographs it stages")
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--nodes", default="1,3,5")
    parser.add_argument("--photos", type=int, default=300, help="0: no preprocess run")
    parser.add_argument(
        "--out", type=Path, default=REPO / "bench" / "results" / "provision_local.json"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="drc-bench-") as tmp:
        photos = None
        if args.photos:
            photos = Path(tmp) / "photos"
            subprocess.run([str(BIN / "drc"), "synth", str(photos), "--count", str(args.photos),
                            "--width", "1024", "--height", "768"], check=True,
                           capture_output=True, timeout=900)  # fmt: skip
        runs = [one_cluster(int(n), Path(tmp), samples, photos) for n in args.nodes.split(",")]
    for run in runs:
        print(json.dumps(run))
    machine = f"{os.cpu_count()} cores, {platform.machine()}"
    result = {"machine": machine, "photos": args.photos, "runs": runs}
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    plot(runs, args.out.with_suffix(".png"))


def plot(runs: list[dict], out: Path) -> None:
    """Bring-up (cold, warm) and preprocess rate against the node count."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    nodes = [r["nodes"] for r in runs]
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    left.plot(nodes, [r["total_s"] for r in runs], "o-", label="cold (provision + configure)")
    left.plot(nodes, [r["main_hadoop_again_s"] for r in runs], "s-", label="warm (nothing changes)")
    left.set(xlabel="namespace nodes", ylabel="seconds", title="bring-up", xticks=nodes)
    left.legend()
    rated = [r for r in runs if r.get("preprocess")]
    right.plot([r["nodes"] for r in rated], [r["preprocess"]["images_per_s"] for r in rated], "o-")
    right.set(xlabel="namespace nodes", ylabel="images / s (HDFS to HDFS, 5 sizes)",
              title="preprocess on the same 2 cores", xticks=nodes)  # fmt: skip
    fig.tight_layout()
    fig.savefig(out, dpi=100)


if __name__ == "__main__":
    main()
