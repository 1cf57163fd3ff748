"""How the project's Spark applications are launched: JVM options per app, and the Python
processes importing pyspark from its installed package instead of Spark's zip."""

import subprocess
import sys
from pathlib import Path

import pyspark

from jobs.cluster.submit import C1_ONLY, ClusterTarget, spark_conf
from jobs.spark.pyspark_path import zipped_copies

SPARK_LIB = Path(pyspark.__file__).parent / "python" / "lib"


def test_only_scheduling_apps_get_c1_jvms_and_the_callers_conf_comes_last():
    cluster = ClusterTarget(master="spark://127.0.0.1:7077", spark_conf=("spark.a=1",))
    assert spark_conf("preprocess", None, cluster) == (*C1_ONLY, "spark.a=1")
    assert spark_conf("train-lr", None, cluster) == ("spark.a=1",)
    assert spark_conf("preprocess", Path("job.jar"), cluster) == ("spark.a=1",)


def test_the_zipped_pyspark_gives_way_to_the_installed_one():
    zips = [str(p) for p in sorted(SPARK_LIB.glob("*.zip"))]
    assert len(zips) == 2  # pyspark.zip and py4j's, as Spark puts them on PYTHONPATH
    code = (
        "from jobs.spark.pyspark_path import prefer_installed_pyspark; "
        "dropped = prefer_installed_pyspark(); import pyspark, py4j; "
        "print(len(dropped), pyspark.__file__, py4j.__file__)"
    )
    env = {"PYTHONPATH": ":".join(zips), "PATH": "/usr/bin:/bin"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         check=True).stdout.split()  # fmt: skip
    assert out[0] == "2" and ".zip" not in out[1] and ".zip" not in out[2]


def test_zips_of_another_spark_or_of_packages_not_installed_stay(tmp_path):
    other = tmp_path / "spark-home" / "python" / "lib"
    other.mkdir(parents=True)
    (other / "pyspark.zip").write_bytes(b"")
    path = [str(other / "pyspark.zip"), str(SPARK_LIB / "absent-1.0-src.zip"), *sys.path]
    assert zipped_copies(path) == []


def test_the_worker_daemon_module_imports():
    code = "import jobs.spark.daemon, pyspark.daemon as d; print(d.manager.__module__)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "pyspark.daemon"
