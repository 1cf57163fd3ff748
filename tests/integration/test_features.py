"""`drc features` with a `local[2]` master: the pretrained backbone's features of every
image of a preprocess output, then the seed's LR trained on them."""

import json
import subprocess
from pathlib import Path

import pytest

from tests.support.features import check_features

pytestmark = pytest.mark.integration


def drc(repo: Path, *args: str) -> str:
    proc = subprocess.run([str(repo / ".venv/bin/drc"), *args], capture_output=True, text=True,
                          timeout=600)  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc.stdout


def test_features_on_a_local_master_then_lr_on_them(repo, cnn_data, tmp_path, monkeypatch):
    monkeypatch.setenv("DRC_CACHE_DIR", str(tmp_path / "cache"))  # this run's LR blocks only
    out = tmp_path / "features"
    said = drc(repo, "features", str(cnn_data), "--out", str(out), "--size", "64",
               "--master", "local[2]")  # fmt: skip
    assert "features of 800 images (2560 per image" in said
    check_features(cnn_data, out, 64)
    assert not [p for p in out.iterdir() if p.name.startswith("_tmp")]  # no scratch left
    again = drc(repo, "features", str(cnn_data), "--out", str(out), "--size", "64",
                "--master", "local[2]")  # fmt: skip
    assert "features of 800 images" in again
    inputs = sorted(p.name for p in (cnn_data / "size=64").iterdir())
    refused = subprocess.run([str(repo / ".venv/bin/drc"), "features", str(cnn_data), "--out",
                              str(cnn_data), "--size", "64", "--master", "local[2]"],
                             capture_output=True, text=True, timeout=120)  # fmt: skip
    assert refused.returncode != 0 and "would overwrite the input" in refused.stderr
    assert sorted(p.name for p in (cnn_data / "size=64").iterdir()) == inputs  # untouched
    report = json.loads((out / "features-report.json").read_text())
    assert report["images"] == 800 and report["settings"]["model"] == "efficientnet-lite0"
    said = drc(repo, "train-lr", str(out), "--size", "64", "--output", "ordinal",
               "--max-iter", "60", "--master", "local[2]")  # fmt: skip
    lr = json.loads((out / "lr-blocks-64" / "train-lr-report.json").read_text())
    assert lr["output"] == "ordinal" and "argmax_kappa" in lr and len(lr["thresholds"]) == 4
    # synthetic eyes' planted lesions, seen through ImageNet features
    assert lr["kappa"] > 0.5, said
