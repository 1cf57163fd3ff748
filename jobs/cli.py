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


def cluster_target(args: argparse.Namespace):
    from jobs.pipeline import ClusterTarget

    return ClusterTarget(args.master, args.master_ui, args.conf_dir, tuple(args.spark_conf))


def cmd_pipeline(args: argparse.Namespace) -> int:
    from jobs.pipeline import PipelineConfig, run
    from jobs.report import format_report

    report = run(
        PipelineConfig(
            data_dir=Path(args.data_dir),
            out=Path(args.out),
            cluster=cluster_target(args),
            source=args.source,
            labels=Path(args.labels) if args.labels else None,
            sizes=args.sizes,
            train_size=args.train_size,
            partitions=args.partitions,
            max_iter=args.max_iter,
        )
    )
    print(format_report(report))
    return 0


def cmd_preprocess(args: argparse.Namespace) -> int:
    from jobs.pipeline import check_inputs, preprocess_args, submit_app

    data_dir, out = Path(args.input), Path(args.output)
    labels = Path(args.labels) if args.labels else None
    check_inputs(data_dir, labels)
    app_args = preprocess_args(data_dir, labels, out, args.sizes, args.partitions)
    report = submit_app("preprocess", app_args + (["--csv"] if args.csv else []), out,
                        cluster_target(args))  # fmt: skip
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
        print(f"quarantine table: {out / 'quarantine' / 'quarantine.csv'}")
    return 1 if report["quarantined"] == report["images"] else 0


def cmd_stage(args: argparse.Namespace) -> int:
    from jobs.storage import transfer

    if args.action == "ls":
        objects = transfer.ls(args.url)
        for info in objects:
            print(f"{info.size:>12}  {info.etag or '-':<34}  {info.key}")
        print(f"{len(objects)} objects, {sum(i.size for i in objects)} bytes")
        return 0
    if args.action == "verify":
        checked = transfer.verify(args.url, Path(args.dest), jobs=args.jobs)
        for key in checked.missing + checked.different:
            print(f"{'missing' if key in checked.missing else 'differs'}: {key}")
        print(checked.summary())
        return 0 if not (checked.missing or checked.different) else 1
    if args.action == "put":
        result = transfer.put(Path(args.local), args.url, jobs=args.jobs)
    else:
        result = transfer.get(args.url, Path(args.dest), jobs=args.jobs)
    for where, reason in result.failed:
        print(f"drc: error: {where}: {reason}", file=sys.stderr)
    print(result.summary())
    return 1 if result.failed else 0


def cmd_unpack(args: argparse.Namespace) -> int:
    from jobs.storage.unpack import expand_parts, unpack

    result = unpack(expand_parts(args.parts), Path(args.dest))
    for name, reason in result.refused:
        print(f"skipped {name}: {reason}", file=sys.stderr)
    print(result.summary())
    return 0


def cmd_synth(args: argparse.Namespace) -> int:
    import time

    from jobs.synth import generate

    start = time.perf_counter()
    n = generate(Path(args.out), args.count, args.width, args.height, args.seed, args.workers,
                 args.balanced)  # fmt: skip
    secs = time.perf_counter() - start
    print(
        f"{n} synthetic images ({args.width}x{args.height}) and trainLabels.csv in {args.out} "
        f"({secs:.1f} s)"
    )
    return 0


def cmd_synth_features(args: argparse.Namespace) -> int:
    import time

    from jobs.synth_features import generate

    start = time.perf_counter()
    summary = generate(Path(args.out), args.count, args.sizes, args.seed)
    print(f"{args.count} synthetic images at sizes {list(args.sizes)} in {args.out} "
          f"({time.perf_counter() - start:.1f} s); grades {summary['levels']}")  # fmt: skip
    return 0


def check_train_args(args: argparse.Namespace) -> None:
    source = Path(args.data) / f"size={args.size}"
    if not source.is_dir() or not any(source.glob("*.parquet")):
        raise DrcError(source, "no Parquet for this size: run `drc preprocess` with it first")
    if not 0 < args.validation < 1:
        raise DrcError("--validation", f"{args.validation} is not a fraction in (0, 1)")
    if args.reg < 0:
        raise DrcError("--reg", f"{args.reg} is negative")
    if args.max_iter < 1:
        raise DrcError("--max-iter", f"{args.max_iter} must be at least 1")
    if args.elastic_net and args.solver != "ml":
        raise DrcError("--elastic-net", f"--solver {args.solver} is L2 only; use --solver ml")


