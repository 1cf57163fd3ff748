"""drc train-cnn | features | predict-cnn | grade: the PyTorch CNN, alone or on the cluster."""

import argparse
import importlib.util
from pathlib import Path

from jobs.cli.common import add_cluster_args, add_reports_arg, cluster_target
from jobs.cnn.config import DEVICES, GRADER_FILE, MODELS, PRECISIONS, TASKS, TrainConfig
from jobs.dataset import fs
from jobs.errors import DrcError
from jobs.features.config import BACKBONES, POOLINGS, FeaturesConfig


def need_torch() -> None:
    """One line, not a traceback, on a node without the CNN stack (python_env installs
    requirements/cnn.txt on the inventory's cnn_workers only); the driver of a distributed
    run imports torch too."""
    if importlib.util.find_spec("torch") is None:
        raise DrcError("torch", "not installed in this venv: only the hosts in the inventory's "
                                "cnn_workers get requirements/cnn.txt")  # fmt: skip


def cmd_train_cnn(args: argparse.Namespace) -> int:
    need_torch()
    cfg = TrainConfig.from_namespace(args)
    if args.distributed:
        from jobs.cluster.submit import submit_app

        job = {"train": cfg.to_dict(), "processes": args.distributed,
               "use_gpu": args.device == "cuda"}  # fmt: skip
        metrics = submit_app("train-cnn", job, args.reports or cfg.out, cluster_target(args))
    else:
        from jobs.cnn.train import train

        metrics = train(cfg)
    last = metrics["history"][-1] if metrics.get("history") else {}
    print(f"train-cnn {cfg.model}/{cfg.task} at {cfg.size} px: {metrics.get('epochs_done')} "
          f"epochs on {metrics.get('world', 1)} process(es) ({metrics.get('device')}); best "
          f"kappa {metrics.get('best_kappa', float('nan')):.3f}; last loss "
          f"{last.get('loss', float('nan')):.4f}; {fs.join(cfg.out, 'metrics.json')}")  # fmt: skip
    return 0


def cmd_features(args: argparse.Namespace) -> int:
    need_torch()
    from jobs.cluster.submit import submit_app
    from jobs.features.config import FeaturesConfig

    cfg = FeaturesConfig.from_namespace(args).resolved()
    report = submit_app("features", cfg.to_dict(), args.reports or cfg.out, cluster_target(args))
    rate = report.get("images_per_s")
    where = fs.join(cfg.out, f"size={cfg.size}")
    print(f"features of {report['images']} images ({report['features']} per image, "
          f"{cfg.model} {cfg.pooling}, {cfg.views} view(s)) -> {where}"
          + (f"; {report['seconds']:.1f} s in Spark, {rate:.1f} images/s on "
             f"{report['cores']} cores" if rate else ""))  # fmt: skip
    return 0


def cmd_predict_cnn(args: argparse.Namespace) -> int:
    need_torch()
    from jobs.cnn.predict import predict

    count = predict(args.checkpoint, args.data, Path(args.out),
                    batch_size=args.batch_size, tta=args.tta, blend=args.blend_eyes,
                    device=args.device)  # fmt: skip
    print(f"predicted {count} images -> {args.out}")
    return 0


def cmd_export_onnx(args: argparse.Namespace) -> int:
    need_torch()
    from jobs.cnn.grader import export_onnx

    out = export_onnx(Path(args.grader))
    print(f"exported {args.grader} -> {out} ({out.stat().st_size / 1e6:.1f} MB)")
    return 0


def grading_engine(requested: str, grader: Path) -> str:
    """auto: the grader's ONNX export with ONNX Runtime where it is shipped beside it (every
    node's runtime venv has ONNX Runtime; 3x faster than torch on 2 cores, float32), else
    PyTorch (the cnn_workers' venv)."""
    from jobs.cnn.grading import onnx_path

    if requested != "auto":
        return requested
    if onnx_path(grader).is_file() and importlib.util.find_spec("onnxruntime") is not None:
        return "onnx"
    return "torch"


