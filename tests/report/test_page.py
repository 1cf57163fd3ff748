"""report.html: the sections from the JSON reports, and the page in a real browser."""

import json

import pytest

from jobs.report import page
from tests.support import browser

TRUTH = {"10_left": 0, "13_left": 0, "15_right": 2, "16_left": 4}


@pytest.fixture
def reports(tmp_path, sample_dir):
    """A reports directory as `drc grade --report` and `drc pipeline` leave it."""
    graded = {"10_left": 0, "13_left": 1, "15_right": 2, "16_left": 0}
    (tmp_path / page.GRADE_REPORT).write_text(json.dumps({
        "kappa": 0.5, "kappa_95": [0.1, 0.9], "photos": str(sample_dir),
        "grader": "models/grader/grader.pt", "normalise": "equalize", "seconds": 1.5,
        "grades": graded, "rejected": {"99_left": "corrupt: truncated"},
        "rows": [[n, TRUTH[n], graded[n]] for n in TRUTH],
        "training": {"history": [{"epoch": e, "kappa": 0.1 * e, "loss": 1 / e}
                                 for e in (1, 2, 3)]},
    }))  # fmt: skip
    (tmp_path / "report.json").write_text(json.dumps({
        "train_size": 32, "eval_set": "validation (subject split)", "kappa": 0.25,
        "n_eval": 4, "confusion": [[1, 1, 0, 0, 0]] + [[0] * 5] * 4, "sizes": [32],
        "stages_s": {"preprocess": 3.0, "lr train": 5.0}, "app_ui": "http://127.0.0.1:8080/app",
        "predictions": [[n, TRUTH[n], 1] for n in TRUTH], "data_source": "4 raw samples",
    }))  # fmt: skip
    return tmp_path


def test_examples_come_worst_mistakes_first_and_per_true_grade():
    rows = [("1_left", 0, 0), ("1_right", 0, 3), ("2_left", 0, 1), ("2_right", 4, 4)]
    picked = page.pick_examples(rows)
    assert picked[0] == [("1_right", 3), ("2_left", 1), ("1_left", 0)]
    assert picked[4] == [("2_right", 4)]


def test_the_page_holds_every_section(reports):
    text = page.write(reports).read_text()
    assert "The shipped CNN grader" in text and "Logistic regression on Spark, 32 px" in text
    assert text.index("<b>data</b>: 4 raw samples") < text.index("The shipped CNN grader")
    assert "&kappa; = 0.500" in text and "&kappa; = 0.250" in text
    assert "99_left: corrupt: truncated" in text  # the photograph that could not be graded
    assert text.count("<img") == 4  # the CNN's four eyes (the LR run has no Parquet here)
    assert text.count("<svg") == 2  # the grader's training curve, LR kappa by size
    assert "http" not in text.replace("http://www.w3.org/2000/svg", "").replace(
        "http://127.0.0.1:8080/app", ""
    )  # nothing fetched from anywhere
    assert not list(reports.glob(".*partial"))


@pytest.mark.integration
@pytest.mark.skipif(browser.chromium() is None, reason="needs Debian's chromium (make sysdeps)")
def test_the_page_renders_in_a_browser_with_its_images_and_no_console_error(reports, tmp_path):
    seen = browser.load(page.write(reports), tmp_path)
    assert seen["console"] == []
    assert seen["images"] == 4 and seen["images_ok"] == 4
    # the probe itself can fail: a broken image and a script error are both seen
    bad = tmp_path / "bad.html"
    bad.write_text('<html><body><img src="data:image/jpeg;base64,AAAA">'
                   "<script>undefinedFunction()</script></body></html>")  # fmt: skip
    seen = browser.load(bad, tmp_path)
    assert seen["images_ok"] == 0 and seen["images"] == 1
    assert any("undefinedFunction" in line for line in seen["console"])
