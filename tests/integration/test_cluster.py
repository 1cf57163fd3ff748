"""The spine end to end: the playbooks start a real standalone cluster in a temp dir, the
pipeline runs on it through spark-submit, the master's JSON shows it, and stop leaves
nothing behind."""

import csv
import hashlib
import json
import os
import pwd
import re
import shutil
import socket
import subprocess
import uuid
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
import yaml

from jobs.cluster import scala_build
from jobs.cluster.submit import master_status
from jobs.dataset.layout import DEFAULT_SIZES
from jobs.preprocess.images import preprocess_bytes
from jobs.preprocess.job import read_quarantine
from tests.support.ansible import playbook
from tests.support.hdfs import live_datanode_hosts, namenode_info
from tests.support.ports import free_port

pytestmark = pytest.mark.integration


REPO_BIN = Path(__file__).resolve().parents[2] / ".venv" / "bin"
HDFS_PORTS = ("namenode_rpc", "namenode_http", "datanode", "datanode_http", "datanode_ipc")


class Cluster:
    def __init__(self, repo: Path, root: Path, data_url: str):
        self.repo, self.root = repo, root
        master_ui_port = free_port()
        self.extra = {
            "cluster_root": str(root),
            "spark_master_port": free_port(),
            "spark_master_webui_port": master_ui_port,
            "spark_worker_webui_port": free_port(),
            **{f"hadoop_{name}_port": free_port() for name in HDFS_PORTS},
            "spark_worker_memory": "3g",
            "spark_executor_memory": "2g",
            "data_url": data_url,  # the same data set on every run: re-runs move nothing
        }
        self.master_ui = f"http://127.0.0.1:{master_ui_port}"

    def playbook(self, *names: str, check: bool = True, **extra) -> str:
        return playbook(*names, extra={**self.extra, **extra}, check=check)

    @property
    def hdfs_url(self) -> str:
        return f"hdfs://127.0.0.1:{self.extra['hadoop_namenode_rpc_port']}"

    @property
    def hdfs_root(self) -> Path:
        """The role's default: under /var/lib, named by the node root's SHA-1."""
        return Path("/var/lib/drc-hdfs") / hashlib.sha1(str(self.root).encode()).hexdigest()[:12]

    def daemon_pids(self) -> list[int]:
        return [int(p.read_text()) for p in (self.root / "spark/pids").glob("*.pid")]

    def hdfs_pids(self) -> list[int]:
        return [int(p.read_text()) for p in (self.hdfs_root / "pids").glob("*.pid")]

    def processes_of_this_cluster(self) -> list[int]:
        mine = []
        for proc in Path("/proc").iterdir():
            if not proc.name.isdigit():
                continue
            try:
                if str(self.root).encode() in (proc / "cmdline").read_bytes():
                    mine.append(int(proc.name))
            except OSError:
                continue
        return mine


def changed_count(recap: str) -> int:
    return sum(int(n) for n in re.findall(r"changed=(\d+)", recap.split("PLAY RECAP")[-1]))


