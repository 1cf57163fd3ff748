"""Which master the controller asks about an application, and the job configs' round trip
across spark-submit."""

import pytest

from jobs.cluster.pipeline import PipelineConfig
from jobs.cluster.submit import ClusterTarget
from jobs.errors import DrcError
from jobs.lr.config import LRConfig
from jobs.preprocess.config import PreprocessConfig


def test_only_a_standalone_master_is_asked_about_the_application():
    assert ClusterTarget("local[2]", "http://127.0.0.1:8080").status_ui() is None
    assert ClusterTarget("local[*]").status_ui() is None
    assert ClusterTarget("spark://10.0.0.5:7077").status_ui() == "http://10.0.0.5:8080"
    given = ClusterTarget("spark://10.0.0.5:7077", "http://10.0.0.5:9090")
    assert given.status_ui() == "http://10.0.0.5:9090"


def test_configs_cross_as_json_and_come_back_equal():
    prep = PreprocessConfig("in", "out", sizes=(16, 32), partitions=4)
    assert PreprocessConfig.from_json(prep.to_json()) == prep  # sizes come back a tuple
    lr = LRConfig("d", "o", size=16, solver="ml", elastic_net=0.5, class_weights=True)
    assert LRConfig.from_json(lr.to_json()) == lr


def test_the_app_side_checks_as_the_controller_does():
    with pytest.raises(DrcError, match="--validation"):
        LRConfig.from_dict(LRConfig("d", "o").to_dict() | {"validation": 1.5})
    with pytest.raises(DrcError, match="unknown settings"):
        LRConfig.from_dict({"data": "d", "out": "o", "bogus": 1})
    with pytest.raises(DrcError, match="--sizes"):
        PreprocessConfig.from_dict({"input": "i", "output": "o", "sizes": [0]})


def test_the_pipeline_trains_the_default_solver_into_a_model_dir(tmp_path):
    cfg = PipelineConfig.build(tmp_path / "data", tmp_path / "out", train_size=16,
                               sizes=(16, 32), max_iter=7)  # fmt: skip
    assert cfg.lr.solver == LRConfig.solver and cfg.lr.max_iter == 7 and cfg.lr.size == 16
    assert cfg.lr.data == str(tmp_path / "out")
    assert cfg.lr.out == str(tmp_path / "out" / "lr-blocks-16")
    assert cfg.preprocess.labels == str(tmp_path / "data" / "trainLabels.csv")
    with pytest.raises(DrcError, match="--train-size"):
        PipelineConfig.build(tmp_path, tmp_path, train_size=64, sizes=(16, 32))


def test_the_report_links_the_namenode_of_hdfs_data_beside_spark():
    from jobs.cluster.report import format_report
    from jobs.dataset.fs import namenode_ui

    assert namenode_ui("/data", "hdfs://10.0.0.5:8020/user/hadoop/out") == "http://10.0.0.5:9870"
    assert namenode_ui("/data", "/out") is None
    table = {"images_read": 4, "images_quarantined": 0, "stages_s": {}, "eval_set": "x",
             "kappa": 1.0, "n_train": 4, "n_eval": 4, "app_id": "app-1", "master": "spark://m",
             "app_ui": "http://m:8080/app/?appId=app-1"}  # fmt: skip
    assert "NameNode" not in format_report(table)
    lines = format_report({**table, "namenode_ui": "http://10.0.0.5:9870"}).splitlines()
    assert lines[-1].split() == ["HDFS", "NameNode", "UI", "http://10.0.0.5:9870"]
    lines = format_report({**table, "data_source": "200 synthetic photographs"}).splitlines()
    assert lines[2].split() == ["data", "200", "synthetic", "photographs"]  # first, under the title


def test_a_job_waiting_for_cores_says_so_instead_of_sitting_silent():
    """Registered with the master and no executor yet: the controller says it is waiting
    every EVERY seconds and on Spark's own starvation warning, then once that it got one;
    an application granted its executors at once says nothing."""
    import time

    from jobs.cluster.submit import WaitWatch

    said: list[str] = []
    watch = WaitWatch("spark://10.0.0.1:7077", every=0.2, say=said.append)
    watch.line("26/01/01 INFO StandaloneSchedulerBackend: Connected to Spark cluster with app "
               "ID app-1")  # fmt: skip
    deadline = time.monotonic() + 10
    while len(said) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    watch.line("26/01/01 WARN TaskSchedulerImpl: Initial job has not accepted any resources; "
               "check your cluster UI")  # fmt: skip
    watch.line("26/01/01 INFO StandaloneSchedulerBackend: Granted executor ID app-1/0 on "
               "hostPort 10.0.0.2:4711 with 1 core(s)")  # fmt: skip
    time.sleep(0.5)  # the ticker has stopped: nothing more
    watch.close()
    assert len(said) >= 3 and said[-1].startswith("got an executor after"), said
    assert all(line.startswith("waiting for cores: spark://10.0.0.1:7077 has given this "
                               "application no executor") for line in said[:-1])  # fmt: skip

    quiet: list[str] = []
    watch = WaitWatch("spark://10.0.0.1:7077", every=0.2, say=quiet.append)
    watch.line("INFO StandaloneSchedulerBackend: Connected to Spark cluster with app ID app-2")
    watch.line("INFO StandaloneSchedulerBackend: Granted executor ID app-2/0 on hostPort h:1")
    time.sleep(0.5)
    watch.close()
    assert quiet == []
