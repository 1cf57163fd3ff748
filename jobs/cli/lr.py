"""drc train-lr | predict | sizing | bench-grid: the seed's model and its cluster sizing."""

import argparse
import os
from dataclasses import replace
from pathlib import Path

from jobs.cli.common import add_cluster_args, add_reports_arg, cluster_target, ints_arg
from jobs.cluster.scala_build import DEFAULT_JAR, Sbt
from jobs.dataset import layout
from jobs.errors import DrcError
from jobs.lr.config import KERNELS, OUTPUTS, SOLVERS, LRConfig


def lr_config(args: argparse.Namespace) -> LRConfig:
    out = args.out or str(layout.lr_out(args.data, args.solver, args.size))
    cfg = LRConfig.from_namespace(argparse.Namespace(**{**vars(args), "out": out}))
    cfg.check_data()
    return cfg


def cmd_train_lr(args: argparse.Namespace) -> int:
    from jobs.cluster.train_lr import submit

    cfg = lr_config(args)
    r = submit(cfg, cluster_target(args), jar=Path(args.jar), reports=args.reports)
    t = r["timings_s"]
    total = r.get("load_to_kappa_s", sum(t.values()))
    print(
        f"train-lr {cfg.solver} size {cfg.size}: kappa {r['kappa']:.3f} on {r['n_scored']} "
        f"{r.get('eval_set', 'validation')} images; {r['iterations']} iterations; load-to-kappa "
        f"{total:.1f} s ({', '.join(f'{k} {v:.1f}' for k, v in t.items())})"
    )
    if "recall" in r:  # the Scala job reports kappa only
        recall = r["recall"].items()
        print(
            "recall per grade: "
            + ", ".join(f"{g}: {v:.2f}" if v is not None else f"{g}: -" for g, v in recall)
        )
    if "argmax_kappa" in r:
        print(f"ordinal output (thresholds {r['thresholds']}); argmax would score kappa "
              f"{r['argmax_kappa']:.3f}")  # fmt: skip
    if "numpy_baseline" in r:
        nb = r["numpy_baseline"]
        print(
            f"numpy baseline (same model, no Spark): {nb['seconds']:.1f} s, kappa "
            f"{nb['kappa']:.3f}; Spark/numpy time ratio {nb['spark_over_numpy']:.2f}"
        )
    print(f"report: {layout.app_report(args.reports or cfg.out, 'train-lr')}")
    return 0


def cmd_build_scala(args: argparse.Namespace) -> int:
    from jobs.cluster import scala_build
    from jobs.cluster.submit import spark_home

    sbt = scala_build.Sbt(launcher=Path(args.launcher), home=Path(args.sbt_home),
                          repositories=Path(args.repositories), java=Path(args.java),
                          run_as=args.run_as)  # fmt: skip
    project = Path(args.project)
    jar, seconds = scala_build.build(project, sbt, Path(args.spark_home or spark_home()))
    print(f"built {jar} in {seconds:.1f} s" if seconds is not None else f"{jar} is up to date")
    return 0


def cmd_predict(args: argparse.Namespace) -> int:
    from jobs.lr.model import write_submission

    n = write_submission(args.model, args.data, Path(args.out))
    print(f"{n} predictions written to {args.out}")
    return 0


def cmd_sizing(args: argparse.Namespace) -> int:
    from jobs.cluster.sizing import seed_rule_executors, size_cluster

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
    from jobs.cluster import grid
    from jobs.cluster.train_lr import submit

    base = lr_config(argparse.Namespace(**{**vars(args), "out": args.out}))
    source = base.source()
    data_gb = sum(p.stat().st_size for p in source.glob("*.parquet")) / 1e9
    rows = []
    for point in grid.grid_points(args.total_cores, args.executor_cores, args.executor_memory):
        out = Path(args.out) / f"c{point.executor_cores}-m{point.executor_memory_gb}"
        target = replace(cluster_target(args), spark_conf=grid.spark_conf(point))
        try:
            report = submit(replace(base, out=str(out)), target)
            minutes = report["load_to_kappa_s"] / 60
        except DrcError:
            if not grid.is_oom(layout.submit_log(out, "train-lr").read_text(errors="replace")):
                raise
            minutes = None
        rows.append(grid.row(args.size, data_gb, args.nodes, args.total_cores, args.ram_gb,
                             point, minutes))  # fmt: skip
        print(", ".join(f"{k}: {v}" for k, v in rows[-1].items()), flush=True)
    grid.write_csv(rows, Path(args.out) / "grid.csv")
    grid.plot(rows, grid.read_seed(Path(args.seed_csv)), Path(args.out) / "grid.png")
    print(f"written {Path(args.out) / 'grid.csv'} and grid.png")
    return 0


