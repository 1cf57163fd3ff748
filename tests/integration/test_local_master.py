"""Every job command with a master that is not the standalone one (`--master 'local[2]'`):
the job runs, no standalone master's UI is asked about it, and the pipeline's model grades
images that `drc preprocess` wrote."""

import json
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

LOCAL = ["--master", "local[2]"]


def drc(repo: Path, *args: str) -> subprocess.CompletedProcess:
    proc = subprocess.run([str(repo / ".venv/bin/drc"), *args], capture_output=True, text=True,
                          timeout=600)  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "does not answer" not in proc.stderr
    return proc


def test_pipeline_then_predict_on_a_local_master(repo, sample_dir, tmp_path):
    out = tmp_path / "out"
    drc(repo, "pipeline", "--data-dir", str(sample_dir), "--out", str(out), "--sizes", "16,32",
        "--train-size", "16", "--max-iter", "50", *LOCAL)  # fmt: skip
    report = json.loads((out / "report.json").read_text())
    assert report["master"] == "local[2]" and report["app_state"] is None
    assert report["kappa"] >= 0.9 and report["n_train"] == 4
    images = tmp_path / "test-images"  # the same photographs, unlabelled
    images.mkdir()
    for image in sample_dir.glob("*.jpeg"):
        (images / image.name).write_bytes(image.read_bytes())
    stdout = drc(repo, "preprocess", str(images), str(tmp_path / "p"), "--sizes", "16",
                 *LOCAL).stdout  # fmt: skip
    assert "preprocessed 4 images" in stdout
    submission = tmp_path / "s.csv"
    drc(repo, "predict", report["model"], str(tmp_path / "p"), "--out", str(submission))
    rows = dict(line.split(",") for line in submission.read_text().splitlines()[1:])
    labels = dict(ln.split(",") for ln in (sample_dir / "trainLabels.csv").read_text().split()[1:])
    assert rows == labels


@pytest.mark.parametrize("solver", ["blocks", "ml"])
def test_train_lr_on_a_local_master(repo, tmp_path_factory, solver):
    from jobs.dataset.synth_features import generate

    data = tmp_path_factory.mktemp("features")
    generate(data, 600, (16,), seed=7)
    stdout = drc(repo, "train-lr", str(data), "--size", "16", "--solver", solver,
                 "--max-iter", "40", *LOCAL).stdout  # fmt: skip
    report = json.loads((data / f"lr-{solver}-16" / "train-lr-report.json").read_text())
    assert report["kappa"] >= 0.8, stdout
    assert report["master"] == "local[2]" and "app_state" not in report
