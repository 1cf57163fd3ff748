"""The 2015 Ansible-vs-Salt table, measured: the same test hosts (network namespaces with
sshd, provider local) configured and started by the playbooks (main.yml + hadoop.yml) and by
`drc salt apply`, cold (node disks empty: no configuration, no HDFS, no daemon) and warm
(everything in place: the second run), with 1 and 3 nodes; plus the lines of each path's
configuration code. Both do the same work: the nftables firewall, Java, venv, Spark and
HDFS configured, HDFS formatted and started, the sample data staged and put into HDFS,
Spark started, each gated on its health check (the playbooks' sbt build is left out: the
Salt states have none).

    .venv/bin/python bench/salt_vs_ansible.py [--nodes 1,3]

Caveat: namespace hosts share this machine's packages (JDK, venv, Hadoop's jars): "cold"
is a fresh node's state, not a fresh machine's downloads.
"""

import argparse
import json
import os
import re
import shutil
import subprocess
import time
from pathlib import Path

from common import REPO, shared_data, write_result

BIN = REPO / ".venv" / "bin"
STATE = REPO / ".cluster" / "bench" / "salt"
ANSIBLE_ARGS = ("--skip-tags", "sbt")
ENV = {**os.environ, "ANSIBLE_CONFIG": str(REPO / "ansible.cfg")}


def run(argv: list[str]) -> tuple[float, str]:
    start = time.perf_counter()
    proc = subprocess.run(argv, cwd=REPO, env=ENV, capture_output=True, text=True, timeout=3600)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(argv[:3])}: {proc.stdout[-3000:]}{proc.stderr[-2000:]}")
    return time.perf_counter() - start, proc.stdout


def changed_ansible(out: str) -> int:
    return sum(int(n) for n in re.findall(r"changed=(\d+)", out.split("PLAY RECAP")[-1]))


def changed_salt(out: str) -> int:
    return int(re.search(r"salt apply: \d+ states, (\d+) changed", out).group(1))


def config_lines(paths: list[Path]) -> int:
    """Non-blank lines that are not only a comment, in every file under `paths`."""
    total = 0
    for root in paths:
        for path in sorted([root] if root.is_file() else root.rglob("*")):
            if path.is_file() and path.suffix in {".yml", ".yaml", ".sls", ".jinja", ".py", ".j2"}:
                for line in path.read_text().splitlines():
                    text = line.strip()
                    if text and not text.startswith(("#", "{#", '"""')):
                        total += 1
    return total


def wipe(disks: list[Path]) -> None:
    """The nodes' own disks emptied: their configuration, HDFS and pids (daemons stopped)."""
    for disk in disks:
        for entry in disk.iterdir():
            if entry.name != "salt-thin":  # salt-ssh's copy of Salt: kept, like the packages
                shutil.rmtree(entry) if entry.is_dir() else entry.unlink()


def measure(nodes: int, samples: Path) -> dict:
    name = f"bsalt{nodes}"
    extra = ("-e", json.dumps({"provider": "local", "cluster": name,
                               "provision_state_root": str(STATE / "state"),
                               "provision_inventory_dir": str(STATE / "inventories"),
                               "data_url": f"file://{samples}"}))  # fmt: skip
    inventory = STATE / "inventories" / name / "hosts"
    playbook = [str(BIN / "ansible-playbook"), *extra]
    run([*playbook, "-e", f"NUM_NODES={nodes}", "playbooks/start_cluster.yml"])
    disks = sorted((STATE / "state" / name / "nodes").glob("*/disk"))
    salt = [str(BIN / "drc"), "salt", "apply", str(inventory), "--state-dir", str(STATE / name),
            "-e", f"data_url=file://{samples}"]  # fmt: skip
    stop = [str(BIN / "drc"), "salt", "stop", str(inventory), "--state-dir", str(STATE / name)]
    ansible = [*playbook, "-i", str(inventory), *ANSIBLE_ARGS, "playbooks/main.yml",
               "playbooks/hadoop.yml"]  # fmt: skip
    result = {}
    try:
        for tool, argv, changed in (("ansible", ansible, changed_ansible),
                                    ("salt", salt, changed_salt)):  # fmt: skip
            run(stop)
            wipe(disks)
            cold, out = run(argv)
            warm, out_warm = run(argv)
            result[tool] = {
                "cold_s": round(cold, 1),
                "warm_s": round(warm, 1),
                "cold_changed": changed(out),
                "warm_changed": changed(out_warm),
            }
            print(f"{nodes} node(s), {tool}: {result[tool]}", flush=True)
        run(stop)
    finally:
        run([*playbook, "-i", str(inventory), "playbooks/stop_cluster.yml"])
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--nodes", default="1,3")
    args = parser.parse_args()
    samples = shared_data("data/kaggle-sample", "the Kaggle sample photographs it stages")
    roles = [
        REPO / "roles" / r
        for r in ("firewall", "java", "python_env", "spark", "hadoop", "stage_data")
    ]
    lines = {
        # the roles' tasks, handlers, defaults, vars; the two playbooks
        "ansible": [*(p / d for p in roles for d in ("tasks", "handlers", "defaults", "vars")),
                    REPO / "playbooks/main.yml", REPO / "playbooks/hadoop.yml"],
        "ansible_argument_specs": [p / "meta" for p in roles],
        "salt_states_pillar": [REPO / "salt"],
        # the controller's salt-ssh driver and the pillar resolver (from the roles' defaults)
        "salt_controller": [REPO / "jobs/cluster" / name for name in
                            ("salt_ssh.py", "cluster_vars.py", "health.py")],
        "shared_templates": [p / "templates" for p in roles],
    }  # fmt: skip
    result = {
        "what": "configure + start Spark and HDFS on namespace test hosts (provider local), "
        "cold = node disks empty, warm = second run; 2-core controller",
        "nodes": {n: measure(int(n), samples) for n in args.nodes.split(",")},
        "config_lines": {k: config_lines(v) for k, v in lines.items()},
    }
    write_result("salt_vs_ansible", result)


if __name__ == "__main__":
    main()