def add_lr_settings(p: argparse.ArgumentParser, solvers=SOLVERS, solver=LRConfig.solver) -> None:
    p.add_argument("--size", type=int, default=LRConfig.size)
    p.add_argument("--solver", choices=solvers, default=solver,
                   help="blocks: uint8 blocks + L-BFGS (fast); ml: pyspark.ml; "
                        "scala: the same spark.ml model as a packaged Scala job")  # fmt: skip
    p.add_argument("--reg", type=float, default=LRConfig.reg)
    p.add_argument("--max-iter", type=int, default=LRConfig.max_iter)
    add_cluster_args(p)


def register(sub) -> None:
    p = sub.add_parser("train-lr", help="multinomial logistic regression on the cluster")
    p.add_argument("data", help="preprocess output (DATA/size=N/)")
    p.add_argument("--out", help="default DATA/lr-SOLVER-SIZE")
    add_reports_arg(p)
    add_lr_settings(p)
    p.add_argument("--elastic-net", type=float, default=LRConfig.elastic_net)
    p.add_argument("--validation", type=float, default=LRConfig.validation)
    p.add_argument("--seed", type=int, default=LRConfig.seed)
    p.add_argument("--class-weights", action="store_true", help="balance the grades")
    p.add_argument("--standardize", action=argparse.BooleanOptionalAction,
                   default=LRConfig.standardize)  # fmt: skip
    p.add_argument("--compare-numpy", action="store_true",
                   help="also fit the model without Spark; report the time ratio")  # fmt: skip
    p.add_argument("--kernel", choices=KERNELS, default=LRConfig.kernel,
                   help="blocks gradient kernel: fused (numba, default) or numpy")  # fmt: skip
    p.add_argument("--output", choices=OUTPUTS, default=LRConfig.output,
                   help="grades by argmax, or ordinal: the expected grade cut at thresholds "
                   "fitted for kappa (blocks solver)")  # fmt: skip
    p.add_argument(
        "--jar",
        default=str(DEFAULT_JAR),
        help="the Scala job's jar for --solver scala (built by the sbt role)",
    )
    p.set_defaults(func=cmd_train_lr)

    p = sub.add_parser("build-scala", help="sbt package the Scala job (when a source changed)")
    p.add_argument("project", help="the sbt project (a copy of jobs/scala)")
    p.add_argument("--launcher", required=True, help="sbt-launch.jar")
    p.add_argument("--sbt-home", required=True, help="sbt's caches: boot, coursier, ivy")
    p.add_argument("--repositories", required=True, help="sbt's repositories file")
    p.add_argument("--spark-home", help="Spark whose jars it compiles against (default: "
                   "$SPARK_HOME or the pyspark wheel's)")  # fmt: skip
    p.add_argument("--java", default=str(Sbt.java))
    p.add_argument("--run-as", help="run sbt as this user (setpriv)")
    p.set_defaults(func=cmd_build_scala)

    p = sub.add_parser("predict", help="Kaggle submission CSV (image,level) from a model")
    p.add_argument("model", help="model.npz written by train-lr or pipeline")
    p.add_argument("data", help="preprocess output of the images to grade")
    p.add_argument("--out", default="submission.csv")
    p.set_defaults(func=cmd_predict)

    p = sub.add_parser("sizing", help="spark-submit flags for a cluster shape, and why")
    p.add_argument("--nodes", type=int, required=True)
    p.add_argument("--cores", type=int, required=True, help="cores per node")
    p.add_argument("--ram-gb", type=float, required=True, help="RAM per node")
    p.add_argument("--data-gb", type=float, default=0.0, help="data to cache")
    p.add_argument("--manager", choices=["standalone", "yarn"], default="standalone")
    p.set_defaults(func=cmd_sizing)

    p = sub.add_parser("bench-grid", help="LR over executor settings: the 2015 grid, drawn")
    p.add_argument("data")
    p.add_argument("--out", default="bench/results/grid")
    add_lr_settings(p, solvers=("blocks", "ml"), solver="ml")
    p.add_argument("--executor-cores", type=ints_arg, default=[1, 2])
    p.add_argument("--executor-memory", type=ints_arg, default=[1, 2], help="GB, comma-separated")
    p.add_argument("--nodes", type=int, default=1)
    p.add_argument("--total-cores", type=int, default=os.cpu_count() or 1)
    p.add_argument("--ram-gb", type=float, default=24)
    p.add_argument(
        "--seed-csv",
        default=str(Path(__file__).resolve().parents[3] / "shared/seed/spark_lr_perf.csv"),
    )
    p.set_defaults(func=cmd_bench_grid, size=64)
