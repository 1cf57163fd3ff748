"""The whole pipeline from the controller: stage, check inputs, submit, report."""

import json
import time
from dataclasses import dataclass
from pathlib import Path

from jobs import spark_pipeline, submit
from jobs.errors import DrcError
from jobs.images import DEFAULT_SIZES
from jobs.labels import check_labels_match, list_images, read_labels
from jobs.report import format_report
from jobs.stage import stage


@dataclass
class PipelineConfig:
    data_dir: Path
    out: Path
    master: str
    source: str | None = None
    labels: Path | None = None
    sizes: tuple[int, ...] = DEFAULT_SIZES
    train_size: int = 32
    master_ui: str | None = None
    conf_dir: str | None = None
    partitions: int = 4
    max_iter: int = 100
    reg: float = 0.01


def check_inputs(data_dir: Path, labels_path: Path) -> int:
    """Fail early, in one line, on inputs the cluster would only choke on later."""
    images = list_images(data_dir)
    check_labels_match(read_labels(labels_path), images, labels_path)
    return len(images)


def run(cfg: PipelineConfig) -> dict:
    if cfg.train_size not in cfg.sizes:
        raise DrcError("--train-size", f"{cfg.train_size} is not one of --sizes {cfg.sizes}")
    stages: dict[str, float] = {}
    start = time.perf_counter()
    if cfg.source:
        staged = stage(cfg.source, cfg.data_dir)
        print(
            f"staged {cfg.source} -> {cfg.data_dir}: {staged.copied} copied, "
            f"{staged.skipped} already there",
            flush=True,
        )
    stages["stage"] = time.perf_counter() - start
    labels = cfg.labels or cfg.data_dir / "trainLabels.csv"
    n_images = check_inputs(cfg.data_dir, labels)
    print(f"{n_images} images in {cfg.data_dir}; submitting to {cfg.master}", flush=True)

    cfg.out.mkdir(parents=True, exist_ok=True)
    (cfg.out / "report.json").unlink(missing_ok=True)
    args = [
        "--input",
        str(cfg.data_dir.resolve()),
        "--labels",
        str(labels.resolve()),
        "--out",
        str(cfg.out.resolve()),
        "--sizes",
        ",".join(map(str, cfg.sizes)),
        "--train-size",
        str(cfg.train_size),
        "--partitions",
        str(cfg.partitions),
        "--max-iter",
        str(cfg.max_iter),
        "--reg",
        str(cfg.reg),
    ]
    start = time.perf_counter()
    submit.spark_submit(
        Path(spark_pipeline.__file__), args, cfg.master, cfg.out / "spark-submit.log", cfg.conf_dir
    )
    submit_wall = time.perf_counter() - start

    report = json.loads((cfg.out / "report.json").read_text())
    inner = report.pop("timings_s")
    stages.update(inner)
    stages["spark-submit total (JVM start incl.)"] = submit_wall
    report["stages_s"] = stages
    if cfg.master_ui:
        report["app_state"] = submit.application_state(
            submit.master_status(cfg.master_ui), report["app_id"]
        )
        report["app_ui"] = f"{cfg.master_ui.rstrip('/')}/app/?appId={report['app_id']}"
    (cfg.out / "report.json").write_text(json.dumps(report, indent=2))
    table = format_report(report)
    (cfg.out / "report.txt").write_text(table + "\n")
    return report
