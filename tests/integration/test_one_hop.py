"""The one-hop preprocess: photographs read by the Spark tasks straight from a real
OpenStack Swift (its own API and its S3 API), through a proxy that misbehaves on purpose.
The Parquet rows equal those of the same photographs read from a local directory; an
object gone after the listing and one corrupted on every fetch are quarantined by name
with their reason, the rest of the batch goes on; a cut-off body is fetched again; a task
whose first attempt the store refuses runs again and leaves no partial file. The Python
workers' environment holds no credential: they reach the tasks in the job's closure."""

import os
import sys

import pyarrow.parquet as pq
import pytest

from jobs.dataset import layout
from jobs.preprocess import job
from jobs.preprocess.config import PreprocessConfig
from jobs.storage import transfer
from jobs.storage.credentials import VARIABLES
from tests.support.faulty_proxy import FaultyProxy

pytestmark = pytest.mark.integration

PHOTOS = 72  # two tasks of 36: a task writes a row group (32 images) before it fails
SIZES = (16, 32)
CREDENTIALS = {name for names in VARIABLES.values() for name in names}


@pytest.fixture(scope="module")
def photos(tmp_path_factory):
    from jobs.dataset.synth_images import generate

    root = tmp_path_factory.mktemp("photos")
    generate(root, PHOTOS, 320, 212, seed=11, workers=2)
    return root


@pytest.fixture(scope="module")
def spark():
    """local[2], 2 attempts a task; its JVM (and so every Python worker it starts) is
    launched with no store credential in its environment."""
    from pyspark.sql import SparkSession

    from jobs.spark.pyspark_path import prefer_installed_pyspark

    prefer_installed_pyspark()
    with pytest.MonkeyPatch.context() as patch:
        for name in CREDENTIALS:
            patch.delenv(name, raising=False)
        patch.setenv("PYSPARK_PYTHON", sys.executable)  # the workers import the venv's
        session = (
            SparkSession.builder.master("local[2,2]").appName("one-hop test")
            .config("spark.ui.enabled", "false").getOrCreate()
        )  # fmt: skip
    yield session
    session.stop()


@pytest.fixture(scope="module")
def reference(spark, photos, tmp_path_factory):
    """The same photographs, read from the local directory (the seed's path)."""
    out = tmp_path_factory.mktemp("local") / "out"
    cfg = PreprocessConfig(str(photos), str(out), str(photos / "trainLabels.csv"), SIZES,
                           partitions=2)  # fmt: skip
    job.run(spark, cfg, say=lambda line: None)
    return out


def rows(out, size) -> dict[str, tuple]:
    table = pq.read_table(layout.size_dir(out, size)).to_pylist()
    return {r["image"]: (r["subject"], r["eye"], r["level"], r["pixels"]) for r in table}


def proxy_env(url: str, swift_env: dict, proxy: FaultyProxy) -> dict[str, str]:
    """The driver's credentials, with the store's address replaced by the proxy's."""
    if url.startswith("swift://"):
        auth = swift_env["ST_AUTH"].replace(f"http://{proxy.upstream}", proxy.url)
        return {"ST_AUTH": auth, "ST_USER": swift_env["ST_USER"], "ST_KEY": swift_env["ST_KEY"]}
    return {name: value for name, value in swift_env.items() if name.startswith("AWS_")} | {
        "AWS_ENDPOINT_URL": proxy.url
    }


@pytest.mark.parametrize("url", ["swift://one-hop/train", "s3://one-hop-s3/train"])
def test_one_hop_equals_the_local_path_and_quarantines_what_cannot_be_fetched(
    spark, photos, reference, swift_env, tmp_path, monkeypatch, url
):
    with monkeypatch.context() as patch:  # the upload only: straight to the store
        for name, value in swift_env.items():
            patch.setenv(name, value)
        assert transfer.put(photos, url).failed == []
    names = sorted(p.stem for p in photos.glob("*.jpeg"))
    gone, corrupted, cut, refused = names[3], names[40], names[10], names[34]

    upstream = swift_env["AWS_ENDPOINT_URL"]
    with FaultyProxy(upstream) as proxy:
        for name, value in proxy_env(url, swift_env, proxy).items():
            monkeypatch.setenv(name, value)  # the driver's environment only
        proxy.fail(f"{gone}.jpeg", *["404"] * 5)  # deleted after the listing
        proxy.fail(f"{corrupted}.jpeg", *["flip"] * 5)  # corrupted on every fetch
        proxy.fail(f"{cut}.jpeg", "cut")  # once: the fetch tries again
        proxy.fail(f"{refused}.jpeg", "403")  # once: the task fails, Spark runs it again
        out = tmp_path / "out"
        said = []
        cfg = PreprocessConfig(url, str(out), f"{url}/trainLabels.csv", SIZES, partitions=2)
        summary = job.run(spark, cfg, say=said.append)

    assert f"fetched from {url} one hop" in said[0]
    assert proxy.gets[f"{refused}.jpeg"] == 2  # the refused attempt, then the retried one
    assert proxy.gets[f"{gone}.jpeg"] >= 1 and proxy.gets[f"{cut}.jpeg"] >= 2
    bad = {b["image"]: b for b in job.read_quarantine(out)}
    assert sorted(bad) == sorted([gone, corrupted])
    assert bad[gone]["reason"] == "missing" and "not found" in bad[gone]["detail"]
    assert bad[corrupted]["reason"] == "unverified" and "attempts" in bad[corrupted]["detail"]
    assert summary["quarantined"] == 2 and summary["images"] == PHOTOS
    for size in SIZES:
        expected = rows(reference, size)
        del expected[gone], expected[corrupted]
        assert rows(out, size) == expected
        assert sorted(p.name for p in layout.size_dir(out, size).iterdir()) == [
            "_SUCCESS", "part-00000.parquet", "part-00001.parquet",
        ]  # fmt: skip
    assert not [p for p in out.rglob("*") if p.name.endswith(".partial") or "_tmp" in p.name]
    # no credential in this process's Spark workers' environment: they came in the closure
    assert not CREDENTIALS & set(spark.sparkContext.parallelize([0], 1).map(
        lambda _: sorted(os.environ)).collect()[0])  # fmt: skip
