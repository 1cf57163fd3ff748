"""`drc`: the command line of dr-cluster. Each subcommand is one small function."""

import argparse
import json
import os
import sys
from pathlib import Path

from jobs.errors import DrcError


def sizes_arg(text: str) -> tuple[int, ...]:
    try:
        sizes = tuple(int(s) for s in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a list of integers: {text!r}") from None
    if not sizes or any(s < 1 or s > 4096 for s in sizes):
        raise argparse.ArgumentTypeError(f"sizes must lie in 1..4096: {text!r}")
    return sizes


def cmd_pipeline(args: argparse.Namespace) -> int:
    from jobs.pipeline import PipelineConfig, run

    report = run(
        PipelineConfig(
            data_dir=Path(args.data_dir),
            out=Path(args.out),
            master=args.master,
            source=args.source,
            labels=Path(args.labels) if args.labels else None,
            sizes=args.sizes,
            train_size=args.train_size,
            master_ui=args.master_ui,
            conf_dir=args.conf_dir,
            partitions=args.partitions,
            max_iter=args.max_iter,
        )
    )
    from jobs.report import format_report

    print(format_report(report))
    return 0


def cmd_stage(args: argparse.Namespace) -> int:
    from jobs.stage import stage

    result = stage(args.source, Path(args.dest))
    print(f"copied {result.copied} ({result.bytes_copied} bytes), skipped {result.skipped}")
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from jobs.report import format_report

    path = Path(args.out) / "report.json"
    if not path.is_file():
        raise DrcError(path, "no report here: run `drc pipeline` first")
    print(format_report(json.loads(path.read_text())))
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    from jobs.submit import master_status

    status = master_status(args.master_ui)
    alive = [w for w in status.get("workers", []) if w.get("state") == "ALIVE"]
    print(
        f"master {status.get('url')} {status.get('status')}: {len(alive)} ALIVE worker(s), "
        f"{status.get('cores')} cores, {len(status.get('completedapps', []))} completed app(s)"
    )
    return 0


def build_parser() -> argparse.ArgumentParser:
    default_master = os.environ.get("DRC_SPARK_MASTER", "spark://127.0.0.1:7077")
    default_ui = os.environ.get("DRC_SPARK_MASTER_UI", "http://127.0.0.1:8080")
    parser = argparse.ArgumentParser(prog="drc", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("pipeline", help="stage, preprocess, train LR, score kappa on the cluster")
    p.add_argument("--source", help="bucket to stage from (file:///dir); omit to use DATA_DIR")
    p.add_argument("--data-dir", required=True, help="the cluster's data directory")
    p.add_argument("--labels", help="labels CSV (default DATA_DIR/trainLabels.csv)")
    p.add_argument("--out", required=True, help="output directory")
    p.add_argument("--master", default=default_master)
    p.add_argument("--master-ui", default=default_ui)
    p.add_argument("--conf-dir", default=os.environ.get("SPARK_CONF_DIR"))
    p.add_argument("--sizes", type=sizes_arg, default=(16, 32, 64, 128, 256))
    p.add_argument("--train-size", type=int, default=32)
    p.add_argument("--partitions", type=int, default=4)
    p.add_argument("--max-iter", type=int, default=100)
    p.set_defaults(func=cmd_pipeline)

    p = sub.add_parser("stage", help="copy a bucket into a data directory, verified")
    p.add_argument("source", help="file:///dir or a path")
    p.add_argument("dest")
    p.set_defaults(func=cmd_stage)

    p = sub.add_parser("report", help="print the results table of a pipeline output")
    p.add_argument("out")
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("status", help="summary of the Spark master's state")
    p.add_argument("--master-ui", default=default_ui)
    p.set_defaults(func=cmd_status)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except DrcError as exc:
        print(f"drc: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("drc: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
