"""What several command groups share: the cluster flags and the --sizes type."""

import argparse
import os

from jobs.errors import DrcError
from jobs.preprocess.config import check_sizes

DEFAULT_MASTER = os.environ.get("DRC_SPARK_MASTER", "spark://127.0.0.1:7077")
DEFAULT_MASTER_UI = os.environ.get("DRC_SPARK_MASTER_UI", "http://127.0.0.1:8080")


def sizes_arg(text: str) -> tuple[int, ...]:
    try:
        return check_sizes(int(s) for s in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a list of integers: {text!r}") from None
    except DrcError as exc:
        raise argparse.ArgumentTypeError(exc.reason) from None


def ints_arg(text: str) -> list[int]:
    try:
        return [int(x) for x in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a list of integers: {text!r}") from None


def add_reports_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--reports", help="a local directory for the reports and the spark-submit "
                   "log (default: OUT, or for an hdfs:// OUT ~/.cache/drc/runs/...)")  # fmt: skip


def add_cluster_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--master", default=DEFAULT_MASTER, help="spark://host:port or local[N]")
    ui_help = f"a standalone master's UI (default: its host, port 8080; {DEFAULT_MASTER_UI})"
    p.add_argument("--master-ui", help=ui_help)
    p.add_argument(
        "--conf-dir",
        default=os.environ.get("SPARK_CONF_DIR"),
        help="Spark configuration directory rendered by the spark role",
    )
    p.add_argument("--spark-conf", action="append", default=[], metavar="KEY=VALUE",
                   help="extra spark-submit --conf (repeatable)")  # fmt: skip


def cluster_target(args: argparse.Namespace):
    from jobs.cluster.submit import ClusterTarget

    ui = args.master_ui or (DEFAULT_MASTER_UI if args.master == DEFAULT_MASTER else None)
    return ClusterTarget(args.master, ui, args.conf_dir, tuple(args.spark_conf))
