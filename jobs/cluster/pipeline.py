"""`drc pipeline` on the controller: stage the data, check it, submit the pipeline app
(preprocess, then the train-lr job's own code on one size), write the results table.

Photographs in an object store (swift://, s3://) are read one hop: the preprocess tasks
fetch them from the store themselves, nothing is staged. `stage=True` keeps the 2015 flow
(stage into the data directory first, preprocess from there)."""

import json
import time
from dataclasses import dataclass

from jobs.cluster.report import format_report
from jobs.cluster.submit import ClusterTarget, submit_app
from jobs.dataset import fs, layout
from jobs.errors import DrcError
from jobs.lr.config import LRConfig
from jobs.preprocess.config import PreprocessConfig
from jobs.storage import is_object_store, transfer

DEFAULT_TRAIN_SIZE = 32


@dataclass(frozen=True)
class PipelineConfig:
    preprocess: PreprocessConfig  # input = the cluster's data directory, output = OUT
    lr: LRConfig  # data = OUT, out = OUT/lr-blocks-SIZE (the model drc predict reads)
    source: str | None = None  # a store URL to stage from first

    @classmethod
    def build(cls, data_dir: fs.PathLike | None, out: fs.PathLike, *,
              labels: fs.PathLike | None = None, source: str | None = None, stage: bool = False,
              train_size: int = DEFAULT_TRAIN_SIZE, **settings) -> "PipelineConfig":  # fmt: skip
        """From the CLI's settings: preprocess's by name, the rest LR's. A store `source`
        is preprocess's input itself unless `stage` (the 2015 flow) asks for a copy."""
        if source and is_object_store(source) and not stage:
            data_dir, source = source, None  # one hop: the tasks fetch from the store
        if data_dir is None:
            raise DrcError("--data-dir", "needed unless --source is a swift:// or s3:// store")
        prep_names = {"sizes", "partitions", "seed_csv", "normalise"}
        prep = PreprocessConfig(
            input=str(data_dir), output=str(out),
            labels=str(labels or fs.join(data_dir, "trainLabels.csv")),
            **{k: v for k, v in settings.items() if k in prep_names and v is not None},
        )  # fmt: skip
        if train_size not in prep.sizes:
            raise DrcError("--train-size", f"{train_size} is not one of --sizes {prep.sizes}")
        lr = LRConfig(data=str(out), out=str(layout.lr_out(out, "blocks", train_size)),
                      size=train_size,
                      **{k: v for k, v in settings.items() if k not in prep_names})  # fmt: skip
        return cls(prep, lr, source)


def stage(source: str, data_dir: fs.PathLike) -> None:
    if fs.is_remote(data_dir):
        raise DrcError("--source", f"stages to a local --data-dir; into {data_dir} with "
                                   "`drc stage put` (hadoop.yml does)")  # fmt: skip
    staged = transfer.get(source, data_dir)
    print(staged.summary(), flush=True)
    if staged.failed:
        where, reason = staged.failed[0]
        raise DrcError(where, f"{reason} ({len(staged.failed)} objects failed to stage)")


def results(app_report: dict, stages: dict[str, float]) -> dict:
    """The pipeline's results table (report.json) from the app's report."""
    prep, lr = app_report["preprocess"], app_report["lr"]
    return {
        "images_read": prep["images"],
        "images_quarantined": prep["quarantined"],
        "quarantine": app_report["quarantine"],
        "sizes": prep["sizes"],
        "train_size": lr["size"],
        "n_train": lr["n_train"],
        "n_eval": lr["n_scored"],
        "eval_set": lr["eval_set"],
        "kappa": lr["kappa"],
        "confusion": lr["confusion"],
        "recall": lr.get("recall"),
        "predictions": lr.get("predictions", []),
        "normalise": prep.get("normalise", "none"),
        "model": lr["model"],
        "stages_s": stages,
        **{k: app_report.get(k) for k in ("app_id", "app_state", "master", "app_ui", "driver_ui")},
    }


def run(cfg: PipelineConfig, cluster: ClusterTarget, reports: fs.PathLike | None = None,
        namenode_ui: str | None = None, data_source: str | None = None) -> dict:  # fmt: skip
    """The pipeline app; its reports and logs go to REPORTS (default: OUT's run directory).
    NAMENODE_UI (default: from an hdfs:// input or output) is linked in the report, and
    DATA_SOURCE (what the photographs are) heads it."""
    out = cfg.preprocess.output
    reports = reports or out
    start = time.perf_counter()
    if cfg.source:
        stage(cfg.source, cfg.preprocess.input)
    stages = {"stage": time.perf_counter() - start}
    n_images = cfg.preprocess.check_inputs()
    print(f"{n_images} images in {cfg.preprocess.input}; submitting to {cluster.master}",
          flush=True)  # fmt: skip
    config = {"preprocess": cfg.preprocess.resolved().to_dict(), "lr": cfg.lr.resolved().to_dict()}
    report = submit_app("pipeline", config, reports, cluster)
    stages["preprocess"] = report["preprocess_s"]
    stages.update({f"lr {k}": v for k, v in report["lr"]["timings_s"].items()})
    stages["spark-submit total (JVM start incl.)"] = report["submit_s"]
    table = results(report, stages)
    table["namenode_ui"] = namenode_ui or fs.namenode_ui(cfg.preprocess.input, out)
    table["out"] = str(out)
    if data_source:
        table["data_source"] = data_source
    if table["predictions"]:
        from jobs.report.page import interval

        table["kappa_95"] = interval([tuple(r) for r in table["predictions"]])
    layout.pipeline_report(reports).write_text(json.dumps(table, indent=2))
    layout.pipeline_report(reports, "txt").write_text(format_report(table) + "\n")
    from jobs.report import page

    page.write(reports)
    return table
