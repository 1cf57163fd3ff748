"""The CNN on this CPU: the 2015 task and network reach kappa >= 0.9, a killed run resumes
exactly where it stopped, and predictions come out batched as a submission CSV."""

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from jobs.cnn.train import TrainConfig, train
from tests.support.processes import kill_when

pytestmark = pytest.mark.integration

SEED2015 = {"size": 64, "model": "seed2015", "task": "binary04", "batch_size": 16,
            "lr": 5e-4, "workers": 0, "patience": 20}  # fmt: skip


def drc(*args: str, **kwargs) -> subprocess.Popen:
    return subprocess.Popen([str(Path(sys.executable).with_name("drc")), *args],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            **kwargs)  # fmt: skip


def cli_args(data: Path, out: Path, epochs: int) -> list[str]:
    return ["train-cnn", str(data), "--out", str(out), "--epochs", str(epochs), "--size", "64",
            "--model", "seed2015", "--task", "binary04", "--batch-size", "16", "--lr", "5e-4",
            "--workers", "0", "--patience", "20"]  # fmt: skip


@pytest.fixture(scope="module")
def binary04(cnn_data, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("binary04")
    train(TrainConfig(data=str(cnn_data), out=str(out), epochs=12, **SEED2015))
    return out


def test_seed2015_binary04_reaches_kappa_09(binary04):
    metrics = json.loads((binary04 / "metrics.json").read_text())
    assert metrics["best_kappa"] >= 0.9, metrics["history"]
    losses = [h["loss"] for h in metrics["history"]]
    assert losses[-1] < 0.5 * losses[0]
    assert metrics["history"][0]["val_images"] > 40  # subjects held out, not images
    for name in ("checkpoint.pt", "best.pt", "curve.png"):
        assert (binary04 / name).stat().st_size > 0


def test_killed_run_resumes_from_its_last_epoch(cnn_data, tmp_path):
    reference = tmp_path / "reference"
    train(TrainConfig(data=str(cnn_data), out=str(reference), epochs=4, **SEED2015))
    expected = json.loads((reference / "metrics.json").read_text())["history"]

    out = tmp_path / "killed"
    proc = drc(*cli_args(cnn_data, out, 4))

    def two_epochs_done() -> bool:
        done = out / "metrics.json"
        return done.is_file() and json.loads(done.read_text())["epochs_done"] >= 2

    kill_when(proc, two_epochs_done)
    killed_at = json.loads((out / "metrics.json").read_text())["epochs_done"]
    assert 2 <= killed_at < 4

    resumed = drc(*cli_args(cnn_data, out, 4), "--resume")
    log = resumed.communicate(timeout=300)[0]
    assert resumed.returncode == 0, log
    assert f"resumed from epoch {killed_at}" in log
    history = json.loads((out / "metrics.json").read_text())["history"]
    assert [h["epoch"] for h in history] == [1, 2, 3, 4]
    for got, want in zip(history, expected, strict=True):  # the same run, seamlessly
        assert got["loss"] == pytest.approx(want["loss"], rel=1e-3), (history, expected)


def test_predict_writes_a_submission(binary04, cnn_data, tmp_path):
    out = tmp_path / "submission.csv"
    proc = drc("predict-cnn", str(binary04 / "best.pt"), str(cnn_data), "--out", str(out),
               "--tta", "--blend-eyes", "0.2", "--batch-size", "50")  # fmt: skip
    log = proc.communicate(timeout=300)[0]
    assert proc.returncode == 0, log
    rows = list(csv.DictReader(out.open()))
    assert len(rows) == 800 and {r["level"] for r in rows} <= {"0", "4"}


def test_size_mismatch_between_checkpoint_and_run_is_clear(binary04, cnn_data):
    proc = drc("train-cnn", str(cnn_data), "--out", str(binary04), "--size", "64", "--model",
               "drnet", "--task", "binary04", "--resume", env=dict(os.environ))  # fmt: skip
    log = proc.communicate(timeout=120)[0]
    assert proc.returncode == 2
    assert log.strip().splitlines()[-1].startswith("drc: error: ")
    assert "checkpoint has model='seed2015', this run asks for 'drnet'" in log
