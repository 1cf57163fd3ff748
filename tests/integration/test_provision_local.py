"""Three real test hosts (network namespaces with sshd) provisioned by start_cluster.yml,
configured over SSH by main.yml, running Spark (master on node 1, a worker on each node)
and the spine's job; stop_cluster.yml leaves nothing behind."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from jobs.cluster.submit import master_status
from tests.support.ansible import playbook, run_ansible
from tests.support.hdfs import live_datanode_hosts, namenode_info

pytestmark = pytest.mark.integration


class LocalCluster:
    def __init__(self, repo: Path, root: Path):
        self.repo, self.root = repo, root
        self.name = f"it{os.getpid() % 10000}"
        self.inventory = root / "inventories" / self.name / "hosts"
        self.extra = {
            "provider": "local",
            "cluster": self.name,
            "provision_state_root": str(root / "state"),
            "provision_inventory_dir": str(root / "inventories"),
        }
        self.bin = Path(sys.executable).parent

    def playbook(self, *names: str, args=(), inventory=True, check=True) -> str:
        return playbook(*names, args=args, extra=self.extra, check=check,
                        inventory=self.inventory if inventory else None)  # fmt: skip

    def master_ui(self) -> str:
        host = re.search(r"ansible_host=(\S+)", self.inventory.read_text()).group(1)
        return f"http://{host}:8080"

    def leftovers(self) -> dict[str, list]:
        netns = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
        procs = []
        for proc in Path("/proc").iterdir():
            try:
                if (
                    proc.name.isdigit()
                    and str(self.root).encode() in (proc / "cmdline").read_bytes()
                ):
                    procs.append(int(proc.name))
            except OSError:
                continue
        return {
            "netns": [ln.split()[0] for ln in netns.splitlines() if ln.startswith(self.name)],
            "processes": procs,
        }


def changed(recap: str) -> int:
    return sum(int(n) for n in re.findall(r"changed=(\d+)", recap.split("PLAY RECAP")[-1]))


@pytest.fixture(scope="module")
def local_cluster(repo, tmp_path_factory):
    cluster = LocalCluster(repo, tmp_path_factory.mktemp("local-cluster"))
    try:
        cluster.playbook("start_cluster.yml", args=("-e", "NUM_NODES=3"), inventory=False)
        yield cluster
    finally:
        if cluster.inventory.is_file():
            cluster.playbook("stop_cluster.yml", check=False)


def test_three_hosts_answer_over_ssh(local_cluster):
    proc = run_ansible("ansible", "all", "-m", "ansible.builtin.ping",
                       extra=local_cluster.extra, inventory=local_cluster.inventory)  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-3000:]
    out = proc.stdout
    assert out.count("SUCCESS") == 3
    inventory = local_cluster.inventory.read_text()
    assert "ansible_ssh_private_key_file=" in inventory
    assert "CHANGE-ME" not in inventory and "vault" not in inventory


def test_spark_runs_across_the_hosts_and_the_job_completes(local_cluster):
    local_cluster.playbook("main.yml", "hadoop.yml")
    status = master_status(local_cluster.master_ui())
    alive = [w for w in status["workers"] if w["state"] == "ALIVE"]
    assert len(alive) == 3
    assert len({w["host"] for w in alive}) == 3  # one per namespace host
    # HDFS: a NameNode on node 1, a DataNode on each host
    namenode_ui = local_cluster.master_ui().replace(":8080", ":9870")
    assert namenode_info(namenode_ui)["Safemode"] == ""
    assert len(live_datanode_hosts(namenode_ui)) == 3

    settings = ("-e", "run_jobs_max_iter=10", "-e", "run_jobs_train_size=16")
    out = local_cluster.playbook("run_jobs.yml", args=settings)
    assert "images read" in out
    done = master_status(local_cluster.master_ui())["completedapps"]
    assert [a["state"] for a in done] == ["FINISHED"]


def test_configuration_is_idempotent(local_cluster):
    recap = local_cluster.playbook("main.yml")
    assert changed(recap) == 0, recap[-2000:]


def test_stop_cluster_leaves_nothing(local_cluster):
    local_cluster.playbook("stop_cluster.yml")
    assert local_cluster.leftovers() == {"netns": [], "processes": []}
    assert not local_cluster.inventory.parent.exists()