def cmd_grade(args: argparse.Namespace) -> int:
    if args.report and not args.labels:
        raise DrcError("--report", "the report scores the grades: give --labels too")
    engine = grading_engine(args.engine, Path(args.grader))
    if engine == "onnx":
        from jobs.cnn.grading import grade_photos_onnx as grade_photos
    else:
        need_torch()
        from jobs.cnn.grader import grade_photos
    options = {"views": args.views} | ({"device": args.device} if engine == "torch" else {})
    result = grade_photos(Path(args.photos), Path(args.out), Path(args.grader), **options)
    grades, rejected = result["grades"], result["rejected"]
    counts = [sum(g == level for g in grades.values()) for level in range(5)]
    print(f"graded {len(grades)} photograph(s) in {result['seconds']:.1f} s "
          f"({result['views']} view(s) each, {engine}) -> {args.out} "
          f"(grades 0-4: {counts}); {len(rejected)} could not be graded")  # fmt: skip
    if args.labels:
        from jobs.dataset.labels import read_labels
        from jobs.metrics import bootstrap_kappa, quadratic_weighted_kappa

        truth = {i: g for i, g in read_labels(args.labels).items() if i in grades}
        if not truth:
            raise DrcError(args.labels, "labels none of the graded photographs")
        kappa = quadratic_weighted_kappa(list(truth.values()), [grades[i] for i in truth])
        low, high = bootstrap_kappa(truth, grades)
        print(f"kappa {kappa:.3f} (95 % interval {low:.3f}..{high:.3f}, subjects resampled) "
              f"on {len(truth)} labelled photograph(s)")  # fmt: skip
        if args.report:
            from jobs.report import page

            page.write_grade_report(Path(args.report), Path(args.photos), Path(args.grader),
                                    result, truth, (kappa, low, high))  # fmt: skip
            print(f"report: {page.write(Path(args.report))}")
    return 1 if rejected and not grades else 0