@pytest.fixture(scope="module")
def bucket(tmp_path_factory, sample_dir) -> Path:
    """The 4 real images and their labels, plus two bad files the batch must survive."""
    bucket = tmp_path_factory.mktemp("bucket")
    for src in sample_dir.iterdir():
        (bucket / src.name).write_bytes(src.read_bytes())
    good = (sample_dir / "16_left.jpeg").read_bytes()
    (bucket / "98_right.jpeg").write_bytes(good[: len(good) // 3])  # truncated
    (bucket / "99_left.jpeg").write_bytes(b"")  # empty
    return bucket


@pytest.fixture(scope="module")
def cluster(repo, tmp_path_factory, bucket):
    cluster = Cluster(repo, tmp_path_factory.mktemp("cluster"), f"file://{bucket}")
    try:
        cluster.playbook("main.yml", "hadoop.yml")
        yield cluster
    finally:
        cluster.playbook("stop_cluster.yml", check=False)
        shutil.rmtree(cluster.hdfs_root, ignore_errors=True)


@dataclass
class PipelineRun:
    stdout: str  # the playbook's
    report: dict  # report.json
    reports: Path  # the reports and logs, on the master's disk
    outputs: Path  # a copy of the outputs the jobs wrote to HDFS


@pytest.fixture(scope="module")
def pipeline_run(cluster, bucket, tmp_path_factory) -> PipelineRun:
    # the shipped CNN grades the staged photographs too (the 2 broken ones named)
    stdout = cluster.playbook("main.yml", "run_jobs.yml", run_jobs_grade_labels="trainLabels.csv")
    reports = cluster.root / "results/demo"
    # read back through drc stage get: the HDFS client stays out of this process
    outputs = tmp_path_factory.mktemp("pipeline-outputs")
    drc_local("stage", "get", f"{cluster.hdfs_url}/user/hadoop/results/demo", str(outputs))
    return PipelineRun(stdout, json.loads((reports / "report.json").read_text()), reports,
                       outputs)  # fmt: skip


def test_master_and_worker_are_alive(cluster):
    status = master_status(cluster.master_ui)
    assert status["status"] == "ALIVE"
    alive = [w for w in status["workers"] if w["state"] == "ALIVE"]
    assert len(alive) >= 1 and alive[0]["cores"] == 2
    assert len(cluster.daemon_pids()) == 2


def test_hdfs_is_up_and_holds_the_staged_data(cluster, bucket):
    ui = f"http://127.0.0.1:{cluster.extra['hadoop_namenode_http_port']}"
    assert namenode_info(ui)["Safemode"] == "" and live_datanode_hosts(ui) == {"127.0.0.1"}
    assert len(cluster.hdfs_pids()) == 2  # NameNode and DataNode, run as the hadoop user
    for pid in cluster.hdfs_pids():
        assert Path(f"/proc/{pid}").stat().st_uid == pwd.getpwnam("hadoop").pw_uid
    listing = drc_local("stage", "ls", f"{cluster.hdfs_url}/user/hadoop/raw").splitlines()[:-1]
    stored = {line.split()[-1]: int(line.split()[0]) for line in listing}
    assert stored == {p.name: p.stat().st_size for p in bucket.iterdir()}


def test_preprocess_reads_and_writes_hdfs(cluster, sample_images, tmp_path):
    raw, out = (f"{cluster.hdfs_url}/user/hadoop/{name}" for name in ("raw", "prep"))
    args = ["preprocess", raw, out, "--labels", f"{raw}/trainLabels.csv", "--sizes", "16,32"]
    stdout = drc_on(cluster, *args).stdout
    assert "preprocessed 6 images" in stdout and "2 quarantined" in stdout, stdout
    assert "none, all complete" in drc_on(cluster, *args).stdout  # a re-run writes nothing
    # read it back through drc stage get (the HDFS client stays out of this process: its
    # threads would deadlock the forks of later fixtures)
    copy = tmp_path / "prep"
    drc_local("stage", "get", out, str(copy))
    files = {p.relative_to(copy).as_posix() for p in copy.rglob("*") if p.is_file()}
    parts = {f for f in files if f.endswith(".parquet")}
    table = {f for f in files if f.startswith("quarantine/")}  # the parts of tasks that had any
    assert table and all(re.fullmatch(r"quarantine/part-\d{5}\.csv", f) for f in table), table
    assert files - parts - table == {
        "_SUCCESS",
        "size=16/_SUCCESS",
        "size=32/_SUCCESS",
    }  # no scratch directory, no partial file
    assert parts and all(f.split("/")[0] in ("size=16", "size=32") for f in parts)
    for size in (16, 32):
        table = pq.read_table(copy / f"size={size}").to_pydict()
        assert sorted(table["image"]) == sorted(sample_images)  # every image exactly once
        pixels = dict(zip(table["image"], table["pixels"], strict=True))
        expected = preprocess_bytes(sample_images["16_left"], (16, 32))[0][size]
        assert np.array_equal(np.frombuffer(pixels["16_left"], np.uint8), expected.reshape(-1))
    reasons = {q["image"]: q["reason"] for q in read_quarantine(copy)}
    assert reasons == {"98_right": "corrupt", "99_left": "empty"}


def test_pipeline_completes_on_the_cluster(cluster, pipeline_run):
    stdout, report = pipeline_run.stdout, pipeline_run.report
    assert report["master"] == f"spark://127.0.0.1:{cluster.extra['spark_master_port']}"
    completed = {a["id"]: a["state"] for a in master_status(cluster.master_ui)["completedapps"]}
    assert completed.get(report["app_id"]) == "FINISHED"
    assert report["app_state"] == "FINISHED"
    assert report["images_read"] == 6 and report["images_quarantined"] == 2
    # 4 images of 3 patients: too few to hold any out, so the model is scored on the
    # images it learned, which a working LR fits exactly
    assert report["eval_set"].startswith("training images")
    assert report["kappa"] >= 0.9, report
    assert report["n_train"] == 4 and report["n_eval"] == 4
    assert "images read" in stdout and report["app_id"] in stdout
    # the report links the data's HDFS beside Spark, and that link answers
    ui = f"http://127.0.0.1:{cluster.extra['hadoop_namenode_http_port']}"
    assert report["namenode_ui"] == ui
    assert any("HDFS NameNode UI" in line and ui in line for line in stdout.splitlines())
    assert namenode_info(ui)["Safemode"] == ""


def test_the_run_writes_one_report_page_with_the_cnn_beside_the_lr(pipeline_run):
    page = (pipeline_run.reports / "report.html").read_text()
    assert "The shipped CNN grader" in page and "Logistic regression on Spark, 32 px" in page
    assert "98_right: corrupt" in page and "99_left: empty" in page
    # four eyes per section: the CNN's from the photographs, the LR's from HDFS's Parquet
    assert page.count("<img") == 8
    with (pipeline_run.reports / "cnn-grades.csv").open() as handle:
        grades = {row["image"]: int(row["level"]) for row in csv.DictReader(handle)}
    assert sorted(grades) == ["10_left", "13_left", "15_right", "16_left"]
    assert "graded 4 photograph(s)" in pipeline_run.stdout


def test_run_jobs_trains_the_sbt_built_scala_job_too(pipeline_run):
    reports = pipeline_run.reports / "lr-scala-32"
    report = json.loads((reports / "train-lr-report.json").read_text())
    assert report["solver"] == "scala" and report["app_state"] == "FINISHED"
    assert report["eval_set"].startswith("training")  # 3 patients: none held out
    assert report["n_scored"] == 4 and report["kappa"] >= 0.9, report
    assert "train-lr scala size 32" in pipeline_run.stdout


def test_bad_images_are_quarantined_with_reasons(pipeline_run):
    reasons = {q["image"]: q["reason"] for q in pipeline_run.report["quarantine"]}
    assert reasons == {"98_right": "corrupt", "99_left": "empty"}
    csv_lines = "".join(p.read_text() for p in (pipeline_run.outputs / "quarantine").glob("*.csv"))
    assert csv_lines.startswith("image,reason,detail") and "99_left,empty" in csv_lines


def test_parquet_holds_the_exact_pixels(pipeline_run, sample_images):
    for size in DEFAULT_SIZES:
        table = pq.read_table(pipeline_run.outputs / f"size={size}").to_pydict()
        assert sorted(table["image"]) == sorted(sample_images)
        for image, pixels in zip(table["image"], table["pixels"], strict=True):
            expected = preprocess_bytes(sample_images[image], DEFAULT_SIZES)[0][size]
            got = np.frombuffer(pixels, dtype=np.uint8).reshape(size, size, 3)
            assert np.array_equal(got, expected), (image, size)


def test_the_pipelines_model_grades_other_images(cluster, pipeline_run, sample_dir, tmp_path):
    model = f"{cluster.hdfs_url}/user/hadoop/results/demo/lr-blocks-32/model.npz"
    assert pipeline_run.report["model"] == model  # in HDFS, where drc predict reads it
    other = tmp_path / "other"  # the same photographs as test images: no labels
    other.mkdir()
    for image in sample_dir.glob("*.jpeg"):
        (other / image.name).write_bytes(image.read_bytes())
    drc = str(REPO_BIN / "drc")
    run = {"capture_output": True, "text": True, "timeout": 300}
    prep = subprocess.run([drc, "preprocess", str(other), str(tmp_path / "p"), "--sizes", "32",
                           "--master", "local[2]"], **run)  # fmt: skip
    assert prep.returncode == 0, prep.stdout + prep.stderr
    out = tmp_path / "submission.csv"
    pred = subprocess.run([drc, "predict", model, str(tmp_path / "p"), "--out", str(out)], **run)
    assert pred.returncode == 0, pred.stdout + pred.stderr
    rows = dict(line.split(",") for line in out.read_text().splitlines()[1:])
    labels = dict(ln.split(",") for ln in (sample_dir / "trainLabels.csv").read_text().split()[1:])
    assert rows == labels  # the training images, graded as the model learned them


@pytest.fixture(scope="module")
def features(tmp_path_factory) -> Path:
    from jobs.dataset.synth_features import generate

    out = tmp_path_factory.mktemp("features")
    generate(out, 1200, (16,), seed=5)
    return out


def drc_local(*args: str, hdfs_user: str | None = None) -> str:
    """drc in its own process, for commands that need no cluster."""
    env = {**os.environ, **({"HADOOP_USER_NAME": hdfs_user} if hdfs_user else {})}
    proc = subprocess.run([str(REPO_BIN / "drc"), *args], capture_output=True, text=True,
                          timeout=300, env=env)  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


def drc_on(cluster: Cluster, *args: str) -> subprocess.CompletedProcess:
    port = cluster.extra["spark_master_port"]
    cmd = [
        str(cluster.repo / ".venv/bin/drc"),
        *args,
        "--master",
        f"spark://127.0.0.1:{port}",
        "--master-ui",
        cluster.master_ui,
        "--conf-dir",
        str(cluster.root / "spark/conf"),
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc


@pytest.fixture(scope="module")
def hdfs_features(cluster, features) -> str:
    """The same features in HDFS, where the jobs read them on nodes that share no disk."""
    url = f"{cluster.hdfs_url}/user/hadoop/features"
    drc_local("stage", "put", str(features / "size=16"), f"{url}/size=16", hdfs_user="hadoop")
    return url


def test_sbt_built_the_scala_job_in_the_hadoop_users_home(cluster):
    project = Path("/home/hadoop/dr-cluster-scala")
    jar = project / scala_build.JAR_NAME
    assert jar.stat().st_uid == pwd.getpwnam("hadoop").pw_uid
    assert scala_build.is_current(project)  # built from the sources of this checkout
    with zipfile.ZipFile(jar) as archive:
        assert f"{scala_build.MAIN_CLASS}.class" in archive.namelist()


def test_train_lr_learns_the_planted_signal_and_the_scala_job_agrees(
    cluster, features, hdfs_features
):
    """The three solvers (Spark ML, the Scala job built with sbt, the block solver) on the
    same features in HDFS: each learns the planted signal, on the same held-out subjects,
    with kappas that agree; the block solver's matches numpy's on the same blocks."""
    kappas = {}
    for solver in ("ml", "scala", "blocks"):
        out = features / f"lr-{solver}"  # test_predict_writes_a_submission reads one
        stdout = drc_on(cluster, "train-lr", hdfs_features, "--size", "16", "--solver", solver,
                        "--max-iter", "60", "--out", str(out),
                        *(["--compare-numpy"] if solver == "blocks" else [])).stdout  # fmt: skip
        report = json.loads((out / "train-lr-report.json").read_text())
        kappas[solver] = report["kappa"]
        assert report["kappa"] >= 0.8, (solver, stdout)
        assert report["app_state"] == "FINISHED"
        assert report["n_scored"] == 214  # the same subjects held out by all three
        assert set(report["timings_s"]) >= {"load", "train", "evaluate"}
        if solver == "blocks":
            assert report["numpy_baseline"]["kappa"] == pytest.approx(report["kappa"], abs=0.05)
            assert "Spark/numpy time ratio" in stdout
    assert kappas["scala"] == pytest.approx(kappas["ml"], abs=0.03)
    assert kappas["blocks"] == pytest.approx(kappas["ml"], abs=0.05)


def test_sbt_rebuilds_offline_and_a_compile_error_keeps_the_jar(cluster):
    """A copy of the project in the hadoop user's home, built with the role's sbt: a warm
    build downloads nothing, an unchanged one does nothing, a syntax error is one line
    naming the file and line and leaves the previous jar."""
    home = Path("/home/hadoop")
    defaults = yaml.safe_load((cluster.repo / "roles/sbt/defaults/main.yml").read_text())
    launcher = home / f".sbt/launchers/sbt-launch-{defaults['sbt_launch_version']}.jar"
    work = home / f"drc-test-{uuid.uuid4().hex[:8]}"
    caches = [home / ".cache/coursier", home / ".sbt/boot"]

    def cached() -> set[Path]:
        return {p for c in caches for p in c.rglob("*") if p.is_file()}

    def build() -> subprocess.CompletedProcess:
        return subprocess.run(
            [str(REPO_BIN / "drc"), "build-scala", str(work), "--launcher", str(launcher),
             "--sbt-home", str(home), "--repositories", str(home / ".sbt/repositories"),
             "--run-as", "hadoop"],
            capture_output=True, text=True, timeout=600, check=False,
        )  # fmt: skip

    try:
        scala_build.copy_sources(work)
        for path in [work, *work.rglob("*")]:
            shutil.chown(path, "hadoop", "hadoop")
        before = cached()
        first = build()
        assert first.returncode == 0 and first.stdout.startswith("built "), first.stderr
        assert cached() == before  # everything sbt needed was in the hadoop user's caches
        assert "is up to date" in build().stdout
        jar = (work / scala_build.JAR_NAME).read_bytes()
        source = work / "src/main/scala/DrLogisticRegression.scala"
        lines = source.read_text().splitlines()
        broken = next(i for i, line in enumerate(lines) if "val maxIter" in line)
        lines[broken] += " )("
        source.write_text("\n".join(lines) + "\n")
        failed = build()
        assert failed.returncode != 0
        message = failed.stderr.strip()
        assert "\n" not in message, message
        where = f"src/main/scala/DrLogisticRegression.scala:{broken + 1}"
        assert re.match(rf"drc: error: {where}:\d+: ", message), message
        assert (work / scala_build.JAR_NAME).read_bytes() == jar
    finally:
        shutil.rmtree(work, ignore_errors=True)


def test_lr_blocks_live_in_each_nodes_cache_and_split_by_subject(features, cluster):
    drc_on(cluster, "train-lr", str(features), "--size", "16", "--max-iter", "5",
           "--validation", "0.3", "--out", str(features / "lr-split"))  # fmt: skip
    # the executors' cache (DRC_CACHE_DIR from spark-env.sh), not the data directory
    cache = cluster.root / "cache" / "lr-blocks"
    manifests = [json.loads(m.read_text()) for m in cache.glob("*/manifest.json")]
    manifests = [m for m in manifests if m[0]["fraction"] == 0.3]  # this run's split
    assert len(manifests) == 1 and not (features / "_blocks").exists()
    for blocks in manifests:
        side = {True: set(), False: set()}
        for b in blocks:
            assert Path(lr_blocks_path(cluster, b)).is_file()
            side[b["validation"]] |= {int(image.split("_")[0]) for image in b["image"]}
        assert side[True] and side[False]
        assert not side[True] & side[False]


def lr_blocks_path(cluster: Cluster, block: dict) -> Path:
    return cluster.root / "cache" / "lr-blocks" / block["key"] / f"{block['name']}.npy"


def test_predict_writes_a_submission(features, cluster, tmp_path):
    model = features / "lr-blocks" / "model.npz"  # the block solver's, above
    if not model.exists():
        drc_on(
            cluster,
            "train-lr",
            str(features),
            "--size",
            "16",
            "--out",
            str(model.parent),
            "--max-iter",
            "20",
        )
    out = tmp_path / "submission.csv"
    subprocess.run(
        [
            str(cluster.repo / ".venv/bin/drc"),
            "predict",
            str(model),
            str(features),
            "--out",
            str(out),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    lines = out.read_text().splitlines()
    assert lines[0] == "image,level" and len(lines) == 1201
    assert all(line.split(",")[1] in "01234" for line in lines[1:])


def test_cnn_reads_and_writes_hdfs(cluster, cnn_data, tmp_path):
    """The CNN's data loader workers read hdfs:// (started by a fork server: the HDFS
    client's threads would not survive a fork) and learn as from local disk; checkpoints,
    metrics and curve go to hdfs://, and predict-cnn grades from the checkpoint there."""
    from jobs.dataset import fs

    url = f"{cluster.hdfs_url}/user/hadoop/cnn"
    drc_local("stage", "put", str(cnn_data / "size=64"), f"{url}/size=64", hdfs_user="hadoop")
    out = f"{url}/model"
    stdout = drc_local("train-cnn", url, "--out", out, "--size", "64", "--model",
                       "seed2015", "--task", "binary04", "--epochs", "2", "--workers", "2",
                       "--batch-size", "16", "--balance", "1",  # every image once an epoch
                       hdfs_user="hadoop")  # fmt: skip
    history = json.loads(fs.read_text(f"{out}/metrics.json"))["history"]
    assert len(history) == 2 and "best kappa" in stdout
    written = {fs.name(p) for p, _, _ in fs.listdir(out)}
    assert written == {"best.pt", "checkpoint.pt", "curve.png", "metrics.json"}  # no partial
    # the task's images (grades 0 and 4), every one read from HDFS in each epoch
    levels = pq.read_table(cnn_data / "size=64", columns=["level"]).column(0).to_pylist()
    expected = sum(level in (0, 4) for level in levels)
    assert [h["train_images"] + h["val_images"] for h in history] == [expected, expected]
    # a resumed run reads its checkpoint back from HDFS
    drc_local("train-cnn", url, "--out", out, "--size", "64", "--model", "seed2015", "--task",
              "binary04", "--epochs", "3", "--workers", "0", "--batch-size", "16", "--resume",
              hdfs_user="hadoop")  # fmt: skip
    resumed = json.loads(fs.read_text(f"{out}/metrics.json"))["history"]
    assert [h["epoch"] for h in resumed] == [1, 2, 3]
    grades = tmp_path / "grades.csv"
    drc_local("predict-cnn", f"{out}/best.pt", url, "--out", str(grades), hdfs_user="hadoop")
    assert len(grades.read_text().splitlines()) == 1 + len(levels)


def test_features_on_the_cluster_read_and_write_hdfs(cluster, cnn_data, tmp_path):
    """drc features on the standalone cluster: input and output on HDFS, one row per image,
    each the backbone's own features of that image."""
    from tests.support.features import check_features

    url = f"{cluster.hdfs_url}/user/hadoop/features-in"
    drc_local("stage", "put", str(cnn_data / "size=64"), f"{url}/size=64", hdfs_user="hadoop")
    out = f"{cluster.hdfs_url}/user/hadoop/features-out"
    said = drc_on(cluster, "features", url, "--out", out, "--size", "64", "--reports",
                  str(tmp_path / "reports")).stdout  # fmt: skip
    assert "features of 800 images (2560 per image" in said
    report = json.loads((tmp_path / "reports" / "features-report.json").read_text())
    assert report["app_state"] == "FINISHED" and report["images"] == 800
    check_features(url, out, 64)


def test_cnn_trains_distributed_and_tracks_one_process(cluster, cnn_data, tmp_path):
    from jobs.cnn.train import TrainConfig, train

    common = {"size": 64, "model": "seed2015", "task": "binary04", "batch_size": 16,
              "lr": 5e-4, "workers": 0, "epochs": 4}  # fmt: skip
    single = tmp_path / "single"
    train(TrainConfig(data=str(cnn_data), out=str(single), **common))
    # rank 0 may run on any node: its checkpoints go to HDFS, the report to --reports
    out = f"{cluster.hdfs_url}/user/hadoop/cnn-distributed"
    options = [f"--{k.replace('_', '-')}={v}" for k, v in common.items()]
    stdout = drc_on(cluster, "train-cnn", str(cnn_data), "--out", out, "--distributed", "2",
                    "--reports", str(tmp_path / "reports"), *options).stdout  # fmt: skip
    assert "on 2 process(es)" in stdout
    report = json.loads((tmp_path / "reports" / "train-cnn-report.json").read_text())
    assert report["app_state"] == "FINISHED" and report["world"] == 2
    one = [h["loss"] for h in json.loads((single / "metrics.json").read_text())["history"]]
    two = [h["loss"] for h in report["history"]]
    assert len(two) == 4 and two[-1] < 0.8 * two[0]  # it learns
    # same global batch, so the same curve within noise: per epoch the two differ by their
    # shuffles (one epoch moved 0.31 vs 0.58 when the resize filter changed), so compare the
    # curves' means, which a wrong gradient average or a rank seeing all the data would move
    assert len(one) == len(two)
    assert abs(sum(one) - sum(two)) < 0.25 * sum(one), (one, two)


SOAK_RUNS = 5  # bench/soak.py runs 20


@pytest.mark.drill
def test_soak_back_to_back_runs_leak_nothing_and_agree(cluster, hdfs_features, tmp_path):
    """`soak`: preprocess (HDFS -> HDFS) and train-lr (HDFS) run back to back, each a fresh
    application. From the 2nd run (the 1st warms the JVMs and the executors' LR-block cache)
    to the last, no daemon gains open files or threads, none grows its memory by more than
    a JVM's settling, HDFS gains exactly the outputs, local disk only logs; every kappa is
    the same."""
    from jobs.cluster.gauges import disk_bytes, hdfs_summary, process_gauge

    ui = f"http://127.0.0.1:{cluster.extra['hadoop_namenode_http_port']}"
    raw = f"{cluster.hdfs_url}/user/hadoop/raw"
    daemons = cluster.daemon_pids() + cluster.hdfs_pids()
    assert len(daemons) == 4
    seen, kappas, outputs = [], [], 0
    for run in range(1, SOAK_RUNS + 1):
        out = f"/user/hadoop/soak/prep-{run}"
        drc_on(cluster, "preprocess", raw, f"{cluster.hdfs_url}{out}", "--labels",
               f"{raw}/trainLabels.csv", "--sizes", "16,32")  # fmt: skip
        lr = tmp_path / f"lr-{run}"
        drc_on(cluster, "train-lr", f"{hdfs_features}", "--size", "16", "--max-iter", "20",
               "--out", str(lr))  # fmt: skip
        kappas.append(json.loads((lr / "train-lr-report.json").read_text())["kappa"])
        outputs += hdfs_summary(ui, out).length
        seen.append({
            "daemons": {pid: process_gauge(pid) for pid in daemons},
            "hdfs": hdfs_summary(ui),
            "disk": disk_bytes(cluster.root) + disk_bytes(cluster.hdfs_root),
            "outputs": outputs,
        })  # fmt: skip
    first, last = seen[1], seen[-1]
    for pid in daemons:
        was, now = first["daemons"][pid], last["daemons"][pid]
        assert now.open_files <= was.open_files + 8, (pid, was, now)
        assert now.threads <= was.threads + 8, (pid, was, now)
        assert now.rss_mib <= was.rss_mib * 1.25 + 32, (pid, was, now)
    grew = last["hdfs"].length - first["hdfs"].length
    assert grew == last["outputs"] - first["outputs"], (first["hdfs"], last["hdfs"])
    logs = last["disk"] - first["disk"] - grew  # block files hold the outputs, the rest logs
    assert logs < (SOAK_RUNS - 2) * 4 * 2**20, logs
    assert len(set(kappas)) == 1, kappas


def test_lifecycle_restart_on_change_idempotence_stop_and_start(cluster, pipeline_run):
    """One scenario, in this order, last in the module: it restarts and stops the cluster
    the tests above use."""
    # a configuration change restarts the running daemons
    before = set(cluster.daemon_pids())
    cluster.playbook("main.yml", spark_shuffle_partitions=5)
    after = set(cluster.daemon_pids())
    assert len(after) == 2 and not before & after  # master and worker are new JVMs
    conf = (cluster.root / "spark/conf/spark-defaults.conf").read_text()
    assert "spark.sql.shuffle.partitions" in conf and " 5" in conf
    status = master_status(cluster.master_ui)  # main.yml waited for it: no sleep here
    assert status["status"] == "ALIVE"
    assert [w["state"] for w in status["workers"]].count("ALIVE") == 1

    # a second configure changes nothing (sbt rebuilds nothing); the change stays (the
    # cluster is stopped below, after the last test that runs a job on it)
    jar = Path("/home/hadoop/dr-cluster-scala") / scala_build.JAR_NAME
    built = jar.stat().st_mtime_ns
    recap = cluster.playbook("main.yml", "hadoop.yml", spark_shuffle_partitions=5)
    assert changed_count(recap) == 0, recap[-1500:]
    assert jar.stat().st_mtime_ns == built

    # stop leaves nothing running, and start works again
    pids = cluster.daemon_pids() + cluster.hdfs_pids()
    assert len(pids) == 4
    cluster.playbook("stop_cluster.yml")
    for pid in pids:
        assert not Path(f"/proc/{pid}").exists(), f"Spark daemon {pid} still running"
    assert cluster.processes_of_this_cluster() == []
    assert cluster.hdfs_pids() == []

    # a port another program holds: the start names it and its pid, and starts nothing
    port = cluster.extra["spark_master_webui_port"]
    with socket.socket() as squatter:
        squatter.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        squatter.bind(("127.0.0.1", port))
        squatter.listen()
        out = cluster.playbook("hadoop.yml", check=False)
        assert f"port {port} (127.0.0.1) is taken by pid {os.getpid()}" in out, out[-3000:]
        assert cluster.daemon_pids() == []
    cluster.playbook("hadoop.yml")
    assert master_status(cluster.master_ui)["status"] == "ALIVE"
    assert len(cluster.hdfs_pids()) == 2