def train_lr_submission(args: argparse.Namespace, data: Path, out: Path):
    """Arguments of the train-lr application for `args`, and the jar for the Scala solver
    (whose positional arguments are DATA SIZE REPORT)."""
    data, out = data.resolve(), out.resolve()
    common = ["--reg", str(args.reg), "--max-iter", str(args.max_iter),
              "--validation", str(args.validation), "--seed", str(args.seed)]  # fmt: skip
    if args.solver == "scala":
        from jobs.scala_build import build_jar

        report = out / "train-lr-report.json"
        return [str(data), str(args.size), str(report), *common], build_jar(data / "_build")
    app_args = ["--input", str(data), "--out", str(out), "--size", str(args.size),
                "--solver", args.solver, "--elastic-net", str(args.elastic_net), *common,
                "--kernel", args.kernel,
                "--standardize" if args.standardize else "--no-standardize"]  # fmt: skip
    app_args += ["--class-weights"] * args.class_weights + ["--compare-numpy"] * args.compare_numpy
    return app_args, None


def cmd_train_lr(args: argparse.Namespace) -> int:
    from jobs.pipeline import submit_app

    check_train_args(args)
    out = Path(args.out or Path(args.data) / f"lr-{args.solver}-{args.size}")
    app_args, jar = train_lr_submission(args, Path(args.data), out)
    r = submit_app("train-lr", app_args, out, cluster_target(args), jar=jar)
    t = r["timings_s"]
    total = r.get("load_to_kappa_s", sum(t.values()))
    print(
        f"train-lr {args.solver} size {args.size}: kappa {r['kappa']:.3f} on {r['n_scored']} "
        f"validation images; {r['iterations']} iterations; load-to-kappa "
        f"{total:.1f} s ({', '.join(f'{k} {v:.1f}' for k, v in t.items())})"
    )
    if "recall" in r:  # the Scala job reports kappa only
        recall = r["recall"].items()
        print(
            "recall per grade: "
            + ", ".join(f"{g}: {v:.2f}" if v is not None else f"{g}: -" for g, v in recall)
        )
    if "numpy_baseline" in r:
        nb = r["numpy_baseline"]
        print(
            f"numpy baseline (same model, no Spark): {nb['seconds']:.1f} s, kappa "
            f"{nb['kappa']:.3f}; Spark/numpy time ratio {nb['spark_over_numpy']:.2f}"
        )
    print(f"report: {out / 'train-lr-report.json'}")
    return 0


def cnn_config(args: argparse.Namespace):
    from jobs.cnn.train import TrainConfig

    fields = TrainConfig.__dataclass_fields__
    return TrainConfig(**{k: v for k, v in vars(args).items() if k in fields})


def cmd_train_cnn(args: argparse.Namespace) -> int:
    import dataclasses

    cfg = cnn_config(args)
    if args.distributed:
        from jobs.pipeline import submit_app

        app_args = ["--input", cfg.data, "--out", cfg.out, "--processes", str(args.distributed),
                    "--cnn-config", json.dumps(dataclasses.asdict(cfg))]  # fmt: skip
        if args.device == "cuda":
            app_args.append("--use-gpu")
        metrics = submit_app("train-cnn", app_args, Path(cfg.out), cluster_target(args))
    else:
        from jobs.cnn.train import train

        metrics = train(cfg)
    last = metrics["history"][-1] if metrics.get("history") else {}
    print(f"train-cnn {cfg.model}/{cfg.task} at {cfg.size} px: {metrics.get('epochs_done')} "
          f"epochs on {metrics.get('world', 1)} process(es) ({metrics.get('device')}); best "
          f"kappa {metrics.get('best_kappa', float('nan')):.3f}; last loss "
          f"{last.get('loss', float('nan')):.4f}; {Path(cfg.out) / 'metrics.json'}")  # fmt: skip
    return 0


