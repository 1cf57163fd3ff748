"""`drc` turns bad input into one clear line and a non-zero exit, never a traceback."""

import subprocess
import sys

import pytest


def drc(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "jobs.cli", *args], capture_output=True, text=True, timeout=60
    )


def assert_one_error_line(proc, *fragments):
    assert proc.returncode == 2, proc.stderr
    lines = [ln for ln in proc.stderr.splitlines() if ln.startswith("drc: error:")]
    assert len(lines) == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    for fragment in fragments:
        assert fragment in lines[0]


def test_missing_data_directory(tmp_path):
    missing = tmp_path / "absent"
    proc = drc("pipeline", "--data-dir", str(missing), "--out", str(tmp_path / "o"))
    assert_one_error_line(proc, str(missing), "does not exist")


def test_empty_data_directory(tmp_path):
    (tmp_path / "trainLabels.csv").write_text("image,level\n1_left,0\n")
    proc = drc("pipeline", "--data-dir", str(tmp_path), "--out", str(tmp_path / "o"))
    assert_one_error_line(proc, str(tmp_path), "no images")


def test_labels_name_absent_images(tmp_path, sample_dir):
    (tmp_path / "16_left.jpeg").write_bytes((sample_dir / "16_left.jpeg").read_bytes())
    labels = tmp_path / "trainLabels.csv"
    labels.write_text("image,level\n16_left,4\n17_right,1\n")
    proc = drc("pipeline", "--data-dir", str(tmp_path), "--out", str(tmp_path / "o"))
    assert_one_error_line(proc, str(labels), "17_right")


def test_missing_source_bucket(tmp_path):
    proc = drc(
        "pipeline",
        "--source",
        f"file://{tmp_path}/bucket",
        "--data-dir",
        str(tmp_path / "d"),
        "--out",
        str(tmp_path / "o"),
    )
    assert_one_error_line(proc, f"{tmp_path}/bucket", "does not exist")


def test_unreachable_master_ui():
    proc = drc("status", "--master-ui", "http://127.0.0.1:9")
    assert_one_error_line(proc, "127.0.0.1:9", "does not answer")


@pytest.mark.parametrize("sizes", ["a,b", "0", "16,99999"])
def test_bad_sizes_are_refused(tmp_path, sizes):
    proc = drc("pipeline", "--data-dir", str(tmp_path), "--out", str(tmp_path), "--sizes", sizes)
    assert proc.returncode == 2 and "--sizes" in proc.stderr


def test_train_lr_without_that_size(tmp_path):
    proc = drc("train-lr", str(tmp_path), "--size", "128")
    assert_one_error_line(proc, f"{tmp_path}/size=128", "no Parquet")


@pytest.mark.parametrize(
    "flags, name",
    [(["--validation", "1.5"], "--validation"), (["--reg", "-1"], "--reg"),
     (["--max-iter", "0"], "--max-iter"), (["--elastic-net", "0.5"], "--elastic-net")],
)  # fmt: skip
def test_train_lr_bad_flags(tmp_path, flags, name):
    (tmp_path / "size=128").mkdir()
    (tmp_path / "size=128" / "part-00000.parquet").write_bytes(b"")
    proc = drc("train-lr", str(tmp_path), "--size", "128", *flags)
    assert_one_error_line(proc, name)


def test_sizing_bad_shape():
    proc = drc("sizing", "--nodes", "0", "--cores", "8", "--ram-gb", "8")
    assert_one_error_line(proc, "positive")


def test_predict_without_model(tmp_path):
    proc = drc("predict", str(tmp_path / "model.npz"), str(tmp_path))
    assert_one_error_line(proc, "no model")


def test_preprocess_from_a_namenode_that_does_not_answer(tmp_path):
    from tests.support.ports import free_port

    url = f"hdfs://127.0.0.1:{free_port()}/user/hadoop/raw"  # nothing listens there
    proc = drc("preprocess", url, str(tmp_path / "out"), "--master", "local[1]")
    assert_one_error_line(proc, "cannot reach the NameNode at 127.0.0.1")