def register(sub) -> None:
    d = TrainConfig  # the defaults live there
    p = sub.add_parser("train-cnn", help="train the CNN (PyTorch), alone or on the cluster")
    p.add_argument("data", help="preprocess output (DATA/size=N/)")
    p.add_argument("--out", required=True, help="checkpoints, metrics.json, curve.png: a "
                   "directory or hdfs://... (--distributed on nodes that share no disk: "
                   "hdfs://)")  # fmt: skip
    p.add_argument("--size", type=int, default=d.size)
    p.add_argument("--model", choices=MODELS, default=d.model)
    p.add_argument("--task", choices=TASKS, default=d.task)
    p.add_argument("--epochs", type=int, default=d.epochs)
    p.add_argument("--batch-size", type=int, default=d.batch_size)
    p.add_argument("--lr", type=float, default=d.lr)
    p.add_argument("--validation", type=float, default=d.validation)
    p.add_argument("--seed", type=int, default=d.seed)
    p.add_argument("--patience", type=int, default=d.patience,
                   help="early stop after N flat epochs")  # fmt: skip
    p.add_argument("--workers", type=int, default=d.workers, help="data loader processes")
    p.add_argument("--augment", action=argparse.BooleanOptionalAction, default=d.augment)
    p.add_argument("--graham", action="store_true", help="Graham colour normalisation")
    p.add_argument("--class-weights", action=argparse.BooleanOptionalAction,
                   default=d.class_weights)  # fmt: skip
    p.add_argument("--balance", type=float, default=d.balance,
                   help="grade shares per epoch go as count**B (1: as is, 0: equal)")  # fmt: skip
    p.add_argument("--resume", action="store_true", help="continue from OUT/checkpoint.pt")
    p.add_argument("--device", choices=DEVICES, default=d.device)
    p.add_argument("--pretrained", action=argparse.BooleanOptionalAction, default=d.pretrained,
                   help="start an efficientnet-lite model from its ImageNet weights")  # fmt: skip
    p.add_argument("--freeze", type=int, default=d.freeze, metavar="N",
                   help="keep the backbone's first N blocks fixed (-1: its first four "
                   "stages)")  # fmt: skip
    p.add_argument("--precision", choices=PRECISIONS, default=d.precision,
                   help="auto: bfloat16 on a GPU, and on a CPU with native bfloat16 for "
                   "the pretrained backbones")  # fmt: skip
    p.add_argument("--distributed", type=int, metavar="N",
                   help="N processes on the Spark cluster (TorchDistributor)")  # fmt: skip
    add_cluster_args(p)
    add_reports_arg(p)
    p.set_defaults(func=cmd_train_cnn)

    f = FeaturesConfig
    p = sub.add_parser("features", help="the pretrained backbone's pooled features of every "
                       "image, on the cluster (LR trains on them: drc train-lr OUT)")  # fmt: skip
    p.add_argument("data", help="preprocess output (DATA/size=N/), a path or hdfs://")
    p.add_argument("--out", required=True, help="OUT/size=N/: features in the preprocess "
                   "layout (a path or hdfs://)")  # fmt: skip
    p.add_argument("--size", type=int, default=f.size)
    p.add_argument("--model", choices=BACKBONES, default=f.model)
    p.add_argument("--pooling", choices=POOLINGS, default=f.pooling)
    p.add_argument("--views", type=int, choices=(1, 8), default=f.views,
                   help="8: the mean over the dihedral views")  # fmt: skip
    p.add_argument("--batch-size", type=int, default=f.batch_size)
    p.add_argument("--threads", type=int, default=f.threads, help="torch threads per task")
    p.add_argument("--precision", choices=PRECISIONS, default=f.precision)
    p.add_argument("--partitions", type=int, default=f.partitions)
    add_cluster_args(p)
    add_reports_arg(p)
    p.set_defaults(func=cmd_features)

    p = sub.add_parser("predict-cnn", help="Kaggle submission CSV from a CNN checkpoint")
    p.add_argument("checkpoint", help="OUT/best.pt or OUT/checkpoint.pt of train-cnn (a "
                   "path or hdfs://)")  # fmt: skip
    p.add_argument("data", help="preprocess output of the images to grade")
    p.add_argument("--out", default="submission.csv")
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--tta", action="store_true", help="average the 8 dihedral views")
    p.add_argument("--blend-eyes", type=float, default=0.0, metavar="W",
                   help="mix in W of the fellow eye's score (0..1)")  # fmt: skip
    p.add_argument("--device", choices=DEVICES, default="auto")
    p.set_defaults(func=cmd_predict_cnn)

    p = sub.add_parser("grade", help="grade raw photographs with the shipped CNN (no training)")
    p.add_argument("photos", help="a directory of fundus photographs (JPEG or PNG)")
    p.add_argument("--out", default="grades.csv", help="image,level CSV")
    p.add_argument("--grader", default=str(GRADER_FILE), help="a grader file (`make grader`)")
    p.add_argument("--labels", help="image,level CSV: also print kappa against it")
    p.add_argument("--report", help="a directory: grade-report.json and report.html there")
    p.add_argument("--views", type=int, choices=(1, 8), default=None,
                   help="8: the mean over the dihedral views, as the grader was tuned (its "
                        "default); 1: 8 times faster, a little less exact")  # fmt: skip
    p.add_argument("--engine", choices=("auto", "torch", "onnx"), default="auto",
                   help="torch, or ONNX Runtime on the grader's .onnx export beside it (auto: "
                        "ONNX where the export is there)")  # fmt: skip
    p.add_argument("--device", choices=DEVICES, default="auto", help="torch's")
    p.set_defaults(func=cmd_grade)

    p = sub.add_parser("export-onnx", help="the grader as ONNX beside it (needs torch and onnx)")
    p.add_argument("--grader", default=str(GRADER_FILE), help="a grader file (`make grader`)")
    p.set_defaults(func=cmd_export_onnx)
