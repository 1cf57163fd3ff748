"""Three test hosts provisioned by start_cluster.yml, then configured and started with Salt
only (`drc salt apply`, salt-ssh): Spark and HDFS across the nodes, the pipeline's kappa,
no change on a second apply, a node whose sshd dies mid-apply finished by running the same
command again, every rendered file equal to what the Ansible roles render, and the Scala
jar Salt's sbt state builds equal, byte for byte, to the sbt role's from the same sources."""

import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

from jobs.cluster import scala_build
from jobs.cluster.submit import master_status
from provision.providers.local import LocalProvider
from tests.support.ansible import run_ansible
from tests.support.hdfs import live_datanode_hosts, namenode_info
from tests.support.local_cluster import LocalCluster

pytestmark = pytest.mark.integration

NODES = ("master", "worker-01", "worker-02")
# The test hosts share this machine: two DataNodes hold each block (as the Ansible tests).
EXTRA = ("-e", "hadoop_replication=2")
# The test hosts share this machine's /home/hadoop: each build in a project of its own there
# (not the sbt role's default, which the embedded cluster's tests build).
SBT_HOME = Path("/home/hadoop")
CONFIG_FILES = {"spark-defaults.conf": "spark/conf", "spark-env.sh": "spark/conf",
                "core-site.xml": "hdfs/conf", "hdfs-site.xml": "hdfs/conf"}  # fmt: skip


class SaltRun:
    def __init__(self, cluster: LocalCluster, state_dir: Path):
        self.cluster, self.state_dir = cluster, state_dir
        self.runs: list[tuple[str, float]] = []
        self.sbt_project = SBT_HOME / f"drc-salt-{cluster.name}"
        self.extra = (*EXTRA, "-e", f"sbt_project_dir={self.sbt_project}")

    def apply(self, *args: str, check: bool = True, label: str = "") -> subprocess.CompletedProcess:
        argv = [str(self.cluster.bin / "drc"), "salt", "apply", str(self.cluster.inventory),
                "--state-dir", str(self.state_dir), *self.extra,
                "-e", f"data_url={self.cluster.extra['data_url']}", *args]  # fmt: skip
        start = time.monotonic()
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=1800)
        self.runs.append((label or " ".join(args) or "apply", time.monotonic() - start))
        print(f"salt {label}: {self.runs[-1][1]:.1f} s\n{proc.stdout[-1500:]}")
        if check:
            assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
        return proc


@pytest.fixture(scope="module")
def salt_cluster(repo, tmp_path_factory):
    cluster = LocalCluster(repo, tmp_path_factory.mktemp("salt-cluster"), prefix="st")
    try:
        cluster.playbook("start_cluster.yml", args=("-e", "NUM_NODES=3"), inventory=False)
        run = SaltRun(cluster, cluster.root / "salt")
        yield run
    finally:
        if cluster.inventory.is_file():
            cluster.playbook("stop_cluster.yml", check=False)
        shutil.rmtree(SBT_HOME / f"drc-salt-{cluster.name}", ignore_errors=True)


def changed(output: str) -> int:
    return int(re.search(r"salt apply: \d+ states, (\d+) changed", output).group(1))


def test_salt_alone_configures_starts_and_runs_the_pipeline(salt_cluster):
    cluster = salt_cluster.cluster
    sizes = json.dumps({"run_jobs_sizes": [16, 32], "run_jobs_train_size": 16})
    out = salt_cluster.apply("--run-jobs", "-e", sizes, label="cold, 3 nodes").stdout
    alive = [w for w in master_status(cluster.master_ui())["workers"] if w["state"] == "ALIVE"]
    assert len({w["host"] for w in alive}) == 3
    namenode_ui = cluster.master_ui().replace(":8080", ":9870")
    assert namenode_info(namenode_ui)["Safemode"] == ""
    assert len(live_datanode_hosts(namenode_ui)) == 3
    for node in NODES:  # each node's DataNode on its own disk
        assert any((cluster.disk(node) / "hdfs/data").rglob("blk_*")), node
    report = json.loads((cluster.disk("master") / "results/demo/report.json").read_text())
    assert -1.0 <= report["kappa"] <= 1.0, report  # 6 photographs: a kappa, not a good one
    assert "run-jobs: " in out


