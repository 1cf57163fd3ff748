"""report.html: one self-contained page from what a run left in its reports directory.

report.json (`drc pipeline`: the logistic regression on Spark) and grade-report.json
(`drc grade --report`: the shipped CNN) each become a section: kappa with its subject
bootstrap interval, the confusion matrix as a heat map, recall per grade, per-stage times,
and eyes per true grade with their predicted grade, worst mistakes first. The CNN's training
curve comes from its grader's report, the LR kappa-by-size chart from
bench/results/real_sizes.json (measured on the real set), when they are there."""

import io
import json
import os
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
from PIL import Image

from jobs.dataset import fs, layout
from jobs.dataset.labels import parse_image_name
from jobs.metrics import bootstrap_kappa, grade_confusion, recall_per_grade
from jobs.report import html

REPO = Path(__file__).resolve().parents[2]
REAL_SIZES = REPO / "bench" / "results" / "real_sizes.json"
EXAMPLES = 6  # eyes per true grade
THUMB = 96


def _jpeg(pixels: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(pixels).resize((THUMB, THUMB)).save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


def pick_examples(rows: list[tuple[str, int, int]]) -> dict[int, list[tuple[str, int]]]:
    """Per true grade, up to EXAMPLES (image, predicted), the largest errors first."""
    out: dict[int, list[tuple[str, int]]] = {}
    for name, truth, pred in sorted(rows, key=lambda r: (-abs(r[2] - r[1]), r[0])):
        if len(out.setdefault(truth, [])) < EXAMPLES:
            out[truth].append((name, pred))
    return out


def parquet_pixels(data: fs.PathLike, size: int, names: set[str]) -> dict[str, bytes]:
    """Thumbnails of NAMES from a preprocess output's size=N Parquet (local or hdfs://)."""
    found: dict[str, bytes] = {}
    for path in fs.glob(fs.join(layout.size_dir(data, size), "*.parquet")):
        with fs.open_read(path) as handle:
            table = pq.read_table(handle, columns=["image", "pixels"]).to_pydict()
        for name, pixels in zip(table["image"], table["pixels"], strict=True):
            if name in names:
                found[name] = _jpeg(np.frombuffer(pixels, np.uint8).reshape(size, size, 3))
    return found


def photo_pixels(photos: Path, names: set[str], normalise: str) -> dict[str, bytes]:
    """Thumbnails of NAMES from their photograph files, cropped and normalised as graded."""
    from jobs.dataset.labels import list_images
    from jobs.preprocess.images import ImageRejected, preprocess_bytes

    found = {}
    for stem, path in list_images(str(photos)).items():
        if stem in names:
            try:
                pixels = preprocess_bytes(Path(path).read_bytes(), (THUMB,), normalise)[0][THUMB]
            except (ImageRejected, OSError):
                continue
            found[stem] = _jpeg(pixels)
    return found


def interval(rows: list[tuple[str, int, int]]) -> tuple[float, float] | None:
    try:
        for name, _, _ in rows:
            parse_image_name(name)
    except ValueError:
        return None  # not Kaggle's names: subjects unknown
    truth = {n: t for n, t, _ in rows}
    return bootstrap_kappa(truth, {n: p for n, _, p in rows}, resamples=500)


def scores_section(title: str, kappa: float, rows, what: str, thumbs: dict[str, bytes],
                   extra: list[str], kappa_95=None) -> list[str]:  # fmt: skip
    confusion = grade_confusion([t for _, t, _ in rows], [p for _, _, p in rows])
    recall = recall_per_grade(confusion)
    examples = {grade: [(n, thumbs[n], p) for n, p in eyes if n in thumbs]
                for grade, eyes in pick_examples(rows).items()}  # fmt: skip
    band = kappa_95 or interval(rows)  # a report's own interval is not bootstrapped again
    return [f"<h2>{html.esc(title)}</h2>", html.kappa_block(kappa, band, len(rows), what),
            "<h3>confusion matrix</h3>", html.heat_map(confusion),
            "<h3>recall per grade</h3>",
            html.bars({html.GRADE_NAMES[g]: r for g, r in recall.items()}, scale=1.0),
            *extra, "<h3>eyes per true grade, worst mistakes first</h3>",
            html.eye_strips({g: e for g, e in examples.items() if e})]  # fmt: skip


def lr_section(report: dict) -> list[str]:
    rows = [tuple(r) for r in report.get("predictions", [])]
    thumbs = {}
    if rows and report.get("out"):
        wanted = {n for eyes in pick_examples(rows).values() for n, _ in eyes}
        size = min(report["sizes"], key=lambda s: abs(s - THUMB))
        thumbs = parquet_pixels(report["out"], size, wanted)
    stages = html.bars({k: v for k, v in report["stages_s"].items()}, unit=" s")
    links = "".join(f'<li>{html.esc(k)}: <a href="{html.esc(v)}">{html.esc(v)}</a></li>'
                    for k, v in (("Spark application UI", report.get("app_ui")),
                                 ("HDFS NameNode UI", report.get("namenode_ui"))) if v)  # fmt: skip
    extra = ["<h3>time per stage</h3>", stages, f"<ul>{links}</ul>" if links else ""]
    title = f"Logistic regression on Spark, {report['train_size']} px ({report['eval_set']})"
    if not rows:  # a report without per-image rows: the totals only
        total = html.kappa_block(report["kappa"], None, report["n_eval"], "images")
        return [f"<h2>{html.esc(title)}</h2>", total, html.heat_map(report["confusion"]), *extra]
    return scores_section(title, report["kappa"], rows, "eyes", thumbs, extra,
                          report.get("kappa_95"))  # fmt: skip


def cnn_section(report: dict) -> list[str]:
    rows = [tuple(r) for r in report["rows"]]
    wanted = {n for eyes in pick_examples(rows).values() for n, _ in eyes}
    thumbs = photo_pixels(Path(report["photos"]), wanted, report["normalise"])
    extra = [f"<p class=muted>{len(report['grades'])} photographs graded in "
             f"{report['seconds']:.1f} s ({report.get('views', 8)} view(s) each) by "
             f"{html.esc(report['grader'])}; "
             f"{len(report['rejected'])} could not be graded</p>"]  # fmt: skip
    extra += [f"<p class=wrong>{html.esc(n)}: {html.esc(why)}</p>"
              for n, why in sorted(report["rejected"].items())]  # fmt: skip
    history = report.get("training", {}).get("history", [])
    if history:
        extra += ["<h3>the grader's training</h3>", html.line_chart(
            {"validation kappa": [(h["epoch"], h["kappa"]) for h in history],
             "train loss": [(h["epoch"], h["loss"]) for h in history]},
            x_label="epoch", y_label="kappa / loss")]  # fmt: skip
    return scores_section("The shipped CNN grader", report["kappa"], rows,
                          "labelled photographs", thumbs, extra,
                          report.get("kappa_95"))  # fmt: skip


def sizes_section(path: Path = REAL_SIZES) -> list[str]:
    if not path.is_file():
        return []
    runs = json.loads(path.read_text())["runs"]
    series, bands = {}, {}
    for weighted, name in ((False, "plain"), (True, "class-weighted")):
        mine = sorted((r for r in runs if r["class_weights"] == weighted), key=lambda r: r["size"])
        series[name] = [(r["size"], r["kappa"]) for r in mine]
        bands[name] = [(r["size"], *r["kappa_95"]) for r in mine]
    return ["<h2>LR kappa against image size, on the real set</h2>",
            "<p class=muted>bench/real_sizes.py: 6,724 eyepacs-256 photographs, 1,308 held-out "
            "eyes, 95 % subject-bootstrap intervals</p>",
            html.line_chart(series, bands=bands, x_label="image side (px)",
                            y_label="held-out kappa", log_x=True)]  # fmt: skip


def write_grade_report(reports: Path, photos: Path, grader: Path, result: dict,
                       truth: dict[str, int], kappa: tuple) -> None:  # fmt: skip
    """REPORTS/grade-report.json from `grade_photos`' result: what the CNN section shows
    (KAPPA: the value, low, high, as `drc grade` printed them)."""
    training = grader.with_name("report.json")  # the grader's own, beside it
    grades = result["grades"]
    report = {"kappa": kappa[0], "kappa_95": list(kappa[1:]), "photos": str(photos),
              "grader": str(grader), "normalise": result["spec"].normalise,
              "seconds": result["seconds"], "views": result.get("views", 8),
              "grades": grades, "rejected": result["rejected"],
              "rows": [[n, truth[n], grades[n]] for n in sorted(truth)],
              "training": (json.loads(training.read_text()).get("training", {})
                           if training.is_file() else {})}  # fmt: skip
    reports.mkdir(parents=True, exist_ok=True)
    (reports / GRADE_REPORT).write_text(json.dumps(report, indent=1))


def write(reports: fs.PathLike) -> Path:
    """REPORTS/report.html from the JSON reports there; returns its path."""
    reports = Path(reports)
    body: list[str] = []
    pipeline, graded = layout.pipeline_report(reports), reports / GRADE_REPORT
    if graded.is_file():
        body += cnn_section(json.loads(graded.read_text()))
    if pipeline.is_file():
        lr = json.loads(pipeline.read_text())
        if lr.get("data_source"):  # what every section below was measured on
            body.insert(0, f"<p><b>data</b>: {html.esc(lr['data_source'])}</p>")
        body += lr_section(lr)
    body += sizes_section()
    target = reports / "report.html"
    partial = reports / f".report.html.{os.getpid()}.partial"  # two writers: the grader's, the LR's
    partial.write_text(html.page("dr-cluster run report", body))
    partial.replace(target)
    return target


GRADE_REPORT = "grade-report.json"
