"""Three real test hosts (network namespaces with sshd) provisioned by start_cluster.yml,
configured over SSH by main.yml, running Spark (master on node 1, a worker on each node)
and the spine's job; stop_cluster.yml leaves nothing behind."""

import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from jobs.cluster.submit import master_status
from tests.support.ansible import run_ansible
from tests.support.hdfs import file_status, live_datanode_hosts, namenode_info, namesystem
from tests.support.local_cluster import LocalCluster

pytestmark = pytest.mark.integration


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

    master_ip = local_cluster.address()
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


PROBE = """
import json, socket, sys
from concurrent.futures import ThreadPoolExecutor

def reach(port):
    try:
        socket.create_connection((sys.argv[1], port), timeout=2).close()
        return port
    except OSError:
        return None

with ThreadPoolExecutor(32) as pool:
    print(json.dumps([p for p in pool.map(reach, map(int, sys.argv[2:])) if p]))
"""


def test_a_host_outside_the_cluster_reaches_none_of_its_ports(local_cluster):
    """The nodes' firewall: an intruder on the same bridge reaches none of the ports the
    master listens on (SSH, Spark's, HDFS's, the block managers'); this controller does."""
    master = f"{local_cluster.name}-master"
    master_ip = local_cluster.address()
    listening = subprocess.run(["ip", "netns", "exec", master, "ss", "-Hltn"], check=True,
                               capture_output=True, text=True).stdout  # fmt: skip
    ports = sorted({int(line.split()[3].rsplit(":", 1)[1]) for line in listening.splitlines()})
    assert {22, 7077, 8080, 8081, 8020, 9870, 9866, 9864}.issubset(ports), ports
    net = json.loads((local_cluster.root / "state" / local_cluster.name / "network.json")
                     .read_text())  # fmt: skip
    intruder, veth = f"x{local_cluster.name}", f"xv{os.getpid() % 100000}"
    ns = ["ip", "-n", intruder]
    try:
        for argv in (["ip", "netns", "add", intruder],
                     ["ip", "link", "add", veth, "type", "veth", "peer", "name", f"{veth}p"],
                     ["ip", "link", "set", veth, "master", net["bridge"], "up"],
                     ["ip", "link", "set", f"{veth}p", "netns", intruder],
                     [*ns, "addr", "add", f"{net['prefix']}.250/24", "dev", f"{veth}p"],
                     [*ns, "link", "set", f"{veth}p", "up"]):  # fmt: skip
            subprocess.run(argv, check=True, capture_output=True)
        probe = [sys.executable, "-c", PROBE, master_ip, *map(str, ports)]
        inside = subprocess.run(["ip", "netns", "exec", intruder, *probe], check=True,
                                capture_output=True, text=True, timeout=60)  # fmt: skip
        assert json.loads(inside.stdout) == []  # refused or dropped, every one
        # the rule, not a dead network: the same bridge lets the controller in
        controller = subprocess.run(probe, check=True, capture_output=True, text=True,
                                    timeout=60)  # fmt: skip
        assert {22, 7077, 8020}.issubset(json.loads(controller.stdout))
    finally:
        subprocess.run(["ip", "netns", "del", intruder], capture_output=True)
        subprocess.run(["ip", "link", "del", veth], capture_output=True)


def driver_progress(ui: str) -> int:
    """Tasks the running application has finished (its driver's REST API), 0 until then."""
    try:
        with urllib.request.urlopen(f"{ui}/api/v1/applications", timeout=5) as resp:
            app = json.load(resp)[0]["id"]
        with urllib.request.urlopen(f"{ui}/api/v1/applications/{app}/stages", timeout=5) as resp:
            return sum(stage["numCompleteTasks"] for stage in json.load(resp))
    except (OSError, ValueError, IndexError, KeyError):
        return 0


