"""Three real test hosts (network namespaces with sshd) provisioned by start_cluster.yml,
configured over SSH by main.yml, running Spark (master on node 1, a worker on each node)
and the spine's job; stop_cluster.yml leaves nothing behind."""

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from jobs.cluster.submit import master_status
from tests.support.ansible import playbook, run_ansible
from tests.support.hdfs import file_status, live_datanode_hosts, namenode_info

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

    def disk(self, node: str) -> Path:
        """A node's private disk as this namespace sees it (the node: at /srv/dr-cluster)."""
        return self.root / "state" / self.name / "nodes" / f"{self.name}-{node}" / "disk"

    def shell(self, host: str, command: str) -> subprocess.CompletedProcess:
        return run_ansible("ansible", f"{self.name}-{host}", "-m", "ansible.builtin.shell",
                           "-a", command, extra=self.extra, inventory=self.inventory)  # fmt: skip

    def master_ui(self) -> str:
        host = re.search(r"ansible_host=(\S+)", self.inventory.read_text()).group(1)
        return f"http://{host}:8080"

    def leftovers(self) -> dict[str, list]:
        netns = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
        procs = []
        for proc in Path("/proc").iterdir():
            try:
                if proc.name.isdigit() and any(
                    mark in (proc / "cmdline").read_bytes()
                    for mark in (str(self.root).encode(), b"/srv/dr-cluster")  # the nodes' disks
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


def test_each_host_has_a_private_disk(local_cluster):
    """Nodes share no disk: a file one writes at /srv/dr-cluster, another cannot read."""
    probe = "/srv/dr-cluster/only-on-the-master"
    assert local_cluster.shell("master", f"echo master > {probe}").returncode == 0
    assert local_cluster.shell("master", f"cat {probe}").returncode == 0
    assert local_cluster.shell("worker-01", f"test ! -e {probe}").returncode == 0
    assert not Path(probe).exists()  # nor this machine's root namespace
    assert (local_cluster.disk("master") / "only-on-the-master").read_text() == "master\n"


def test_spark_and_hdfs_run_across_the_hosts_and_the_pipeline_reads_hdfs(local_cluster):
    local_cluster.playbook("main.yml", "hadoop.yml", args=("-e", "hadoop_replication=2"))
    status = master_status(local_cluster.master_ui())
    alive = [w for w in status["workers"] if w["state"] == "ALIVE"]
    assert len(alive) == 3
    assert len({w["host"] for w in alive}) == 3  # one per namespace host
    # HDFS: a NameNode on node 1, a DataNode on each host, each on its own disk
    namenode_ui = local_cluster.master_ui().replace(":8080", ":9870")
    assert namenode_info(namenode_ui)["Safemode"] == ""
    assert len(live_datanode_hosts(namenode_ui)) == 3
    holding = []
    for node in ("master", "worker-01", "worker-02"):
        data = local_cluster.disk(node) / "hdfs/data"
        assert (data / "current/VERSION").is_file()  # each DataNode's storage on its own disk
        holding += [node] if list(data.rglob("blk_*")) else []
    assert len(holding) >= 2  # replication 2: each block on two of the disks
    staged = file_status(namenode_ui, "/user/hadoop/raw/trainLabels.csv")
    assert staged["replication"] == 2 and staged["owner"] == "hadoop"
    # only the master staged the data set (then put it into HDFS)
    assert (local_cluster.disk("master") / "data/raw/trainLabels.csv").is_file()
    assert not (local_cluster.disk("worker-01") / "data").exists()

    settings = ("-e", "run_jobs_max_iter=10", "-e", "run_jobs_train_size=16",
                "-e", "hadoop_replication=2")  # fmt: skip
    out = local_cluster.playbook("run_jobs.yml", args=settings)
    assert "images read" in out
    done = master_status(local_cluster.master_ui())["completedapps"]
    assert len(done) == 2 and {a["state"] for a in done} == {"FINISHED"}  # pipeline, Scala
    results = local_cluster.disk("master") / "results/demo"
    report = json.loads((results / "report.json").read_text())
    assert report["kappa"] >= 0.9 and report["images_read"] == 4, report
    assert report["model"].startswith("hdfs://")  # the outputs are in HDFS


def test_spark_holds_the_cluster_secret_and_refuses_applications_without_it(local_cluster):
    """start_cluster.yml made one secret for the cluster, kept vault-encrypted beside its
    inventory; it reaches each node's Spark configuration (its owner's alone) and no
    process list, log or git; an application without it gets no executor and no result."""
    secrets = local_cluster.inventory.parent / "group_vars/all/secrets.yml"
    assert secrets.read_text().startswith("vault_spark_auth_secret: !vault |")
    assert secrets.stat().st_mode & 0o077 == 0
    confs = [local_cluster.disk(n) / "spark/conf/spark-defaults.conf"
             for n in ("master", "worker-01", "worker-02")]  # fmt: skip
    values = {dict(line.split(None, 1) for line in c.read_text().splitlines()
                   if line and not line.startswith("#"))["spark.authenticate.secret"]
              for c in confs}  # fmt: skip
    (secret,) = values  # one per cluster, the same on every node
    assert len(secret) >= 32 and secret not in secrets.read_text()
    for node in ("master", "worker-01", "worker-02"):
        conf_dir = local_cluster.disk(node) / "spark/conf"
        assert conf_dir.stat().st_mode & 0o077 == 0
        for path in local_cluster.disk(node).rglob("*"):
            if path.is_file() and not path.is_symlink() and path.stat().st_size < 10_000_000:
                if secret.encode() in path.read_bytes():  # only its configuration holds it
                    assert path.name == "spark-defaults.conf", path
                    assert path.stat().st_mode & 0o077 == 0, path
    for proc in Path("/proc").iterdir():  # every process of every namespace host
        if proc.name.isdigit():
            try:
                assert secret.encode() not in (proc / "cmdline").read_bytes(), proc.name
            except OSError:
                continue
    git = subprocess.run(["git", "log", "-p", "--all"], cwd=local_cluster.repo,
                         capture_output=True, timeout=120)  # fmt: skip
    assert git.returncode == 0 and secret.encode() not in git.stdout

    master_ip = re.search(r"ansible_host=(\S+)", local_cluster.inventory.read_text()).group(1)
    before = len(master_status(local_cluster.master_ui())["completedapps"])
    intruder = (
        "from pyspark.sql import SparkSession\n"
        f"s = SparkSession.builder.master('spark://{master_ip}:7077')"
        ".config('spark.authenticate', 'true')"
        ".config('spark.authenticate.secret', 'a-guess-that-is-not-the-secret-0123456789')"
        ".getOrCreate()\n"
        "print('RESULT', s.range(10).count())\n"
    )
    proc = subprocess.Popen([str(local_cluster.bin / "python"), "-c", intruder],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)  # fmt: skip
    try:
        output, _ = proc.communicate(timeout=45)
    except subprocess.TimeoutExpired:  # still knocking: a refusal too; its JVM goes with it
        os.killpg(proc.pid, signal.SIGKILL)
        output, _ = proc.communicate()
    assert "RESULT" not in output
    status = master_status(local_cluster.master_ui())
    assert not status["activeapps"] and len(status["completedapps"]) == before


def driver_progress(ui: str) -> int:
    """Tasks the running application has finished (its driver's REST API), 0 until then."""
    try:
        with urllib.request.urlopen(f"{ui}/api/v1/applications", timeout=5) as resp:
            app = json.load(resp)[0]["id"]
        with urllib.request.urlopen(f"{ui}/api/v1/applications/{app}/stages", timeout=5) as resp:
            return sum(stage["numCompleteTasks"] for stage in json.load(resp))
    except (OSError, ValueError, IndexError, KeyError):
        return 0


def test_a_datanode_killed_during_preprocess_loses_no_image(local_cluster, tmp_path):
    """SIGKILL one worker's DataNode while preprocess reads and writes HDFS: the job
    completes and every image is in each size's output exactly once."""
    master_ip = re.search(r"ansible_host=(\S+)", local_cluster.inventory.read_text()).group(1)
    hdfs = f"hdfs://{master_ip}:8020/user/hadoop"
    drc = str(local_cluster.bin / "drc")
    photos = tmp_path / "photos"
    subprocess.run([drc, "synth", str(photos), "--count", "240", "--width", "1024",
                    "--height", "768"], check=True, capture_output=True, timeout=300)  # fmt: skip
    subprocess.run([drc, "stage", "put", str(photos), f"{hdfs}/drill"], check=True,
                   capture_output=True, timeout=300,
                   env={**os.environ, "HADOOP_USER_NAME": "hadoop"})  # fmt: skip
    command = (
        f"HADOOP_USER_NAME=hadoop {drc} preprocess {hdfs}/drill {hdfs}/drill-out "
        f"--labels {hdfs}/drill/trainLabels.csv --sizes 16,32 --partitions 24 "
        f"--master spark://{master_ip}:7077 --master-ui http://{master_ip}:8080 "
        f"--conf-dir /srv/dr-cluster/spark/conf"
    )
    job = subprocess.Popen(
        [str(local_cluster.bin / "ansible"), f"{local_cluster.name}-master", "-i",
         str(local_cluster.inventory), "-m", "ansible.builtin.shell", "-a", command],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env={**os.environ, "ANSIBLE_CONFIG": str(local_cluster.repo / "ansible.cfg")},
    )  # fmt: skip
    victim = local_cluster.disk("worker-02") / "hdfs/pids"
    (pid_file,) = [p for p in victim.glob("*.pid") if "datanode" in p.name]
    pid = int(pid_file.read_text())
    deadline = time.monotonic() + 240
    while driver_progress(f"http://{master_ip}:4040") < 3:  # some tasks done, most to come
        assert job.poll() is None and time.monotonic() < deadline, job.stdout.read()
        time.sleep(0.2)
    os.kill(pid, signal.SIGKILL)
    try:
        output, _ = job.communicate(timeout=600)
        assert job.returncode == 0, output[-3000:]
        assert "preprocessed 240 images" in output and " 0 quarantined" in output, output
        copy = tmp_path / "out"
        subprocess.run([drc, "stage", "get", f"{hdfs}/drill-out", str(copy)], check=True,
                       capture_output=True, timeout=300)  # fmt: skip
        names = sorted(p.stem for p in photos.glob("*.jpeg"))
        for size in (16, 32):
            images = pq.read_table(copy / f"size={size}", columns=["image"]).column(0)
            assert sorted(images.to_pylist()) == names  # each exactly once
    finally:
        job.kill()
        local_cluster.playbook("hadoop.yml")  # the DataNode back, for the tests after this


def test_configuration_is_idempotent(local_cluster):
    recap = local_cluster.playbook("main.yml", "hadoop.yml", args=("-e", "hadoop_replication=2"))
    assert changed(recap) == 0, recap[-2000:]


def test_stop_cluster_leaves_nothing(local_cluster):
    local_cluster.playbook("stop_cluster.yml")
    assert local_cluster.leftovers() == {"netns": [], "processes": []}
    assert not local_cluster.inventory.parent.exists()