def test_salt_builds_the_jar_the_sbt_role_builds(salt_cluster, repo):
    """The sbt role on the same master, into a project of its own, from the same sources and
    Spark: the same jar, SHA-256 for SHA-256 (sbt writes fixed timestamps into it)."""
    cluster = salt_cluster.cluster
    salt_jar = scala_build.jar_path(salt_cluster.sbt_project)
    assert scala_build.is_current(salt_cluster.sbt_project)  # built from this checkout
    project = SBT_HOME / f"drc-ansible-{cluster.name}"
    assert not project.exists()  # so the role's jar is its own build
    try:
        proc = run_ansible("ansible-playbook", "tests/support/sbt_build.yml",
                           inventory=cluster.inventory,
                           extra={**cluster.extra, "drc_repo": str(repo),
                                  "sbt_project_dir": str(project)})  # fmt: skip
        assert proc.returncode == 0, proc.stdout[-3000:]
        digests = {path: hashlib.sha256(path.read_bytes()).hexdigest()
                   for path in (salt_jar, scala_build.jar_path(project))}  # fmt: skip
        assert len(set(digests.values())) == 1, digests
    finally:
        shutil.rmtree(project, ignore_errors=True)


def test_a_second_apply_changes_nothing(salt_cluster):
    out = salt_cluster.apply(label="warm, 3 nodes").stdout
    assert changed(out) == 0, out


def test_salt_renders_what_the_ansible_roles_render(salt_cluster, repo, tmp_path):
    """The same inventory through tests/support/render_config.yml (the roles' templates and
    defaults, Ansible's precedence): each node's four files equal, byte for byte."""
    cluster = salt_cluster.cluster
    rendered = tmp_path / "ansible"
    proc = run_ansible("ansible-playbook", "tests/support/render_config.yml",
                       inventory=cluster.inventory,
                       extra={**cluster.extra, "render_out": str(rendered),
                              "drc_repo": str(repo), "hadoop_replication": "2"})  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-3000:]
    for node in NODES:
        for name, where in CONFIG_FILES.items():
            ansible = (rendered / f"{cluster.name}-{node}" / name).read_text()
            salt = (cluster.disk(node) / where / name).read_text()
            assert salt == ansible, (node, name)
    secret = re.search(r"^spark\.authenticate\.secret\s+(\S+)$",
                       (cluster.disk("master") / "spark/conf/spark-defaults.conf").read_text(),
                       re.M).group(1)  # fmt: skip
    assert len(secret) >= 32
    # never on the controller's disk in clear: not in salt-ssh's config, cache or logs
    for path in salt_cluster.state_dir.rglob("*"):
        if path.is_file() and not path.is_symlink():
            assert secret.encode() not in path.read_bytes(), path


def test_a_node_whose_sshd_dies_mid_apply_is_finished_by_running_it_again(salt_cluster):
    """A configuration change on every node; worker-02's sshd killed as the apply starts:
    the apply fails naming it, the others are done. sshd back, the same command finishes:
    worker-02 has the change and all three workers and DataNodes are back."""
    cluster = salt_cluster.cluster
    victim = f"{cluster.name}-worker-02"
    change = ("-e", "spark_worker_timeout_s=12")
    home = cluster.root / "state" / cluster.name / "nodes" / victim
    sshd = int((home / "sshd.pid").read_text())
    argv = [str(cluster.bin / "drc"), "salt", "apply", str(cluster.inventory), "--state-dir",
            str(salt_cluster.state_dir), *salt_cluster.extra, *change]  # fmt: skip
    job = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        time.sleep(2)  # inside the first phase
        os.kill(sshd, signal.SIGTERM)
        output, _ = job.communicate(timeout=900)
    finally:
        job.kill()
    print(output[-3000:])
    assert job.returncode != 0, output[-3000:]
    assert victim in output.split("failed on", 1)[-1].splitlines()[0], output[-3000:]
    assert "run the same command again" in output
    LocalProvider(cluster.root / "state").start_sshd(cluster.name, victim)
    out = salt_cluster.apply(*change, label="resume after a failed node").stdout
    assert changed(out) > 0  # what worker-02 had left to do
    env = (cluster.disk("worker-02") / "spark/conf/spark-env.sh").read_text()
    assert "-Dspark.worker.timeout=12" in env
    alive = [w for w in master_status(cluster.master_ui())["workers"] if w["state"] == "ALIVE"]
    assert len({w["host"] for w in alive}) == 3
    namenode_ui = cluster.master_ui().replace(":8080", ":9870")
    assert len(live_datanode_hosts(namenode_ui)) == 3


def test_stop_then_destroy_leaves_nothing(salt_cluster):
    cluster = salt_cluster.cluster
    proc = subprocess.run([str(cluster.bin / "drc"), "salt", "stop", str(cluster.inventory),
                           "--state-dir", str(salt_cluster.state_dir), *EXTRA],
                          capture_output=True, text=True, timeout=600)  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    for node in NODES:
        assert not list((cluster.disk(node) / "spark/pids").glob("*.pid")), node
        assert not list((cluster.disk(node) / "hdfs/pids").glob("*.pid")), node
    cluster.playbook("stop_cluster.yml")
    assert cluster.leftovers() == {"netns": [], "processes": []}