class Drill:
    """The failure drills' shared data set on HDFS, and jobs run on the master (the driver
    there, as run_jobs.yml runs them) while a daemon is SIGKILLed by its pid file."""

    def __init__(self, cluster: LocalCluster, photos: Path):
        self.cluster, self.photos = cluster, photos
        self.master_ip = cluster.address()
        self.hdfs = f"hdfs://{self.master_ip}:8020/user/hadoop"
        self.drc = str(cluster.bin / "drc")

    def command(self, *args: str) -> str:
        return (f"HADOOP_USER_NAME=hadoop {self.drc} {' '.join(args)} "
                f"--master spark://{self.master_ip}:7077 "
                f"--master-ui http://{self.master_ip}:8080 "
                f"--conf-dir /srv/dr-cluster/spark/conf")  # fmt: skip

    def on_master(self, command: str) -> subprocess.Popen:
        return subprocess.Popen(
            [str(self.cluster.bin / "ansible"), f"{self.cluster.name}-master", "-i",
             str(self.cluster.inventory), "-m", "ansible.builtin.shell", "-a", command],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            env={**os.environ, "ANSIBLE_CONFIG": str(self.cluster.repo / "ansible.cfg")},
        )  # fmt: skip

    def run(self, command: str) -> str:
        job = self.on_master(command)
        output, _ = job.communicate(timeout=600)
        assert job.returncode == 0, output[-3000:]
        return output

    def run_killing(self, command: str, pid_file: Path, after_tasks: int) -> tuple[str, float]:
        """COMMAND, with the process in PID_FILE SIGKILLed once the application has finished
        AFTER_TASKS tasks; (its output, seconds from the kill to the job's end)."""
        pid = int(pid_file.read_text())
        return self.run_during(command, after_tasks, lambda: os.kill(pid, signal.SIGKILL))

    def run_during(self, command: str, after_tasks: int, fault) -> tuple[str, float]:
        """COMMAND, with FAULT() done once the application has finished AFTER_TASKS tasks;
        (its output, seconds from the fault to the job's end). The job must succeed."""
        job = self.on_master(command)
        try:
            deadline = time.monotonic() + 300
            while driver_progress(f"http://{self.master_ip}:4040") < after_tasks:
                assert job.poll() is None and time.monotonic() < deadline, job.stdout.read()
                time.sleep(0.2)
            fault()
            faulted = time.monotonic()
            output, _ = job.communicate(timeout=600)
            assert job.returncode == 0, output[-3000:]
            return output, time.monotonic() - faulted
        finally:
            job.kill()

    def get(self, url: str, local: Path) -> Path:
        subprocess.run([self.drc, "stage", "get", url, str(local)], check=True,
                       capture_output=True, timeout=300)  # fmt: skip
        return local

    def spark_pid_file(self, node: str, daemon: str) -> Path:
        pids = self.cluster.disk(node) / "spark/pids"
        return pids / f"spark-drc-org.apache.spark.deploy.{daemon}-1.pid"


BROKEN = ("9990_left", "9990_right")  # a truncated JPEG and a text file: quarantined