def cmd_predict_cnn(args: argparse.Namespace) -> int:
    from jobs.cnn.predict import predict

    count = predict(Path(args.checkpoint), Path(args.data), Path(args.out),
                    batch_size=args.batch_size, tta=args.tta, blend=args.blend_eyes,
                    device=args.device)  # fmt: skip
    print(f"predicted {count} images -> {args.out}")
    return 0


def cmd_predict(args: argparse.Namespace) -> int:
    from jobs.predict import write_submission

    n = write_submission(Path(args.model), Path(args.data), Path(args.out))
    print(f"{n} predictions written to {args.out}")
    return 0


def cmd_sizing(args: argparse.Namespace) -> int:
    from jobs.sizing import seed_rule_executors, size_cluster

    try:
        sizing = size_cluster(args.nodes, args.cores, args.ram_gb, args.data_gb, args.manager)
    except ValueError as exc:
        raise DrcError("drc sizing", str(exc)) from None
    print(sizing.flags())
    for reason in sizing.reasons:
        print(f"  - {reason}")
    print(f"  (the 2015 rule floor(N*M/(N-1))-1 gives "
          f"{seed_rule_executors(args.nodes, args.cores)} executors)")  # fmt: skip
    return 0


def cmd_bench_grid(args: argparse.Namespace) -> int:
    import dataclasses

    from jobs import grid
    from jobs.pipeline import submit_app

    check_train_args(args)
    data = Path(args.data)
    source = data / f"size={args.size}"
    data_gb = sum(p.stat().st_size for p in source.glob("*.parquet")) / 1e9
    rows = []
    for point in grid.grid_points(args.total_cores, args.executor_cores, args.executor_memory):
        out = Path(args.out) / f"c{point.executor_cores}-m{point.executor_memory_gb}"
        target = dataclasses.replace(cluster_target(args), spark_conf=grid.spark_conf(point))
        app_args, _ = train_lr_submission(args, data, out)
        try:
            report = submit_app("train-lr", app_args, out, target)
            minutes = report["load_to_kappa_s"] / 60
        except DrcError:
            log = (out / "train-lr-spark-submit.log").read_text(errors="replace")
            if not grid.is_oom(log):
                raise
            minutes = None
        rows.append(grid.row(args.size, data_gb, args.nodes, args.total_cores, args.ram_gb,
                             point, minutes))  # fmt: skip
        print(", ".join(f"{k}: {v}" for k, v in rows[-1].items()), flush=True)
    grid.write_csv(rows, Path(args.out) / "grid.csv")
    grid.plot(rows, grid.read_seed(Path(args.seed_csv)), Path(args.out) / "grid.png")
    print(f"written {Path(args.out) / 'grid.csv'} and grid.png")
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


DEFAULT_MASTER = os.environ.get("DRC_SPARK_MASTER", "spark://127.0.0.1:7077")
DEFAULT_MASTER_UI = os.environ.get("DRC_SPARK_MASTER_UI", "http://127.0.0.1:8080")


