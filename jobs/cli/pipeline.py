"""drc pipeline | preprocess | report | status: the cluster's stages and its state."""

import argparse
import json

from jobs.cli.common import (
    DEFAULT_MASTER_UI,
    add_cluster_args,
    add_reports_arg,
    cluster_target,
    sizes_arg,
)
from jobs.dataset import layout
from jobs.errors import DrcError
from jobs.lr.config import LRConfig
from jobs.preprocess.config import NORMALISATIONS, PreprocessConfig


def cmd_pipeline(args: argparse.Namespace) -> int:
    from jobs.cluster.pipeline import PipelineConfig, run
    from jobs.cluster.report import format_report

    cfg = PipelineConfig.build(
        args.data_dir, args.out, labels=args.labels,
        source=args.source, stage=args.stage, train_size=args.train_size, sizes=args.sizes,
        partitions=args.partitions, max_iter=args.max_iter, normalise=args.normalise,
        seed=args.seed,
    )  # fmt: skip
    table = run(cfg, cluster_target(args), reports=args.reports, namenode_ui=args.namenode_ui,
                data_source=args.data_source)  # fmt: skip
    print(format_report(table))
    return 0


def cmd_preprocess(args: argparse.Namespace) -> int:
    from jobs.cluster.submit import submit_app

    cfg = PreprocessConfig(args.input, args.output, args.labels, args.sizes, args.partitions,
                           seed_csv=args.csv, normalise=args.normalise)  # fmt: skip
    cfg.check_inputs()
    cfg = cfg.resolved()
    out = cfg.output
    report = submit_app("preprocess", cfg.to_dict(), out, cluster_target(args))
    rate = report["images_per_s"]
    print(
        f"preprocessed {report['images']} images into {out} (sizes {report['sizes']}; "
        f"written now: {report['sizes_written'] or 'none, all complete'}): "
        f"{report['quarantined']} quarantined {report['quarantine_reasons']}, "
        f"{report['seconds']:.1f} s in Spark"
        + (f", {rate:.1f} images/s" if rate else "")
        + f"; application {report['app_id']}"
    )
    if report["quarantined"]:
        print(f"quarantine table: {layout.quarantine_dir(out)}")
    return 1 if report["quarantined"] == report["images"] else 0


def cmd_report(args: argparse.Namespace) -> int:
    from jobs.cluster.report import format_report

    path = layout.pipeline_report(args.out)
    if not path.is_file():
        raise DrcError(path, "no report here: run `drc pipeline` first")
    print(format_report(json.loads(path.read_text())))
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    from jobs.cluster.submit import master_status

    status = master_status(args.master_ui)
    alive = [w for w in status.get("workers", []) if w.get("state") == "ALIVE"]
    print(
        f"master {status.get('url')} {status.get('status')}: {len(alive)} ALIVE worker(s), "
        f"{status.get('cores')} cores, {len(status.get('completedapps', []))} completed app(s)"
    )
    return 0


def add_normalise_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--normalise", choices=NORMALISATIONS, default=PreprocessConfig.normalise,
                   help="equalize: each colour channel's histogram, as the eyepacs-256 set "
                   "was processed (raw camera photographs then look like it)")  # fmt: skip


def register(sub) -> None:
    from jobs.cluster.pipeline import DEFAULT_TRAIN_SIZE

    p = sub.add_parser("pipeline", help="stage, preprocess, train LR, score kappa on the cluster")
    p.add_argument("--source", help="the photographs' bucket: a swift:// or s3:// one is read "
                   "one hop by the preprocess tasks (nothing staged); file:///dir is staged "
                   "into DATA_DIR; omit to use DATA_DIR")  # fmt: skip
    p.add_argument("--stage", action="store_true", help="the 2015 flow for a swift:// or s3:// "
                   "--source too: stage it into DATA_DIR, then preprocess from there")  # fmt: skip
    p.add_argument("--data-dir", help="the cluster's data directory (a path, hdfs://, or a "
                   "swift:// s3:// prefix read one hop); needed unless --source is "
                   "a store")  # fmt: skip
    p.add_argument("--labels", help="labels CSV (default DATA_DIR/trainLabels.csv)")
    p.add_argument("--out", required=True, help="output directory (a path or hdfs://)")
    p.add_argument("--namenode-ui", help="the HDFS NameNode's web UI, linked in the report "
                   "(default: http://NAMENODE:9870 of an hdfs:// DATA_DIR or OUT)")  # fmt: skip
    p.add_argument("--data-source", help="what the photographs are, one line for the report")
    add_reports_arg(p)
    add_cluster_args(p)
    p.add_argument("--sizes", type=sizes_arg, default=PreprocessConfig.sizes)
    p.add_argument("--train-size", type=int, default=DEFAULT_TRAIN_SIZE)
    p.add_argument("--partitions", type=int)
    p.add_argument("--max-iter", type=int, default=LRConfig.max_iter)
    p.add_argument("--seed", type=int, default=LRConfig.seed, help="the subject split's seed")
    add_normalise_arg(p)
    p.set_defaults(func=cmd_pipeline)

    p = sub.add_parser("preprocess", help="crop and resize photographs into Parquet per size")
    p.add_argument("input", help="directory of photographs (a path, hdfs://), or a swift:// "
                   "s3:// prefix the tasks fetch them from, one hop")  # fmt: skip
    p.add_argument("output", help="output directory (OUTPUT/size=N/, quarantine/, _SUCCESS)")
    p.add_argument("--labels", help="trainLabels.csv (omit for test images: level is null)")
    add_cluster_args(p)
    p.add_argument("--sizes", type=sizes_arg, default=PreprocessConfig.sizes)
    p.add_argument("--partitions", type=int)
    p.add_argument("--csv", action="store_true", help="also write the 2015 flattened text")
    add_normalise_arg(p)
    p.set_defaults(func=cmd_preprocess)

    p = sub.add_parser("report", help="print the results table of a pipeline output")
    p.add_argument("out")
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("status", help="summary of the Spark master's state")
    p.add_argument("--master-ui", default=DEFAULT_MASTER_UI)
    p.set_defaults(func=cmd_status)