@pytest.fixture(scope="module")
def drill(local_cluster, tmp_path_factory) -> Drill:
    """240 photographs and two broken files, in HDFS at /user/hadoop/drill."""
    photos = tmp_path_factory.mktemp("drill") / "photos"
    drc = str(local_cluster.bin / "drc")
    subprocess.run([drc, "synth", str(photos), "--count", "240", "--width", "1024",
                    "--height", "768"], check=True, capture_output=True, timeout=300)  # fmt: skip
    good = sorted(photos.glob("*.jpeg"))[0].read_bytes()
    (photos / f"{BROKEN[0]}.jpeg").write_bytes(good[: len(good) // 3])
    (photos / f"{BROKEN[1]}.jpeg").write_text("not a photograph\n")
    with (photos / "trainLabels.csv").open("a") as labels:
        labels.write("".join(f"{name},0\n" for name in BROKEN))
    cluster = Drill(local_cluster, photos)
    subprocess.run([drc, "stage", "put", str(photos), f"{cluster.hdfs}/drill"], check=True,
                   capture_output=True, timeout=300,
                   env={**os.environ, "HADOOP_USER_NAME": "hadoop"})  # fmt: skip
    return cluster


def assert_each_image_once(drill: Drill, out: str, copy: Path, sizes=(16, 32)) -> None:
    from jobs.dataset.layout import quarantine_dir
    from jobs.preprocess.job import read_quarantine

    drill.get(out, copy)
    names = sorted(p.stem for p in drill.photos.glob("*.jpeg") if p.stem not in BROKEN)
    for size in sizes:
        images = pq.read_table(copy / f"size={size}", columns=["image"]).column(0)
        assert sorted(images.to_pylist()) == names  # each exactly once
    parts = [p.name for p in quarantine_dir(copy).iterdir()]  # the tasks' parts, no .partial
    assert parts and all(re.fullmatch(r"part-\d{5}\.csv", p) for p in parts), parts
    assert sorted(row["image"] for row in read_quarantine(copy)) == sorted(BROKEN)


def preprocess_args(drill: Drill, out: str) -> list[str]:
    return ["preprocess", f"{drill.hdfs}/drill", out, "--labels",
            f"{drill.hdfs}/drill/trainLabels.csv", "--sizes", "16,32",
            "--partitions", "24"]  # fmt: skip


def changed_per_host(recap: str) -> dict[str, int]:
    tail = recap.split("PLAY RECAP")[-1]
    return {host: int(n) for host, n in re.findall(r"^(\S+)\s*:\s*ok=\d+\s+changed=(\d+)", tail,
                                                   re.M)}  # fmt: skip


def lose_node(cluster: LocalCluster, node: str) -> list[int]:
    """A node lost whole, as a cloud VM vanishes: its network goes silent (packets dropped,
    not refused) and every process in it (sshd, DataNode, Spark worker, executors, Python
    workers) is SIGKILLed at once. The pids killed."""
    name = f"{cluster.name}-{node}"
    subprocess.run(["ip", "-n", name, "link", "set", "eth0", "down"], check=True)
    pids = [int(p) for p in subprocess.run(["ip", "netns", "pids", name], capture_output=True,
                                           text=True, check=True).stdout.split()]  # fmt: skip
    for pid in pids:
        os.kill(pid, signal.SIGKILL)
    return pids


def poll(what: str, probe, timeout_s: float, every_s: float = 0.5) -> float:
    """Seconds until PROBE() is true; fails naming WHAT after TIMEOUT_S."""
    start = time.monotonic()
    while not probe():
        assert time.monotonic() - start < timeout_s, f"{what}: not within {timeout_s:.0f} s"
        time.sleep(every_s)
    return time.monotonic() - start


@pytest.mark.drill
def test_node_lost_mid_preprocess_then_replaced_and_rejoined(local_cluster, drill, tmp_path):
    """worker-02 lost whole mid-preprocess (network silent, every process in it SIGKILLed:
    its DataNode, Spark worker, executor): the job completes on the other two with every
    image exactly once; the NameNode declares the node dead and copies its blocks back to
    replication 2 on the nodes left; start_cluster.yml -e replace_lost=true makes a new
    worker-02 (same name and address, an empty disk) and main.yml + hadoop.yml join it with
    changes on that host alone; HDFS has 3 live DataNodes and Spark 3 ALIVE workers again."""
    namenode_ui = f"http://{drill.master_ip}:9870"
    lost = f"{local_cluster.name}-worker-02"
    lost_ip = local_cluster.address("worker-02")
    out = f"{drill.hdfs}/drill-lost"

    def dead() -> bool:
        return lost_ip in namenode_info(namenode_ui)["DeadNodes"]

    def replicated() -> bool:  # every block twice on the nodes left (the file's replication)
        live = namenode_info(namenode_ui)["LiveNodes"].values()
        held = sum(n["numBlocks"] for n in live if n["xferaddr"].split(":")[0] != lost_ip)
        state = namesystem(namenode_ui)
        return held >= 2 * state["BlocksTotal"] and state["MissingBlocks"] == 0

    marks: dict[str, float] = {}

    def watch() -> None:  # the NameNode's view from the loss on, while the job runs
        while "replicated" not in marks and time.monotonic() - marks["lost"] < 300:
            try:
                if "dead" not in marks and dead():
                    marks["dead"] = time.monotonic()
                if "dead" in marks and replicated():
                    marks["replicated"] = time.monotonic()
            except Exception:  # noqa: BLE001 - a NameNode busy for a moment: ask again
                pass
            time.sleep(0.25)

    def fault() -> None:
        lose_node(local_cluster, "worker-02")
        marks["lost"] = time.monotonic()
        threading.Thread(target=watch, daemon=True).start()

    replace = ("-e", "NUM_NODES=3", "-e", "replace_lost=true", "-e", "replace_lost_after_s=5")
    rejoin = ("-e", "hadoop_replication=2")
    try:
        output, finished = drill.run_during(drill.command(*preprocess_args(drill, out)), 3,
                                            fault)  # fmt: skip
        assert "preprocessed 242 images" in output and " 2 quarantined" in output, output
        assert_each_image_once(drill, out, tmp_path / "out")
        poll("the NameNode declares worker-02 dead and restores replication 2",
             lambda: "replicated" in marks, 240)  # fmt: skip
        declared, restored = (marks[k] - marks["lost"] for k in ("dead", "replicated"))

        start = time.monotonic()
        up = local_cluster.playbook("start_cluster.yml", inventory=False, args=replace)
        assert re.search(rf"^\s*replaced:\s*\n\s*- {lost}$", up, re.M), up[-3000:]
        replaced = time.monotonic() - start
        recap = local_cluster.playbook("main.yml", "hadoop.yml", args=rejoin)
        joined = time.monotonic() - start - replaced
    except BaseException:  # the node back whatever failed, for the drills after this one
        local_cluster.playbook("start_cluster.yml", inventory=False, args=replace, check=False)
        local_cluster.playbook("main.yml", "hadoop.yml", args=rejoin, check=False)
        raise
    per_host = changed_per_host(recap)
    assert per_host[lost] > 0 and sum(per_host.values()) == per_host[lost], per_host
    live = live_datanode_hosts(namenode_ui)
    assert lost_ip in live and len(live) == 3
    workers = master_status(local_cluster.master_ui())["workers"]
    assert [w["state"] for w in workers].count("ALIVE") == 3
    print(f"drill: node lost mid-preprocess, the job ended {finished:.1f} s later, every image "
          f"once; dead to the NameNode after {declared:.1f} s, replication 2 again after "
          f"{restored:.1f} s; replaced in {replaced:.1f} s, joined in {joined:.1f} s")  # fmt: skip


@pytest.mark.drill
def test_a_spark_worker_killed_during_train_lr_changes_no_kappa(local_cluster, drill):
    """The same LR twice on the same features: undisturbed, then with a worker SIGKILLed
    between iterations. Same kappa, same confusion matrix."""
    features = f"{drill.hdfs}/drill-lost"  # the previous drill's output
    train = ["train-lr", features, "--size", "32", "--max-iter", "20"]
    reports = local_cluster.disk("master") / "results"
    drill.run(drill.command(*train, "--out", f"{features}/lr-a", "--reports",
                            "/srv/dr-cluster/results/lr-a"))  # fmt: skip
    pid_file = drill.spark_pid_file("worker-01", "worker.Worker")
    try:
        drill.run_killing(drill.command(*train, "--out", f"{features}/lr-b", "--reports",
                                        "/srv/dr-cluster/results/lr-b"),
                          pid_file, 8)  # fmt: skip
    finally:
        local_cluster.playbook("hadoop.yml")
    a, b = (json.loads((reports / name / "train-lr-report.json").read_text())
            for name in ("lr-a", "lr-b"))  # fmt: skip
    assert a["n_scored"] == b["n_scored"] > 0
    assert b["kappa"] == a["kappa"] and b["confusion"] == a["confusion"], (a, b)


def stop_by_pid_file(pid_file: Path, what: str, timeout_s: float = 60) -> None:
    """SIGTERM to the daemon of `pid_file`, then wait (bounded) until it is gone."""
    pid = int(pid_file.read_text())
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout_s
    while Path(f"/proc/{pid}").exists():
        assert time.monotonic() < deadline, f"{what} did not stop"
        time.sleep(0.2)


@pytest.mark.drill
def test_the_master_restarted_between_two_jobs(local_cluster, drill):
    """Stop the master (by pid) and start it again with the playbook: the running workers
    register again (the start is gated on 3 ALIVE) and the next job runs."""
    stop_by_pid_file(drill.spark_pid_file("master", "master.Master"), "the master")
    start = time.monotonic()
    local_cluster.playbook("hadoop.yml")
    print(f"drill: master restarted, 3 workers ALIVE again in {time.monotonic() - start:.1f} s")
    status = master_status(local_cluster.master_ui())
    assert [w["state"] for w in status["workers"]].count("ALIVE") == 3
    out = drill.run(drill.command(*preprocess_args(drill, f"{drill.hdfs}/drill-after")))
    assert "preprocessed 242 images" in out, out[-2000:]


HDFS_SH = "/srv/dr-cluster/hdfs/conf/hdfs.sh"  # the test hosts' hadoop_root/conf


def small_input(drill: Drill, where: Path, count: int) -> Path:
    """COUNT of the drill's good photographs and their labels, in a local directory."""
    where.mkdir(parents=True)
    names = sorted(p.stem for p in drill.photos.glob("*.jpeg") if p.stem not in BROKEN)[:count]
    for name in names:
        (where / f"{name}.jpeg").write_bytes((drill.photos / f"{name}.jpeg").read_bytes())
    rows = (drill.photos / "trainLabels.csv").read_text().splitlines()
    keep = [rows[0], *(row for row in rows[1:] if row.split(",")[0] in names)]
    (where / "trainLabels.csv").write_text("\n".join(keep) + "\n")
    return where


def put(drill: Drill, local: Path, url: str) -> None:
    subprocess.run([drill.drc, "stage", "put", str(local), url], check=True, capture_output=True,
                   timeout=300, env={**os.environ, "HADOOP_USER_NAME": "hadoop"})  # fmt: skip


def xceivers(cluster: LocalCluster) -> dict[str, int]:
    """Each live DataNode's transfers in progress (address: count) as the NameNode last heard
    them (a heartbeat every 3 s): what its block placement weighs. Not in its JMX beans."""
    report = cluster.shell("master", f"{HDFS_SH} dfsadmin -report -live").stdout
    names = re.findall(r"^Name: ([\d.]+):\d+", report, re.M)
    counts = [int(n) for n in re.findall(r"^Xceivers: (\d+)", report, re.M)]
    assert len(names) == len(counts) == 3, report[-2000:]
    return dict(zip(names, counts, strict=True))


def too_busy(load: dict[str, int]) -> list[str]:
    """The DataNodes the NameNode passes over for a new replica: more transfers than twice the
    average (dfs.namenode.redundancy.considerLoad). Just after a job, the last heartbeat of a
    node that held its writes can say so, and a put then places nothing there."""
    limit = 2 * sum(load.values()) / len(load)
    return [node for node, count in load.items() if count > limit]


def corrupt_replicas(data_dir: Path, originals: Path, since: float) -> list[Path]:
    """Flip 16 bytes inside every block file under DATA_DIR (one DataNode's disk) written
    since SINCE that holds one of the files in ORIGINALS whole (not the drill's own copies
    of the same photographs); the length and the .meta checksums stay as they were, so only
    a checksum check can tell. The block files changed."""
    wanted = {p.read_bytes() for p in originals.iterdir()}
    changed = []
    for blk in data_dir.rglob("blk_*"):
        if (blk.suffix != ".meta" and blk.stat().st_size > 1024 and blk.stat().st_mtime >= since
                and blk.read_bytes() in wanted):  # fmt: skip
            data = bytearray(blk.read_bytes())
            data[512:528] = bytes(b ^ 0xFF for b in data[512:528])
            blk.write_bytes(bytes(data))
            changed.append(blk)
    return changed


@pytest.mark.drill
def test_corrupt_block_replicas_are_read_around_then_reported_and_replaced(
    local_cluster, drill, tmp_path
):
    """Every replica that worker-02 holds of 12 photographs gets 16 bytes flipped on its disk.
    The project's reads (hdfs-native) go around them: the same SHA-256 on worker-02 itself,
    where its own replicas come first, and the same preprocess output as before. Nobody tells
    the NameNode; scrub_hdfs.yml does (Hadoop's client reads every file on each DataNode and
    reports each bad replica), and HDFS copies a good replica in and deletes the bad one."""
    photos = small_input(drill, tmp_path / "photos", 12)
    url, path = f"{drill.hdfs}/drill-corrupt", "/user/hadoop/drill-corrupt"
    namenode_ui = local_cluster.master_ui().replace(":8080", ":9870")
    loads = [xceivers(local_cluster)]  # the NameNode's view, until it passes no node over
    while too_busy(loads[-1]):
        assert len(loads) < 20, f"a DataNode stays too busy to take a replica: {loads}"
        time.sleep(1)
        loads.append(xceivers(local_cluster))
    since = time.time() - 1
    put(drill, photos, url)

    def preprocess(out: str) -> None:
        args = ("--labels", f"{url}/trainLabels.csv", "--sizes", "16", "--partitions", "3")
        drill.run(drill.command("preprocess", url, f"{drill.hdfs}/{out}", *args))

    preprocess("drill-corrupt-a")
    bad = corrupt_replicas(local_cluster.disk("worker-02") / "hdfs/data", photos, since)
    assert bad, f"worker-02 held no replica; the NameNode's view of the loads {loads}"
    assert namesystem(namenode_ui)["CorruptBlocks"] == 0  # nobody has told the NameNode

    got = local_cluster.shell("worker-02", f"HADOOP_USER_NAME=hadoop {drill.drc} stage get "
                              f"{url} /srv/dr-cluster/drill-corrupt-get")  # fmt: skip
    assert got.returncode == 0 and " 0 failed" in got.stdout, got.stdout[-2000:]  # SHA-256 checked
    preprocess("drill-corrupt-b")
    a, b = (pq.read_table(drill.get(f"{drill.hdfs}/{out}", tmp_path / out) / "size=16")
            .sort_by("image") for out in ("drill-corrupt-a", "drill-corrupt-b"))  # fmt: skip
    assert a.num_rows == 12 and a.equals(b)
    assert namesystem(namenode_ui)["CorruptBlocks"] == 0  # still nobody has

    start = time.monotonic()
    out = local_cluster.playbook("scrub_hdfs.yml", args=("-e", f"hadoop_scrub_path={path}"))
    repaired = time.monotonic() - start
    worker_02 = local_cluster.address("worker-02")
    reported = set(re.findall(rf"(blk_\d+)\s+on\s+{re.escape(worker_02)}:", out))
    assert reported == {blk.name for blk in bad}, out[-3000:]  # each, and no other
    deadline = time.monotonic() + 30  # the DataNode deletes them once told, asynchronously
    while [blk for blk in bad if blk.exists()]:
        assert time.monotonic() < deadline, [blk.name for blk in bad if blk.exists()]
        time.sleep(0.2)
    deleted = time.monotonic() - start
    state = namesystem(namenode_ui)
    assert state["CorruptBlocks"] == state["UnderReplicatedBlocks"] == state["MissingBlocks"] == 0
    fsck = local_cluster.shell("master", f"{HDFS_SH} fsck {path}")
    assert "is HEALTHY" in fsck.stdout and "Average block replication:\t2.0" in fsck.stdout
    print(f"drill: {len(bad)} corrupt replicas on worker-02 read around, then reported and "
          f"replaced by scrub_hdfs.yml in {repaired:.1f} s, gone from its disk after "
          f"{deleted:.1f} s; the NameNode's view of the loads before the put: "
          f"{' -> '.join(map(str, loads))}")  # fmt: skip


HOLD = """
import sys, time
from pyspark.sql import SparkSession
spark = SparkSession.builder.appName("another-user").getOrCreate()
sc = spark.sparkContext
seconds = float(sys.argv[1])  # read here: the executors' sys.argv is their own
sc.parallelize(range(3), 3).foreach(lambda _: time.sleep(seconds))
"""


def active_tasks(ui: str) -> int:
    """Tasks running now in the application whose driver's UI is UI, 0 until it answers."""
    try:
        with urllib.request.urlopen(f"{ui}/api/v1/applications", timeout=5) as resp:
            app = json.load(resp)[0]["id"]
        url = f"{ui}/api/v1/applications/{app}/stages?status=active"
        with urllib.request.urlopen(url, timeout=5) as resp:
            return sum(stage["numActiveTasks"] for stage in json.load(resp))
    except (OSError, ValueError, IndexError, KeyError):
        return 0


def sample_apps(ui: str, jobs: list[subprocess.Popen], timeout: float = 400) -> list[dict]:
    """The master's running applications (id: cores granted) every 0.5 s until JOBS end."""
    samples, deadline = [], time.monotonic() + timeout
    while any(job.poll() is None for job in jobs):
        assert time.monotonic() < deadline, "the jobs did not end"
        apps = master_status(ui)["activeapps"]
        samples.append({app["id"]: app["cores"] for app in apps if app["state"] == "RUNNING"})
        time.sleep(0.5)
    return samples


# What a filled disk keeps free: less than a block (16 MiB on the test hosts), so its
# DataNode takes none, more than the NameNode needs on its own disk (4 MiB; else safe mode).
LEFT_FREE = 12 << 20


def fill(cluster: LocalCluster, node: str, leave: int = LEFT_FREE) -> Path:
    """A file that takes a node's disk down to LEAVE bytes free (beyond the DataNode's
    reserve: other data already holds that). The file, for the caller to remove."""
    filler = cluster.disk(node) / "filler"
    free = shutil.disk_usage(cluster.disk(node)).free
    subprocess.run(["fallocate", "-l", str(max(free - leave, 0)), str(filler)], check=True)
    return filler


@pytest.mark.drill
def test_disk_full_datanodes_a_job_completes_or_fails_whole_and_says_where(
    local_cluster, drill, tmp_path
):
    """worker-01's disk filled up mid-preprocess (less than a block left for its DataNode):
    the job completes, every image once, and its last line names the node and the disk (new
    blocks went to the others). The master's disk alone full (its DataNode, the driver's
    Spark scratch): the job completes whole and names both. Then every node's disk full:
    the next job fails with one line naming each node and disk, and publishes nothing; space
    freed, the same command completes."""
    namenode_ui = f"http://{drill.master_ip}:9870"
    fillers = []
    try:
        out = f"{drill.hdfs}/drill-full-one"
        command = drill.command(*preprocess_args(drill, out))
        fill_one = lambda: fillers.append(fill(local_cluster, "worker-01"))  # noqa: E731
        output, _ = drill.run_during(command, 3, fill_one)
        assert "preprocessed 242 images" in output, output[-3000:]
        worker_01 = local_cluster.address("worker-01")
        warning = [ln for ln in output.splitlines() if "warning: disk full" in ln]
        assert warning and f"{worker_01} /srv/dr-cluster/hdfs/data: FULL" in warning[0], output
        assert_each_image_once(drill, out, tmp_path / "one")

        # the master's disk alone (its DataNode; the driver's Spark scratch and logs): less
        # than a job needs locally is still enough for this one, which completes whole and
        # names the master's two disks
        fillers.pop().unlink()
        fillers.append(fill(local_cluster, "master"))
        time.sleep(3)  # each DataNode's next heartbeat carries its free space (1 s apart)
        out = f"{drill.hdfs}/drill-full-master"
        output = drill.run(drill.command(*preprocess_args(drill, out)))
        assert "preprocessed 242 images" in output, output[-3000:]
        master = [ln for ln in output.splitlines() if "warning: disk full" in ln]
        for disk in ("hdfs/data", "spark/tmp"):
            assert any(f"{drill.master_ip} /srv/dr-cluster/{disk}: FULL" in ln for ln in master)
        assert_each_image_once(drill, out, tmp_path / "master")

        fillers += [fill(local_cluster, n) for n in ("worker-01", "worker-02")]
        time.sleep(3)
        out = f"{drill.hdfs}/drill-full-all"
        job = drill.on_master(drill.command(*preprocess_args(drill, out)))
        output, _ = job.communicate(timeout=600)
        assert job.returncode != 0, output[-3000:]
        (error,) = [ln for ln in output.splitlines() if "drc: error:" in ln]
        # each DataNode's volume, and the Spark scratch of the driver's node (the master)
        assert error.count("/srv/dr-cluster/hdfs/data: FULL,") == 3, error
        assert f"{drill.master_ip} /srv/dr-cluster/spark/tmp: FULL," in error, error
        for size in (16, 32):  # nothing published
            with pytest.raises(urllib.error.HTTPError, match="404"):
                file_status(namenode_ui, f"/user/hadoop/drill-full-all/size={size}")

        for filler in fillers:
            filler.unlink()
        fillers.clear()
        output = drill.run(drill.command(*preprocess_args(drill, out)))
        assert "preprocessed 242 images" in output and "disk full" not in output, output[-3000:]
        assert_each_image_once(drill, out, tmp_path / "all")
        print(f"drill: disk full: {warning[0].strip()}; all full: {error.strip()[:300]}")
    finally:
        for filler in fillers:
            filler.unlink(missing_ok=True)


@pytest.mark.drill
def test_two_users_each_get_cores_and_a_queued_job_says_it_waits(local_cluster, drill, tmp_path):
    """Two users on the 3 cores. Uncapped (Spark's default), another user's application holds
    every core and drc preprocess waits: it says so while it waits, then runs. With
    spark.cores.max=2 per application (spark_app_cores_max, or --spark-conf), two preprocess
    runs submitted at once both run at the same time, neither waiting, and both finish."""
    ui = local_cluster.master_ui()
    hold = tmp_path / "hold.py"
    hold.write_text(HOLD)
    python = local_cluster.bin / "python"  # its executors' too: PySpark's default is python3
    other = drill.on_master(f"SPARK_CONF_DIR=/srv/dr-cluster/spark/conf PYSPARK_PYTHON={python} "
                            f"{python} {hold} 40")  # fmt: skip
    try:
        deadline = time.monotonic() + 120  # its 3 tasks running (its driver's REST API)
        while active_tasks(f"http://{drill.master_ip}:4040") < 3:
            assert other.poll() is None and time.monotonic() < deadline, other.stdout.read()
            time.sleep(0.5)
        start = time.monotonic()
        queued = drill.run(drill.command(*preprocess_args(drill, f"{drill.hdfs}/drill-queued")))
        waited = time.monotonic() - start
        assert "preprocessed 242 images" in queued, queued[-2000:]
        assert "waiting for cores: spark://" in queued, queued[-2000:]  # said, not silent
        assert "got an executor after" in queued, queued[-2000:]
    finally:
        other.kill()
    other.communicate(timeout=60)

    start = time.monotonic()
    capped = ("--spark-conf", "spark.cores.max=2")
    jobs = [drill.on_master(drill.command(*preprocess_args(drill, f"{drill.hdfs}/drill-user{i}"),
                                          *capped))
            for i in (1, 2)]  # fmt: skip
    samples = sample_apps(ui, jobs)
    shared = time.monotonic() - start
    outputs = [job.communicate()[0] for job in jobs]
    for job, output in zip(jobs, outputs, strict=True):
        assert job.returncode == 0 and "preprocessed 242 images" in output, output[-2000:]
        assert "waiting for cores" not in output, output[-2000:]
    assert max(max(s.values(), default=0) for s in samples) <= 2  # nobody took more
    both = [s for s in samples if len(s) == 2 and min(s.values()) > 0]
    assert both, samples  # at one moment both ran, each on its own cores
    print(f"drill: queued behind another user's application, preprocess said so and finished "
          f"in {waited:.1f} s; two at once with spark.cores.max=2: both done in {shared:.1f} s, "
          f"running side by side in {len(both)} of {len(samples)} samples")  # fmt: skip


def sha256s(directory: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
            for p in directory.iterdir() if p.is_file() and not p.name.startswith(".")}  # fmt: skip


@pytest.mark.drill
def test_namenode_restored_from_its_checkpoint_lists_what_came_after(
    local_cluster, drill, tmp_path
):
    """checkpoint_namenode.yml copies the NameNode's image to worker-02's disk; 3 more files
    are written; the NameNode is stopped by its pid and its name directory destroyed;
    restore_namenode.yml brings it back from the checkpoint: every file of before reads
    back with the same SHA-256, each of the 3 written after is listed as lost."""
    before, after = tmp_path / "before", tmp_path / "after"
    photos = sorted(p for p in drill.photos.glob("*.jpeg") if p.stem not in BROKEN)
    for where, chosen in ((before, photos[:6]), (after, photos[6:9])):
        where.mkdir()
        for photo in chosen:
            (where / photo.name).write_bytes(photo.read_bytes())
    put(drill, before, f"{drill.hdfs}/nn-before")

    start = time.monotonic()
    saved = local_cluster.playbook("checkpoint_namenode.yml")
    checkpointed = time.monotonic() - start
    checkpoints = local_cluster.disk("worker-02") / "hdfs/checkpoints"
    (checkpoint,) = list(checkpoints.iterdir())
    assert (checkpoint / "current/VERSION").is_file(), saved[-2000:]
    assert not (local_cluster.disk("worker-01") / "hdfs/checkpoints").exists()

    put(drill, after, f"{drill.hdfs}/nn-after")  # after the checkpoint: to be lost
    stop_by_pid_file(local_cluster.disk("master") / "hdfs/pids/hadoop-hadoop-namenode.pid",
                     "the NameNode")  # fmt: skip
    shutil.rmtree(local_cluster.disk("master") / "hdfs/name")  # the master's name directory

    start = time.monotonic()
    out = local_cluster.playbook("restore_namenode.yml")
    restored = time.monotonic() - start
    lost = sorted(re.findall(r"lost: /user/hadoop/nn-after/(\S+?\.jpeg)", out))
    assert lost == sorted(p.name for p in after.iterdir()), out[-3000:]  # each one, by name
    assert "nn-before" not in out.split("restored from")[-1], out[-3000:]
    got = drill.get(f"{drill.hdfs}/nn-before", tmp_path / "got")
    assert sha256s(got) == sha256s(before)
    listed = local_cluster.disk("master") / f"hdfs/restored-from-{checkpoint.name}.txt"
    assert listed.read_text().count("lost: ") == 3
    # the orphaned blocks of the lost files are deleted, new files go in and read back
    put(drill, after, f"{drill.hdfs}/nn-again")
    assert sha256s(drill.get(f"{drill.hdfs}/nn-again", tmp_path / "again")) == sha256s(after)
    print(f"drill: NameNode checkpoint in {checkpointed:.1f} s; name directory destroyed, "
          f"restored in {restored:.1f} s, {len(lost)} files written after it "
          "listed lost")  # fmt: skip


def test_configuration_is_idempotent(local_cluster):
    recap = local_cluster.playbook("main.yml", "hadoop.yml", args=("-e", "hadoop_replication=2"))
    assert changed(recap) == 0, recap[-2000:]
    conf = (local_cluster.disk("master") / "spark/conf/spark-defaults.conf").read_text()
    secret = re.search(r"^spark\.authenticate\.secret\s+(\S+)$", conf, re.M).group(1)
    assert secret not in recap  # nor in the playbook's log
    for node in ("master", "worker-01", "worker-02"):  # each node's firewall drops by default
        chain = local_cluster.shell(node, "nft list chain inet drc input")
        assert chain.returncode == 0 and "policy drop" in chain.stdout, chain.stdout[-1000:]


def test_stop_cluster_leaves_nothing(local_cluster):
    local_cluster.playbook("stop_cluster.yml")
    assert local_cluster.leftovers() == {"netns": [], "processes": []}
    assert not local_cluster.inventory.parent.exists()
