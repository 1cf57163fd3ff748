"""The controller's side of the Spark applications: check inputs, stage, submit, report."""

import json
import time
from dataclasses import dataclass
from pathlib import Path

from jobs import scala_build, submit
from jobs.errors import DrcError
from jobs.images import DEFAULT_SIZES
from jobs.labels import check_labels_match, list_images, read_labels
from jobs.report import format_report
from jobs.storage import transfer


@dataclass
class ClusterTarget:
    master: str
    master_ui: str | None = None
    conf_dir: str | None = None
    spark_conf: tuple[str, ...] = ()  # extra KEY=VALUE for spark-submit --conf


# The Spark applications' main file, named rather than imported: importing it would load
# pyspark, pyspark.ml, scipy and scikit-learn into the controller (1.6 s, measured).
SPARK_APPS = Path(__file__).with_name("spark_pipeline.py")

# Apps whose JVMs only schedule Python tasks. In a fresh application the C2 compiler's
# start-up work cost the preprocess job's first second ~2 core-seconds of the 2 cores
# (measured: JVM CPU in the job 3.7 -> 1.9 s, the 2,000-image job 16.2 -> 15.4 s); code
# compiled by C1 alone schedules tasks just as well. Apps with JVM compute keep C2.
SCHEDULING_ONLY_APPS = {"preprocess"}
C1_ONLY = tuple(
    f"spark.{side}.extraJavaOptions=-XX:TieredStopAtLevel=1" for side in ("driver", "executor")
)


@dataclass
class PipelineConfig:
    data_dir: Path
    out: Path
    cluster: ClusterTarget
    source: str | None = None
    labels: Path | None = None
    sizes: tuple[int, ...] = DEFAULT_SIZES
    train_size: int = 32
    partitions: int | None = None
    max_iter: int = 100
    reg: float = 0.01


def check_inputs(data_dir: Path, labels_path: Path | None) -> int:
    """Fail early, in one line, on inputs the cluster would only choke on later."""
    images = list_images(data_dir)
    if labels_path is not None:
        check_labels_match(read_labels(labels_path), images, labels_path)
    return len(images)


def submit_app(
    app: str, app_args: list[str], out: Path, cluster: ClusterTarget, jar: Path | None = None
) -> dict:
    """spark-submit one of spark_pipeline's applications (or the Scala job's `jar`, told
    by its arguments to write OUT/{app}-report.json) and return its report."""
    out.mkdir(parents=True, exist_ok=True)
    report_path = out / f"{app}-report.json"
    report_path.unlink(missing_ok=True)
    start = time.perf_counter()
    if jar is None:
        target, args, main_class = SPARK_APPS, [app, *app_args], None
    else:
        target, args, main_class = jar, app_args, scala_build.MAIN_CLASS
    submit.spark_submit(
        target, args, cluster.master, out / f"{app}-spark-submit.log", cluster.conf_dir,
        echo=lambda line: line.startswith("preprocess:"), main_class=main_class,
        spark_conf=spark_conf(app, jar, cluster),
    )  # fmt: skip
    report = json.loads(report_path.read_text())
    report["submit_s"] = time.perf_counter() - start
    if cluster.master_ui:
        status = submit.master_status(cluster.master_ui)
        report["app_state"] = submit.application_state(status, report["app_id"])
        report["app_ui"] = f"{cluster.master_ui.rstrip('/')}/app/?appId={report['app_id']}"
    report_path.write_text(json.dumps(report, indent=2))
    return report


def spark_conf(app: str, jar: Path | None, cluster: ClusterTarget) -> tuple[str, ...]:
    """The app's --conf pairs: C1-only JVMs for scheduling-only Python apps, then the
    caller's own (later pairs win in spark-submit)."""
    tuned = C1_ONLY if jar is None and app in SCHEDULING_ONLY_APPS else ()
    return (*tuned, *cluster.spark_conf)


def preprocess_args(
    data_dir: Path, labels: Path | None, out: Path, sizes, partitions: int | None
) -> list[str]:
    args = ["--input", str(data_dir.resolve()), "--out", str(out.resolve())]
    args += ["--sizes", ",".join(map(str, sizes))]
    if labels is not None:
        args += ["--labels", str(labels.resolve())]
    if partitions:
        args += ["--partitions", str(partitions)]
    return args


def run(cfg: PipelineConfig) -> dict:
    if cfg.train_size not in cfg.sizes:
        raise DrcError("--train-size", f"{cfg.train_size} is not one of --sizes {cfg.sizes}")
    stages: dict[str, float] = {}
    start = time.perf_counter()
    if cfg.source:
        staged = transfer.get(cfg.source, cfg.data_dir)
        print(staged.summary(), flush=True)
        if staged.failed:
            where, reason = staged.failed[0]
            raise DrcError(where, f"{reason} ({len(staged.failed)} objects failed to stage)")
    stages["stage"] = time.perf_counter() - start
    labels = cfg.labels or cfg.data_dir / "trainLabels.csv"
    n_images = check_inputs(cfg.data_dir, labels)
    print(f"{n_images} images in {cfg.data_dir}; submitting to {cfg.cluster.master}", flush=True)

    args = preprocess_args(cfg.data_dir, labels, cfg.out, cfg.sizes, cfg.partitions)
    args += ["--train-size", str(cfg.train_size), "--max-iter", str(cfg.max_iter)]
    args += ["--reg", str(cfg.reg)]
    report = submit_app("pipeline", args, cfg.out, cfg.cluster)
    stages.update(report.pop("timings_s"))
    stages["spark-submit total (JVM start incl.)"] = report["submit_s"]
    report["stages_s"] = stages
    (cfg.out / "report.json").write_text(json.dumps(report, indent=2))
    (cfg.out / "report.txt").write_text(format_report(report) + "\n")
    return report