def add_cluster_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--master", default=DEFAULT_MASTER, help="spark://host:port")
    p.add_argument("--master-ui", default=DEFAULT_MASTER_UI, help="the master's web UI")
    p.add_argument(
        "--conf-dir",
        default=os.environ.get("SPARK_CONF_DIR"),
        help="Spark configuration directory rendered by the spark role",
    )
    p.add_argument("--spark-conf", action="append", default=[], metavar="KEY=VALUE",
                   help="extra spark-submit --conf (repeatable)")  # fmt: skip


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="drc", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("pipeline", help="stage, preprocess, train LR, score kappa on the cluster")
    p.add_argument("--source", help="bucket to stage from (file:///dir); omit to use DATA_DIR")
    p.add_argument("--data-dir", required=True, help="the cluster's data directory")
    p.add_argument("--labels", help="labels CSV (default DATA_DIR/trainLabels.csv)")
    p.add_argument("--out", required=True, help="output directory")
    add_cluster_args(p)
    p.add_argument("--sizes", type=sizes_arg, default=(16, 32, 64, 128, 256))
    p.add_argument("--train-size", type=int, default=32)
    p.add_argument("--partitions", type=int)
    p.add_argument("--max-iter", type=int, default=100)
    p.set_defaults(func=cmd_pipeline)

    p = sub.add_parser("preprocess", help="crop and resize photographs into Parquet per size")
    p.add_argument("input", help="directory of photographs")
    p.add_argument("output", help="output directory (OUTPUT/size=N/, quarantine/, _SUCCESS)")
    p.add_argument("--labels", help="trainLabels.csv (omit for test images: level is null)")
    add_cluster_args(p)
    p.add_argument("--sizes", type=sizes_arg, default=(16, 32, 64, 128, 256))
    p.add_argument("--partitions", type=int)
    p.add_argument("--csv", action="store_true", help="also write the 2015 flattened text")
    p.set_defaults(func=cmd_preprocess)

    stage = sub.add_parser("stage", help="move data between stores and directories, verified")
    stage_sub = stage.add_subparsers(dest="action", required=True)
    url_help = "file:///dir, swift://container/prefix or s3://bucket/prefix"
    p = stage_sub.add_parser("put", help="upload a directory (large files as segments)")
    p.add_argument("local")
    p.add_argument("url", help=url_help)
    p = stage_sub.add_parser("get", help="download every object; re-run fetches only the rest")
    p.add_argument("url", help=url_help)
    p.add_argument("dest")
    p = stage_sub.add_parser("verify", help="compare a directory with the store")
    p.add_argument("url", help=url_help)
    p.add_argument("dest")
    p = stage_sub.add_parser("ls", help="list objects: size, ETag, name")
    p.add_argument("url", help=url_help)
    for p in stage_sub.choices.values():
        p.add_argument("--jobs", type=int, default=8, help="parallel transfers")
        p.set_defaults(func=cmd_stage)
    p = stage_sub.add_parser("unpack", help="extract a split zip (PART1 PART2 ...) as one")
    p.add_argument("parts", nargs="+", help="the parts in order, or one glob like 'train.zip.*'")
    p.add_argument("dest")
    p.set_defaults(func=cmd_unpack)

    p = sub.add_parser("synth", help="write synthetic fundus JPEGs and trainLabels.csv")
    p.add_argument("out")
    p.add_argument("--count", type=int, required=True)
    p.add_argument("--width", type=int, default=3888)
    p.add_argument("--height", type=int, default=2592)
    p.add_argument("--seed", type=int, default=2015)
    p.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    p.add_argument("--balanced", action="store_true", help="equal grade shares (CNN tests)")
    p.set_defaults(func=cmd_synth)

    p = sub.add_parser("synth-features", help="write preprocess-layout Parquet directly")
    p.add_argument("out")
    p.add_argument("--count", type=int, default=35126)
    p.add_argument("--size", dest="sizes", type=sizes_arg, default=(128,))
    p.add_argument("--seed", type=int, default=2015)
    p.set_defaults(func=cmd_synth_features)

    p = sub.add_parser("train-lr", help="multinomial logistic regression on the cluster")
    p.add_argument("data", help="preprocess output (DATA/size=N/)")
    p.add_argument("--size", type=int, default=128)
    p.add_argument("--out", help="default DATA/lr-SOLVER-SIZE")
    add_cluster_args(p)
    p.add_argument("--solver", choices=["blocks", "ml", "scala"], default="blocks",
                   help="blocks: uint8 blocks + L-BFGS (fast); ml: pyspark.ml; "
                        "scala: the same spark.ml model as a packaged Scala job")  # fmt: skip
    p.add_argument("--reg", type=float, default=0.01)
    p.add_argument("--elastic-net", type=float, default=0.0)
    p.add_argument("--max-iter", type=int, default=100)
    p.add_argument("--validation", type=float, default=0.2)
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--class-weights", action="store_true", help="balance the grades")
    p.add_argument("--standardize", action=argparse.BooleanOptionalAction, default=True)
    p.add_argument(
        "--compare-numpy",
        action="store_true",
        help="also fit the same model without Spark and report the time ratio",
    )
    p.add_argument("--kernel", choices=["fused", "numpy"], default="fused",
                   help="blocks gradient kernel: fused (numba, default) or numpy")  # fmt: skip
    p.set_defaults(func=cmd_train_lr)

    p = sub.add_parser("predict", help="Kaggle submission CSV (image,level) from a model")
    p.add_argument("model", help="model.npz written by train-lr")
    p.add_argument("data", help="preprocess output of the images to grade")
    p.add_argument("--out", default="submission.csv")
    p.set_defaults(func=cmd_predict)

    p = sub.add_parser("train-cnn", help="train the CNN (PyTorch), alone or on the cluster")
    p.add_argument("data", help="preprocess output (DATA/size=N/)")
    p.add_argument("--out", required=True, help="checkpoints, metrics.json, curve.png")
    p.add_argument("--size", type=int, default=128)
    p.add_argument("--model", choices=["seed2015", "drnet"], default="drnet")
    p.add_argument("--task", choices=["binary04", "grade", "ordinal"], default="ordinal")
    p.add_argument("--epochs", type=int, default=30)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--validation", type=float, default=0.2)
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--patience", type=int, default=5, help="early stop after N flat epochs")
    p.add_argument("--workers", type=int, default=2, help="data loader processes")
    p.add_argument("--augment", action=argparse.BooleanOptionalAction, default=True)
    p.add_argument("--graham", action="store_true", help="Graham colour normalisation")
    p.add_argument("--class-weights", action=argparse.BooleanOptionalAction, default=True)
    p.add_argument("--resume", action="store_true", help="continue from OUT/checkpoint.pt")
    p.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto")
    p.add_argument("--distributed", type=int, metavar="N",
                   help="N processes on the Spark cluster (TorchDistributor)")  # fmt: skip
    add_cluster_args(p)
    p.set_defaults(func=cmd_train_cnn)

    p = sub.add_parser("predict-cnn", help="Kaggle submission CSV from a CNN checkpoint")
    p.add_argument("checkpoint", help="OUT/best.pt or OUT/checkpoint.pt of train-cnn")
    p.add_argument("data", help="preprocess output of the images to grade")
    p.add_argument("--out", default="submission.csv")
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--tta", action="store_true", help="average the 8 dihedral views")
    p.add_argument("--blend-eyes", type=float, default=0.0, metavar="W",
                   help="mix in W of the fellow eye's score (0..1)")  # fmt: skip
    p.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto")
    p.set_defaults(func=cmd_predict_cnn)

    p = sub.add_parser("sizing", help="spark-submit flags for a cluster shape, and why")
    p.add_argument("--nodes", type=int, required=True)
    p.add_argument("--cores", type=int, required=True, help="cores per node")
    p.add_argument("--ram-gb", type=float, required=True, help="RAM per node")
    p.add_argument("--data-gb", type=float, default=0.0, help="data to cache")
    p.add_argument("--manager", choices=["standalone", "yarn"], default="standalone")
    p.set_defaults(func=cmd_sizing)

    p = sub.add_parser("bench-grid", help="LR over executor settings: the 2015 grid, drawn")
    p.add_argument("data")
    p.add_argument("--size", type=int, default=64)
    p.add_argument("--out", default="bench/results/grid")
    add_cluster_args(p)
    p.add_argument("--solver", choices=["blocks", "ml"], default="ml")
    p.add_argument("--max-iter", type=int, default=100)
    p.add_argument(
        "--executor-cores", type=lambda t: [int(x) for x in t.split(",")], default=[1, 2]
    )
    p.add_argument(
        "--executor-memory",
        type=lambda t: [int(x) for x in t.split(",")],
        default=[1, 2],
        help="GB, comma-separated",
    )
    p.add_argument("--nodes", type=int, default=1)
    p.add_argument("--total-cores", type=int, default=os.cpu_count() or 1)
    p.add_argument("--ram-gb", type=float, default=24)
    p.add_argument(
        "--seed-csv",
        default=str(Path(__file__).resolve().parents[2] / "shared/seed/spark_lr_perf.csv"),
    )
    p.set_defaults(func=cmd_bench_grid, validation=0.2, reg=0.01, elastic_net=0.0, seed=42,
                   standardize=True, class_weights=False, compare_numpy=False,
                   kernel="fused")  # fmt: skip

    p = sub.add_parser("report", help="print the results table of a pipeline output")
    p.add_argument("out")
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("status", help="summary of the Spark master's state")
    p.add_argument("--master-ui", default=DEFAULT_MASTER_UI)
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
