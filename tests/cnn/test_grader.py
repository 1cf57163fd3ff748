"""The shipped grader's file and `drc grade`: raw photographs in, one grade each out."""

import csv
import json
import subprocess
import sys

import numpy as np
import pytest
import torch

from jobs.cnn import grader
from jobs.cnn.config import GRADER_FILE
from jobs.cnn.models import build


@pytest.fixture
def tiny_grader(tmp_path):
    torch.manual_seed(0)
    model = build("drnet", 32, 1).eval()
    spec = grader.GraderSpec("drnet", 32, "ordinal", [-0.05, 0.0, 0.05, 0.1], "equalize", 0.25)
    path = tmp_path / "grader.pt"
    grader.export(model.state_dict(), spec, path)
    return model, path


def test_the_file_holds_bfloat16_weights_that_give_the_same_scores(tiny_grader, tmp_path):
    model, path = tiny_grader
    torch.save(model.state_dict(), tmp_path / "float32.pt")
    assert path.stat().st_size < 0.6 * (tmp_path / "float32.pt").stat().st_size
    loaded, spec = grader.load(path, torch.device("cpu"))
    assert spec.size == 32 and spec.normalise == "equalize" and spec.blend == 0.25
    x = torch.rand(4, 3, 32, 32) * 2 - 1
    with torch.no_grad():
        assert torch.allclose(loaded(x), model(x), atol=0.05)


def test_grading_names_a_bad_photograph_and_grades_the_rest(tiny_grader, tmp_path, sample_dir):
    _, path = tiny_grader
    photos = tmp_path / "photos"
    photos.mkdir()
    for image in sample_dir.glob("*.jpeg"):
        (photos / image.name).write_bytes(image.read_bytes())
    (photos / "99_left.jpeg").write_bytes(b"\xff\xd8\xff not a photograph")
    said = []
    result = grader.grade_photos(photos, tmp_path / "grades.csv", path, say=said.append)
    assert sorted(result["grades"]) == ["10_left", "13_left", "15_right", "16_left"]
    assert list(result["rejected"]) == ["99_left"]
    assert len(said) == 1 and str(photos / "99_left.jpeg") in said[0]
    with (tmp_path / "grades.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert [r["image"] for r in rows] == sorted(result["grades"])
    assert all(0 <= int(r["level"]) <= 4 for r in rows)


def test_views_choose_the_dihedral_mean_or_one_view(tiny_grader, tmp_path, sample_dir, monkeypatch):
    _, path = tiny_grader
    seen = []
    real = grader.score_batches

    def spy(model, task, batches, device, tta):
        seen.append(tta)
        return real(model, task, batches, device, tta)

    monkeypatch.setattr(grader, "score_batches", spy)
    results = {views: grader.grade_photos(sample_dir, tmp_path / f"{views}.csv", path,
                                          views=views, say=lambda s: None)
               for views in (None, 1, 8)}  # fmt: skip
    assert seen == [True, False, True]  # None: the grader's spec (tta=True)
    assert [results[v]["views"] for v in (None, 1, 8)] == [8, 1, 8]
    assert results[None]["grades"] == results[8]["grades"]
    assert sorted(results[1]["grades"]) == sorted(results[8]["grades"])


def test_the_onnx_export_grades_as_torch_does_without_torch(tmp_path, sample_dir):
    """The export runs in ONNX Runtime alone (jobs.cnn.grading imports no torch) and gives
    the torch model's scores (float32 both) and grades, one view and eight."""
    torch.manual_seed(0)
    model = build("efficientnet-lite0", 64, 1, pretrained=False).eval()
    spec = grader.GraderSpec("efficientnet-lite0", 64, "ordinal", [-0.2, 0.0, 0.2, 0.4],
                             "equalize", 0.5, bfloat16=False)  # fmt: skip
    path = tmp_path / "grader.pt"
    grader.export(model.state_dict(), spec, path, torch.float32)
    onnx_file = grader.export_onnx(path)
    assert onnx_file == tmp_path / "grader.onnx" and not list(tmp_path.glob(".*partial"))
    code = ("import sys, json; from pathlib import Path; from jobs.cnn.grading import "
            "grade_photos_onnx as g; r = g(Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3]),"
            " views=int(sys.argv[4])); assert 'torch' not in sys.modules; "
            "print(json.dumps(r['scores']))")  # fmt: skip
    for views in (1, 8):
        argv = [sys.executable, "-c", code, str(sample_dir), str(tmp_path / "o.csv"), str(path)]
        proc = subprocess.run([*argv, str(views)], capture_output=True, text=True, check=False)
        assert proc.returncode == 0, proc.stderr
        onnx_scores = json.loads(proc.stdout)
        torch_result = grader.grade_photos(sample_dir, tmp_path / "t.csv", path, views=views)
        assert sorted(onnx_scores) == sorted(torch_result["scores"])
        names = sorted(onnx_scores)
        assert np.allclose([onnx_scores[n] for n in names],
                           [torch_result["scores"][n] for n in names], atol=1e-4)  # fmt: skip
        assert (tmp_path / "o.csv").read_text() == (tmp_path / "t.csv").read_text()


def test_the_shipped_grader_grades_the_four_raw_samples(tmp_path, sample_dir):
    assert GRADER_FILE.is_file(), "models/grader/grader.pt is part of the project"
    out = tmp_path / "grades.csv"
    proc = subprocess.run([sys.executable, "-m", "jobs.cli", "grade", str(sample_dir), "--out",
                           str(out), "--labels", str(sample_dir / "trainLabels.csv")],
                          capture_output=True, text=True, check=False)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "graded 4 photograph(s)" in proc.stdout and "kappa" in proc.stdout
    with out.open() as handle:
        grades = {r["image"]: int(r["level"]) for r in csv.DictReader(handle)}
    assert sorted(grades) == ["10_left", "13_left", "15_right", "16_left"]
    assert set(grades.values()) <= {0, 1, 2, 3, 4}
    assert np.isfinite(list(grades.values())).all()


def test_grade_with_a_report_writes_the_page_from_what_it_graded(tmp_path, sample_dir):
    from jobs.cli.main import main

    out, reports = tmp_path / "grades.csv", tmp_path / "reports"
    # torch here: ONNX Runtime's threads stay out of the test process (a later in-process
    # Spark forks it); the ONNX path runs in subprocesses (test_lean_nodes, above)
    assert main(["grade", str(sample_dir), "--out", str(out), "--engine", "torch", "--labels",
                 str(sample_dir / "trainLabels.csv"), "--report", str(reports)]) == 0  # fmt: skip
    import json

    report = json.loads((reports / "grade-report.json").read_text())
    assert sorted(report["grades"]) == ["10_left", "13_left", "15_right", "16_left"]
    assert report["normalise"] == "equalize" and len(report["rows"]) == 4
    assert report["kappa_95"][0] <= report["kappa"] <= report["kappa_95"][1]
    assert report["training"]["history"]  # the shipped grader's own report, beside it
    page = (reports / "report.html").read_text()
    assert "The shipped CNN grader" in page and page.count("<img") == 4
